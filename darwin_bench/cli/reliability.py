"""``darwin-bench reliability``: fault-injection harnesses that measure and print JSON.

- ``reliability crash``: SIGKILL real ``darwin-bench run`` processes at random points, resume
  them, and check that every finished log equals an uninterrupted run's
  (:mod:`darwin_bench.reliability.crash`).
- ``reliability workers``: what a time limit costs per evaluation
  (:mod:`darwin_bench.reliability.overhead`).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from darwin_bench.cli.common import out_folder, positive_int, seed_int


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "reliability", help="fault injection: kill runs and resume them, compare the logs"
    )
    sub = parser.add_subparsers(dest="reliability_command", metavar="HARNESS", required=True)
    crash = sub.add_parser("crash", help="SIGKILL runs at random points, resume, compare logs")
    crash.add_argument("--kills", type=positive_int, default=60, help="kills in all (default 60)")
    crash.add_argument(
        "--agents",
        default=None,
        help="comma-separated agents (default: random, ga, sh, evo-synthesis, ppo)",
    )
    crash.add_argument("--seed", type=seed_int, default=0, help="seed of the kill points")
    crash.add_argument(
        "--out", default=None, help="folder for the runs (default: a temporary folder)"
    )
    crash.add_argument("--json", action="store_true", help="print only the JSON report")
    crash.set_defaults(handler=main_crash)

    workers = sub.add_parser(
        "workers", help="seconds per evaluation in a time-limited worker vs in process"
    )
    workers.add_argument("--env", default="darwin_bench/Digits-MLP-v0", help="env whose task")
    workers.add_argument("--epochs", type=positive_int, default=1, help="training epochs")
    workers.add_argument(
        "--evaluations", type=positive_int, default=20, help="networks (default 20)"
    )
    workers.add_argument("--seed", type=seed_int, default=0, help="sampling seed")
    workers.add_argument("--json", action="store_true", help="print only the JSON report")
    workers.set_defaults(handler=main_workers)


def main_crash(args: argparse.Namespace) -> int:
    from darwin_bench.reliability.crash import TARGETS, crash_test

    out = out_folder("--out", args.out) if args.out is not None else None
    targets = TARGETS
    if args.agents is not None:
        names = [a.strip() for a in args.agents.split(",") if a.strip()]
        known = [t.agent for t in TARGETS]
        unknown = [a for a in names if a not in known]
        if unknown or not names or len(set(names)) != len(names):
            raise ValueError(
                f"--agents must be distinct names among {', '.join(known)}; got {args.agents!r}"
            )
        targets = tuple(t for t in TARGETS if t.agent in names)

    def say(line: str) -> None:
        if not args.json:
            print(line, file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="darwin-bench-crash-") as tmp:
        folder = out if out is not None else Path(tmp)
        report = crash_test(args.kills, folder, seed=args.seed, targets=targets, progress=say)
    print(json.dumps(report, indent=None if args.json else 2))
    return 0 if report["all_equal"] else 1


def main_workers(args: argparse.Namespace) -> int:
    import gymnasium as gym

    from darwin_bench.reliability.overhead import worker_overhead
    from darwin_bench.validation import check_choice
    from envs import framework
    from envs.registration import env_ids

    check_choice("env", args.env, env_ids())
    env = gym.make(args.env, epochs=args.epochs, measure_latency=False, budget=1)
    core = framework.search_core(env)
    report = worker_overhead(core.task, core.space, evaluations=args.evaluations, seed=args.seed)
    env.close()
    report.update({"env": args.env, "epochs": args.epochs})
    print(json.dumps(report, indent=None if args.json else 2))
    return 0
