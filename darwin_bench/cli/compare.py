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
    checked_budget,
    config_example,
    env_kwargs,
    json_dict,
    out_folder,
    positive_int,
    print_table,
    resolve_env_option,
)


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "compare", help="run several agents over several seeds and compare them"
    )
    parser.add_argument(
        "--agents",
        "--agent",
        required=True,
        help="comma-separated agents: built-in names, path.py:Class or module:Class",
    )
    parser.add_argument(
        "--env", required=True, help="env id (darwin_bench/Digits-MLP-v0) or PLUGIN.py:ID"
    )
    parser.add_argument(
        "--seeds",
        type=positive_int,
        default=None,
        help="seeds 0..K-1 (default 10 tabular, 5 live)",
    )
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
    parser.add_argument(
        "--no-progress", action="store_true", help="hide the progress bar (on stderr)"
    )
    add_env_kwargs(parser)
    parser.set_defaults(handler=main)


def comparison_table(comparison: Any) -> Table:
    """Per agent: IQM and mean over seeds, each with its 95% stratified-bootstrap interval, of
    the final best reward and of the incumbent's test metric; IQM of the best-so-far AUC."""
    table = Table(
        title=f"{comparison.env_id}: budget {comparison.budget:g} {comparison.budget_kind}, "
        f"{comparison.seeds} seeds"
    )
    test = f"test {comparison.metric}"
    columns = ("agent", "reward IQM", "reward mean", f"{test} IQM", f"{test} mean", "AUC IQM")
    for col in (*columns, "runs"):
        table.add_column(col, justify="left" if col == "agent" else "right")
    for r in comparison.results:
        table.add_row(
            r.agent,
            r.final_reward.iqm.format(3),
            r.final_reward.mean.format(3),
            r.test_metric.iqm.format(3),
            r.test_metric.mean.format(3),
            r.auc.iqm.format(3),
            str(len(r.runs)),
        )
    table.caption = (
        "final best reward and the incumbent's test metric over seeds: estimate [95% "
        "stratified-bootstrap interval]; reward trades score against "
        f"{comparison.cost}; AUC = area under the best-so-far reward curve / budget"
    )
    return table


def improvement_table(comparison: Any) -> Table:
    """``P(row > column)`` on the final best reward, with its 95% interval."""
    names = [r.agent for r in comparison.results]
    cells = {(p.x, p.y): p.final_reward for p in comparison.improvement}
    table = Table(title="probability of improvement P(row > column), final best reward")
    table.add_column("agent")
    for name in names:
        table.add_column(name, justify="right")
    for x in names:
        row = []
        for y in names:
            if x == y:
                row.append("")
            elif (x, y) in cells:
                row.append(cells[(x, y)].format(2))
            else:
                p = cells[(y, x)]  # P(x > y) = 1 - P(y > x), interval mirrored
                row.append(_complement(p).format(2))
        table.add_row(x, *row)
    table.caption = "ties count one half; an interval holding 0.5 is no evidence either way"
    return table


def _complement(p: Any) -> Any:
    from darwin_bench.stats import Interval

    if p.estimate is None:
        return p
    low = None if p.high is None else 1.0 - p.high
    high = None if p.low is None else 1.0 - p.low
    return Interval(1.0 - p.estimate, low, high, p.n, p.confidence)


def _agent_configs(agents: list[str], text: str | None) -> dict[str, dict[str, Any]]:
    """``--agent-config``: agent -> config, each checked against its agent's config class.

    Raises:
        ValueError: naming ``--agent-config``, with a valid example for the first agent.
    """
    from baselines.loading import resolve_agent

    def example_for(agent: str) -> str:
        return f'{{"{agent}": {config_example(resolve_agent(agent).cls.config_class)}}}'

    example = example_for(agents[0])
    configs = json_dict("--agent-config", text, example)
    for name, value in configs.items():
        if name not in agents:
            raise ValueError(
                f"--agent-config names {name!r}, which is not in --agents ({', '.join(agents)}); "
                f"e.g. '{example}'"
            )
        if not isinstance(value, dict):
            raise ValueError(
                f"--agent-config must map agent names to JSON objects; {name!r} maps to "
                f"{type(value).__name__}; e.g. '{example}'"
            )
        try:
            resolve_agent(name).make(value)
        except ValueError as exc:
            raise ValueError(f"--agent-config: {exc} (e.g. '{example_for(name)}')") from None
    return configs


def reused_logs(args: argparse.Namespace, agents: list[str], seeds: int) -> list[Path]:
    """The complete run logs already in ``--out`` that this comparison reuses instead of running."""
    from baselines.runner import log_path
    from darwin_bench.runlog import read_runlog

    paths = [log_path(args.out, a, args.env, s) for a in agents for s in range(seeds)]
    return [p for p in paths if p.exists() and read_runlog(p).complete]


def main(args: argparse.Namespace) -> int:
    from baselines.compare import compare, default_seeds, parse_agents
    from baselines.compare_plots import save_comparison

    console, status = Console(), Console(stderr=True)
    args.env = resolve_env_option(args.env)  # loads a plug-in named as PLUGIN:ID first
    agents = parse_agents(args.agents)
    seeds = default_seeds(args.env) if args.seeds is None else args.seeds
    kwargs = env_kwargs(args)
    kind = str(kwargs.get("budget_kind", "evaluations"))
    budget = checked_budget(kind, args.budget)
    configs = _agent_configs(agents, args.agent_config)
    out_folder("--out", args.out)
    reused = set(reused_logs(args, agents, seeds))
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        budget_column(kind),
        TimeElapsedColumn(),
        console=status,
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
            if record.path in reused:
                progress.console.print(
                    f"reused the complete run log {record.path} (same settings; delete it or "
                    "pass another --out to run again)",
                    highlight=False,
                )

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
    paths = save_comparison(comparison, args.out)
    if args.json:
        print(json.dumps(comparison.to_dict(), indent=2, sort_keys=True))
    else:
        print_table(console, comparison_table(comparison))
        if len(comparison.results) > 1:
            print_table(console, improvement_table(comparison))
    report = status if args.json else console  # --json keeps stdout pure JSON
    seconds = ", ".join(f"{a} {s:.1f} s" for a, s in comparison.seconds.items())
    report.print(f"wall time of the runs: {seconds}", highlight=False)
    plots = ", ".join(str(p) for name, p in paths.items() if name != "json")
    report.print(f"plots: {plots}\njson:  {paths['json']}", highlight=False)
    return 0
