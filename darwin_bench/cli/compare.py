"""``darwin-bench compare``: several agents, several seeds, one env; a table, plots and JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from darwin_bench.cli.common import (
    add_env_kwargs,
    budget_column,
    budget_number,
    env_kwargs,
    json_dict,
)


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "compare", help="run several agents over several seeds and compare them"
    )
    parser.add_argument("--agents", required=True, help="comma-separated agent names")
    parser.add_argument("--env", required=True, help="env id, e.g. darwin_bench/Digits-MLP-v0")
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0..K-1 (default 5)")
    parser.add_argument(
        "--budget",
        type=budget_number,
        required=True,
        help="what each run may spend: evaluations, or FLOPs/seconds with --budget-kind",
    )
    parser.add_argument("--out", default="runs/compare", help="folder of run logs and plots")
    parser.add_argument(
        "--agent-config",
        default=None,
        help='per-agent configs as JSON, e.g. \'{"rea": {"population_size": 10}}\'',
    )
    parser.add_argument("--json", action="store_true", help="print the comparison as JSON")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    add_env_kwargs(parser)
    parser.set_defaults(handler=main)


def comparison_table(comparison: Any) -> Table:
    """Mean ± standard error over seeds of each agent's final best reward, incumbent test
    accuracy and normalized area under the best-so-far curve."""
    table = Table(
        title=f"{comparison.env_id}: budget {comparison.budget:g} {comparison.budget_kind}, "
        f"{comparison.seeds} seeds"
    )
    for col in ("agent", "final best reward", "incumbent test acc", "AUC best-so-far", "runs"):
        table.add_column(col, justify="left" if col == "agent" else "right")
    for r in comparison.results:
        table.add_row(
            r.agent,
            r.final_best.format(),
            r.test_accuracy.format(),
            r.auc.format(),
            str(len(r.runs)),
        )
    table.caption = (
        f"mean ± standard error over seeds; reward trades score against {comparison.cost}; "
        "AUC = area under the best-so-far reward curve / budget"
    )
    return table


def _agent_configs(text: str | None) -> dict[str, dict[str, Any]]:
    configs = json_dict("--agent-config", text)
    for name, value in configs.items():
        if not isinstance(value, dict):
            raise ValueError(
                f"--agent-config must map agent names to JSON objects; {name!r} maps to "
                f"{type(value).__name__}"
            )
    return configs


def main(args: argparse.Namespace) -> int:
    from baselines.compare import (
        compare,
        parse_agents,
        plot_accuracy_vs_cost,
        plot_best_so_far_bands,
    )
    from darwin_bench.budgets import check_budget
    from darwin_bench.validation import check_positive_int
    from envs.registration import get_entry

    console = Console(stderr=args.json)
    agents = parse_agents(args.agents)
    get_entry(args.env)
    seeds = check_positive_int("seeds", args.seeds)
    kwargs = env_kwargs(args)
    kind = str(kwargs.get("budget_kind", "evaluations"))
    budget = check_budget(kind, args.budget)
    configs = _agent_configs(args.agent_config)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        budget_column(kind),
        TimeElapsedColumn(),
        console=console,
        disable=args.no_progress,
    ) as progress:
        bar = progress.add_task(
            f"{len(agents)} agents x {seeds} seeds", total=len(agents) * seeds * budget
        )

        def tick(evaluation: Any) -> None:
            progress.update(bar, advance=evaluation.spent or 1)

        def run_done(agent: str, seed: int, record: Any) -> None:
            # Runs finished (or reused from an earlier call) so far, each a whole budget.
            runs = agents.index(agent) * seeds + seed + 1
            progress.update(bar, completed=runs * budget)

        comparison = compare(
            agents,
            args.env,
            seeds=seeds,
            budget=budget,
            out_dir=args.out,
            env_kwargs=kwargs,
            agent_configs=configs,
            on_evaluation=tick,
            on_run=run_done,
        )
    out = Path(args.out)
    curves = plot_best_so_far_bands(comparison, out / "best_so_far.png")
    pareto = plot_accuracy_vs_cost(comparison, out / "accuracy_vs_cost.png")
    data = comparison.to_dict()
    (out / "comparison.json").write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    if args.json:
        print(json.dumps(data, indent=2, sort_keys=True))
    else:
        console.print(comparison_table(comparison))
    seconds = ", ".join(f"{a} {s:.1f} s" for a, s in comparison.seconds.items())
    console.print(f"wall time of the runs: {seconds}")
    console.print(f"plots: {curves}, {pareto}\njson:  {out / 'comparison.json'}")
    return 0
