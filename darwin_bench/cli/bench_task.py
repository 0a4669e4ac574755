"""``darwin-bench bench-task``: seconds per evaluation and the metric one network reaches.

Evaluates one genome on an env's task ``--repeats`` times, each in a fresh run (run seeds
``0..repeats-1``, so every repeat trains with its own candidate seed and nothing comes from the
cache), and prints the median wall seconds per evaluation (training, validation and test
scoring, cost measurement) with the task's metrics. This is the command behind the rows of
``docs/tasks.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from typing import Any

from rich.console import Console
from rich.table import Table

from darwin_bench.cli.common import (
    add_env_kwargs,
    env_kwargs,
    option,
    parse_genome,
    positive_int,
    print_table,
    resolve_env_option,
)


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "bench-task", help="median seconds per evaluation and metrics of one network on a task"
    )
    parser.add_argument("--env", required=True, help="a proposal env id")
    parser.add_argument("--genome", required=True, help="comma-separated gene choices")
    parser.add_argument("--repeats", type=positive_int, default=5, help="evaluations (default 5)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    add_env_kwargs(parser)
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    import darwin_bench
    from darwin_bench.evaluation.summary import summarize_evaluations
    from envs import framework
    from envs.registration import get_entry

    args.env = resolve_env_option(args.env)  # loads a plug-in named as PLUGIN:ID first
    with option("--env"):
        entry = get_entry(args.env)
    if entry.form != "proposal":
        raise ValueError(f"bench-task needs a proposal env; {args.env} is a {entry.form} env")
    repeats = args.repeats
    env = darwin_bench.make(args.env, **{**env_kwargs(args), "budget": 1})
    genome = parse_genome(args.genome)
    evaluations: list[Any] = []
    framework.add_recorder(env, evaluations.append)  # full records: test metrics too
    for seed in range(repeats):
        env.reset(seed=seed)
        env.step(genome)
    core = framework.search_core(env)
    summary = summarize_evaluations(evaluations, core.task.metric)
    summary.update(
        {
            "env": args.env,
            "genome": genome,
            "fidelity": core.fidelity,
            "task": core.task.spec(),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}",
        }
    )
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    console = Console()
    console.print(
        f"[bold]{args.env}[/bold]  fidelity={core.fidelity}  repeats={repeats}  "
        f"failed={summary['failed']}  data_hash={core.task.data_hash[:12]}"
    )
    table = Table("quantity", "median", "min", "max")
    table.add_row("seconds / evaluation", f"{summary['median_wall_seconds']:.2f}", "", "")
    table.add_row("train seconds", f"{summary['median_train_seconds']:.2f}", "", "")
    for key, value in summary.items():
        if isinstance(value, dict) and "median" in value:
            table.add_row(key, *(f"{value[k]:.4g}" for k in ("median", "min", "max")))
    for key in ("cost_params", "cost_flops", "cost_latency_ms"):
        if key in summary:
            table.add_row(key, f"{summary[key]:.4g}", "", "")
    print_table(console, table)
    return 0
