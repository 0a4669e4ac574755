"""``darwin-bench run``: one agent, one env, one budget, one seed; a run log, table and plot."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from darwin_bench.cli.common import (
    add_env_kwargs,
    budget_column,
    budget_number,
    checked_budget,
    config_example,
    env_kwargs,
    json_dict,
    out_folder,
    positive_int,
    print_table,
    resolve_env_option,
    seed_int,
)


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("run", help="run a search agent on an env")
    parser.add_argument(
        "--agent",
        required=True,
        help="agent: a built-in name (see `darwin-bench list`), path.py:Class or module:Class",
    )
    parser.add_argument(
        "--env", required=True, help="env id (darwin_bench/Digits-MLP-v0) or PLUGIN.py:ID"
    )
    parser.add_argument(
        "--budget",
        type=budget_number,
        required=True,
        help="what the run may spend: evaluations (default), or FLOPs/seconds with --budget-kind",
    )
    parser.add_argument("--seed", type=seed_int, default=0, help="run seed (default 0)")
    parser.add_argument("--out", default="runs", help="output folder (default: runs)")
    parser.add_argument(
        "--agent-config",
        default=None,
        help="agent config as a JSON object, e.g. '{\"population_size\": 8}' for ga",
    )
    parser.add_argument("--top", type=positive_int, default=5, help="rows in the summary table")
    parser.add_argument(
        "--no-progress", action="store_true", help="hide the progress bar (on stderr)"
    )
    add_env_kwargs(parser)
    parser.set_defaults(handler=main)


def summary_table(record: Any, top: int) -> Table:
    """The best ``top`` distinct networks of a run, by reward."""
    cost = record.header.get("problem", {}).get("reward", {}).get("cost", "flops")
    best: dict[str, Any] = {}
    for e in record.evaluations:
        if e.ok and e.reward is not None and e.evaluation_id not in best:
            best[e.evaluation_id] = e
    rows = sorted(best.values(), key=lambda e: -e.reward)[:top]
    table = Table(title=f"Best networks ({record.header['agent']}, seed {record.header['seed']})")
    metric = next(iter(rows[0].metrics), "accuracy") if rows else "accuracy"  # the task's metric
    for col in (
        "rank",
        "step",
        "reward",
        "val acc" if metric == "accuracy" else f"val {metric}",
        "test acc" if metric == "accuracy" else f"test {metric}",
        "params",
        "flops",
        "latency ms",
        "layers",
    ):
        table.add_column(col, justify="right" if col != "layers" else "left")
    for rank, e in enumerate(rows, 1):
        layers = "-".join(
            str(la.get("units", la.get("filters", la["type"])))
            for la in e.architecture["layers"]
            if la["type"] in ("dense", "conv2d", "recurrent")
        )
        table.add_row(
            str(rank),
            str(e.step),
            f"{e.reward:.4f}",
            f"{e.metrics.get(metric, 0):.4f}",
            f"{e.test_metrics.get(f'test_{metric}', float('nan')):.4f}",
            f"{e.costs['params']:.0f}",
            f"{e.costs['flops']:.0f}",
            f"{e.costs.get('latency_ms', float('nan')):.4f}",
            layers,
        )
    table.caption = f"reward trades score against {cost}"
    return table


def agent_config_arg(agent: str, text: str | None) -> dict[str, Any]:
    """``--agent-config`` for ``agent``, checked against its config class.

    Raises:
        ValueError: for an unknown agent, or naming ``--agent-config`` with a valid example.
    """
    from baselines.loading import resolve_agent

    spec = resolve_agent(agent)  # an unknown agent is the --agent error, not --agent-config's
    example = config_example(spec.cls.config_class)
    config = json_dict("--agent-config", text, example)
    try:
        spec.make(config)
    except ValueError as exc:
        raise ValueError(f"--agent-config: {exc} (e.g. '{example}')") from None
    return config


def announce(console: Console, result: Any) -> None:
    """Say on stderr when a run was not run from scratch: reused whole, or resumed."""
    if result.reused:
        console.print(
            f"reused the complete run log {result.path} (same settings; delete it or pass "
            "another --out to run again)",
            highlight=False,
        )
    elif result.resumed_from:
        console.print(
            f"resumed {result.path} from its {result.resumed_from} logged evaluations",
            highlight=False,
        )


def main(args: argparse.Namespace) -> int:
    from baselines.runner import check_supported, run_agent
    from darwin_bench.plots import plot_best_so_far
    from envs.registration import get_entry

    console, status = Console(), Console(stderr=True)
    kwargs = env_kwargs(args)
    args.env = resolve_env_option(args.env)  # loads a plug-in named as PLUGIN:ID first
    get_entry(args.env)  # fail on bad input before the progress bar starts
    agent_config = agent_config_arg(args.agent, args.agent_config)
    check_supported(args.agent, args.env)
    kind = str(kwargs.get("budget_kind", "evaluations"))
    checked_budget(kind, args.budget)
    out_folder("--out", args.out)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        budget_column(kind),
        TextColumn("best {task.fields[best]}"),
        TimeElapsedColumn(),
        console=status,
        disable=args.no_progress,
        transient=False,
    ) as progress:
        bar = progress.add_task(f"{args.agent} on {args.env}", total=args.budget, best="-")
        best = [float("-inf")]

        def tick(evaluation: Any) -> None:
            if evaluation.reward is not None:
                best[0] = max(best[0], evaluation.reward)
            progress.update(bar, advance=evaluation.spent or 1, best=f"{best[0]:.4f}")

        result = run_agent(
            args.agent,
            args.env,
            budget=args.budget,
            seed=args.seed,
            out_dir=args.out,
            env_kwargs=kwargs,
            agent_config=agent_config,
            on_evaluation=tick,
        )
    announce(status, result)
    record = result.record
    print_table(console, summary_table(record, args.top))
    plot = plot_best_so_far([record], result.path.with_suffix(".png"))
    footer = record.footer or {}
    console.print(
        f"{len(record.evaluations)} evaluations ({footer.get('failed', 0)} failed) in "
        f"{result.seconds:.1f} s; Pareto front: {len(footer.get('pareto_front', []))} networks"
    )
    console.print(f"run log: {result.path}\nplot:    {plot}")
    return 0
