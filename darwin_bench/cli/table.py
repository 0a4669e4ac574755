"""``darwin-bench table``: build, verify and describe the tables of tabular envs.

- ``table build --env ID --out FILE``: train every network of the env's bounded space with
  several seeds and write the table (resumable: run the same command again after a kill).
- ``table verify --env ID --sample K``: retrain K random entries live and compare.
- ``table info --env ID`` (or ``--table FILE``): what a table holds and whether it still
  matches the running code.
- ``table recost --env ID``: recompute the modeled device costs from the current device
  profiles (no training) and rewrite the table (or ``--out FILE``); ``--remeasure-latency``
  also times every network again after a change of the latency protocol.

Each prints a JSON report with ``--json``; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from darwin_bench.cli.common import json_dict


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("table", help="build, verify and describe tabular tables")
    sub = parser.add_subparsers(dest="table_command", metavar="TABLE_COMMAND", required=True)

    build = sub.add_parser("build", help="train every network of an env's space into a table")
    build.add_argument("--env", required=True, help="env id, e.g. darwin_bench/Digits-MLP-Tab-v0")
    build.add_argument("--out", required=True, help="the .npz file to write (resumable)")
    build.add_argument("--seeds", type=int, default=3, help="training seeds per network")
    build.add_argument("--workers", type=int, default=1, help="local processes (default 1)")
    build.add_argument("--executor", default="local", help="local, ray or ray:ADDRESS")
    build.add_argument("--batch-size", type=int, default=24, help="entries per executor job")
    build.add_argument("--env-kwargs", default=None, help="problem kwargs as a JSON object")
    build.set_defaults(handler=main_build)

    verify = sub.add_parser("verify", help="retrain random entries live and compare")
    verify.add_argument("--env", required=True, help="a tabular env id (or any env + --table)")
    verify.add_argument("--table", default=None, help="a table file (default: the env's)")
    verify.add_argument("--sample", type=int, default=10, help="entries to retrain")
    verify.add_argument("--seed", type=int, default=0, help="which entries are drawn")
    verify.set_defaults(handler=main_verify)

    info = sub.add_parser("info", help="what a table holds; does it match the code?")
    info.add_argument("--env", required=True, help="a tabular env id (or any env + --table)")
    info.add_argument("--table", default=None, help="a table file (default: the env's)")
    info.set_defaults(handler=main_info)

    recost = sub.add_parser("recost", help="recompute modeled device costs (no training)")
    recost.add_argument("--env", required=True, help="a tabular env id (or any env + --table)")
    recost.add_argument("--table", default=None, help="a table file (default: the env's)")
    recost.add_argument("--out", default=None, help="where to write (default: the table file)")
    recost.add_argument(
        "--remeasure-latency",
        action="store_true",
        help="time every network again with the running latency protocol (after a protocol "
        "change; minutes, no training)",
    )
    recost.set_defaults(handler=main_recost)

    for command in (build, verify, info, recost):
        command.add_argument("--json", action="store_true", help="print the report as JSON")
        command.add_argument("--no-progress", action="store_true", help="hide the progress bar")


@contextlib.contextmanager
def _progress(args: argparse.Namespace, label: str) -> Iterator[Callable[[int, int], None]]:
    if args.json or args.no_progress:
        yield lambda done, total: None
        return
    bar = Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
    )
    task = bar.add_task(label, total=None)
    with bar:
        yield lambda done, total: bar.update(task, completed=done, total=total)


def _print(args: argparse.Namespace, report: dict[str, Any], lines: list[str]) -> None:
    if args.json:
        print(json.dumps(report, indent=2, sort_keys=True, default=str))
    else:
        Console().print("\n".join(lines))


def main_build(args: argparse.Namespace) -> int:
    from darwin_bench.evaluation.executors import make_executor
    from darwin_bench.tables.build import build_table
    from darwin_bench.validation import check_positive_int
    from envs.tabular import build_plan

    seeds = check_positive_int("seeds", args.seeds)
    batch = check_positive_int("batch_size", args.batch_size)
    executor = make_executor(args.executor, check_positive_int("workers", args.workers))
    plan = build_plan(args.env, json_dict("--env-kwargs", args.env_kwargs), seeds=seeds)
    start = time.perf_counter()
    try:
        with _progress(args, f"{len(plan.genomes)} networks x {seeds} seeds") as tick:
            table = build_table(plan, args.out, executor=executor, batch_size=batch, on_entry=tick)
    finally:
        getattr(executor, "close", lambda: None)()
    report = {**_summary(table), "seconds": time.perf_counter() - start}
    _print(args, report, [f"table: {table.path} ({report['bytes']:,} bytes)", *_lines(report)])
    return 0


def main_verify(args: argparse.Namespace) -> int:
    from darwin_bench.tables.verify import verify_table
    from darwin_bench.validation import check_positive_int
    from envs.tabular import table_for

    sample = check_positive_int("sample", args.sample)
    table, plan = table_for(args.env, args.table)
    with _progress(args, f"retraining {sample} entries") as tick:
        report = verify_table(
            table,
            plan.task,
            plan.space,
            plan.cost_config,
            sample=sample,
            seed=args.seed,
            on_entry=tick,
        )
    where = "this platform (exact)" if report["same_platform"] else "another platform"
    _print(
        args,
        report,
        [
            f"{report['sample']} entries of {table.path} retrained on {where}:",
            f"exact {report['exact']:.0%}, within tolerance {report['within_tolerance']:.0%}: "
            + ("passed" if report["passed"] else "FAILED"),
        ],
    )
    return 0 if report["passed"] else 1


def main_info(args: argparse.Namespace) -> int:
    from envs.tabular import table_for, table_mismatches

    table, plan = table_for(args.env, args.table)
    stale = table_mismatches(table, plan.task.spec(), plan.cost_config.to_dict())
    report = {**_summary(table), "mismatches": stale, "build": table.meta.get("build", {})}
    lines = [f"table: {table.path} ({report['bytes']:,} bytes)", *_lines(report)]
    lines.append("matches the running code" if not stale else "STALE: " + "; ".join(stale))
    _print(args, report, lines)
    return 0


def main_recost(args: argparse.Namespace) -> int:
    from darwin_bench.tables.recost import recost_table
    from envs.tabular import table_for

    table, plan = table_for(args.env, args.table)
    recosted, report = recost_table(
        table, plan.task, plan.space, plan.cost_config, remeasure=args.remeasure_latency
    )
    out = Path(args.out) if args.out else table.path
    assert out is not None  # a loaded table has its path
    if recosted is not table or args.out:
        recosted.path = recosted.save(out)
    report["path"] = str(out)
    changes = ", ".join(f"{k} {v:.1%}" for k, v in report["max_relative_change"].items() if v)
    _print(
        args,
        report,
        [
            f"table: {out}: content hash {report['from_content_hash'][:16]} -> "
            f"{report['content_hash'][:16]}",
            f"re-costed devices: {', '.join(report['changed_devices']) or 'none (unchanged)'}",
            *(
                [f"re-timed with the running protocol: {', '.join(report['remeasured']['costs'])}"]
                if "remeasured" in report
                else []
            ),
            f"largest relative change: {changes or 'none'}",
        ],
    )
    return 0


def _summary(table: Any) -> dict[str, Any]:
    import os

    return {
        "path": str(table.path),
        "bytes": os.path.getsize(table.path),
        "content_hash": table.content_hash,
        "env_id": table.meta["env_id"],
        "architectures": table.num_architectures,
        "seeds": table.num_seeds,
        "epochs": table.max_epochs,
        "metrics": table.metric_names + table.test_metric_names,
        "costs": table.cost_names,
        "failures": int((table.arrays["failure"] > 0).sum()),
    }


def _lines(report: dict[str, Any]) -> list[str]:
    return [
        f"{report['architectures']} networks x {report['seeds']} seeds x {report['epochs']} "
        f"epochs for {report['env_id']}; content hash {report['content_hash'][:16]}",
        f"{len(report['metrics'])} metrics, {len(report['costs'])} costs, "
        f"{report['failures']} failed (network, seed, epoch) cells",
    ]
