"""``darwin-bench evaluate``: train, cost and reward one network."""

from __future__ import annotations

import argparse
import json
from typing import Any

from rich.console import Console
from rich.table import Table

from darwin_bench.cli.common import (
    add_env_kwargs,
    env_kwargs,
    parse_genome,
    print_table,
    resolve_env_option,
    seed_int,
)


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("evaluate", help="evaluate one network given as a genome")
    parser.add_argument(
        "--env", required=True, help="env id (darwin_bench/Digits-MLP-v0) or PLUGIN.py:ID"
    )
    parser.add_argument("--genome", required=True, help="comma-separated gene choices")
    parser.add_argument("--seed", type=seed_int, default=0, help="run seed (default 0)")
    parser.add_argument("--json", action="store_true", help="print the evaluation as JSON")
    add_env_kwargs(parser)
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    import darwin_bench
    from envs import framework
    from envs.registration import get_entry

    args.env = resolve_env_option(args.env)  # loads a plug-in named as PLUGIN:ID first
    entry = get_entry(args.env)
    if entry.form != "proposal":
        raise ValueError(
            f"evaluate needs a proposal env (one genome per step); {args.env} is a {entry.form} env"
        )
    env = darwin_bench.make(args.env, **{**env_kwargs(args), "budget": 1})
    records: list[Any] = []
    framework.add_recorder(env, records.append)  # the full record: test metrics too
    env.reset(seed=args.seed)
    _, reward, _, _, _ = env.step(parse_genome(args.genome))
    (evaluation,) = records
    if args.json:
        print(json.dumps(evaluation.to_dict(), indent=2))
        return 0
    console = Console()
    console.print(f"[bold]{args.env}[/bold]  status={evaluation.status}  reward={reward:.4f}")
    if evaluation.reason:
        console.print(f"reason: {evaluation.reason}")
    table = Table("layer", "settings")
    for layer in evaluation.architecture["layers"]:
        rest = {k: v for k, v in layer.items() if k != "type"}
        table.add_row(layer["type"], ", ".join(f"{k}={v}" for k, v in rest.items()))
    print_table(console, table)
    table = Table("metric", "value")
    for key, value in {**evaluation.metrics, **evaluation.test_metrics}.items():
        table.add_row(key, f"{value:.4f}")
    for key, value in evaluation.costs.items():
        table.add_row(key, f"{value:.4g}")
    print_table(console, table)
    return 0
