"""Compare search agents on one env over several seeds: run, summarize, plot.

:func:`compare` runs every (agent, seed) pair through :func:`baselines.runner.run_agent`
(seeds ``0..seeds-1``), reusing the complete run logs already in ``out_dir`` (so an
interrupted comparison resumes where it stopped), and summarizes them with
:mod:`darwin_bench.compare_stats`. Everything in the returned :class:`Comparison` (and its
JSON) is a function of the run logs' rewards and metrics: the same agents, env, kwargs, budget
and seeds give the same comparison. Wall times are kept apart (:attr:`Comparison.seconds`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from baselines import make_agent
from baselines.runner import check_supported, log_path, run_agent
from darwin_bench.budgets import BUDGET_AXIS_LABELS, check_budget
from darwin_bench.compare_stats import MeanSE, RunSummary, budget_axis, mean_se, summarize_run
from darwin_bench.evaluation import Evaluation
from darwin_bench.pareto import pareto_front
from darwin_bench.plots import pyplot, save_figure
from darwin_bench.runlog import RunRecord, read_runlog
from darwin_bench.validation import check_positive_int


@dataclass
class AgentResult:
    """One agent's runs and their mean ± standard error over seeds."""

    agent: str
    runs: list[RunSummary]
    final_best: MeanSE
    test_accuracy: MeanSE
    auc: MeanSE

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "agent": self.agent,
            "final_best_reward": self.final_best.to_dict(),
            "test_accuracy": self.test_accuracy.to_dict(),
            "auc": self.auc.to_dict(),
            "runs": [r.to_dict() for r in self.runs],
        }


@dataclass
class Comparison:
    """The result of :func:`compare`."""

    env_id: str
    budget: float
    seeds: int
    env_kwargs: dict[str, Any]
    cost: str
    results: list[AgentResult]
    records: dict[str, list[RunRecord]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    budget_kind: str = "evaluations"

    def to_dict(self) -> dict[str, Any]:
        """JSON form: settings and statistics only (no paths, no wall times)."""
        return {
            "env_id": self.env_id,
            "budget": self.budget,
            "budget_kind": self.budget_kind,
            "seeds": self.seeds,
            "env_kwargs": self.env_kwargs,
            "cost": self.cost,
            "agents": [r.to_dict() for r in self.results],
        }


def parse_agents(text: str | Sequence[str]) -> list[str]:
    """``"random,rea"`` -> ``["random", "rea"]``, checking every name.

    Raises:
        ValueError: for an empty list, a duplicate, or an unknown name (listing the known ones).
    """
    names = [a.strip() for a in text.split(",")] if isinstance(text, str) else list(text)
    names = [a for a in names if a]
    if not names:
        raise ValueError("agents must name at least one agent, e.g. 'random,rea'")
    duplicates = sorted({a for a in names if names.count(a) > 1})
    if duplicates:
        raise ValueError(f"agents must be distinct; repeated: {', '.join(duplicates)}")
    for name in names:
        make_agent(name)
    return names


def _check_reusable(path: Path, env_kwargs: dict[str, Any], agent_config: dict[str, Any]) -> None:
    """Refuse to reuse a complete log that was made with other settings."""
    if not path.exists():
        return
    record = read_runlog(path)
    if not record.complete:
        return  # a killed run: run_agent resumes it
    if record.header.get("env_kwargs") != env_kwargs or (
        record.header.get("agent_config") != agent_config
    ):
        raise ValueError(
            f"out: {path} was made with other settings (env kwargs or agent config); "
            "use another --out folder or delete it"
        )


def compare(
    agents: Sequence[str],
    env_id: str,
    *,
    seeds: int,
    budget: float,
    out_dir: str | Path,
    env_kwargs: dict[str, Any] | None = None,
    agent_configs: dict[str, dict[str, Any]] | None = None,
    on_evaluation: Callable[[Evaluation], None] | None = None,
    on_run: Callable[[str, int, RunRecord], None] | None = None,
) -> Comparison:
    """Run every agent on every seed ``0..seeds-1`` and summarize the runs.

    Args:
        agents: agent names.
        env_id: a registered env id.
        seeds: how many seeds (``0..seeds-1``).
        budget: what each run may spend, in units of the env kwarg ``budget_kind``
            (evaluations by default).
        out_dir: where the run logs go; complete logs already there are reused.
        env_kwargs: env kwargs for every run (e.g. ``{"epochs": 5}``).
        agent_configs: agent name -> config dict.
        on_evaluation: called after every new evaluation (progress bars).
        on_run: called with (agent, seed, record) after each run, reused or not.

    Raises:
        ValueError: for bad input, an agent that does not work on the env (before anything
            runs), or a complete log in ``out_dir`` made with other settings.
    """
    agents = parse_agents(agents)
    seeds = check_positive_int("seeds", seeds)
    kind = str(dict(env_kwargs or {}).get("budget_kind", "evaluations"))
    budget = check_budget(kind, budget)
    agent_configs = dict(agent_configs or {})
    unknown = sorted(set(agent_configs) - set(agents))
    if unknown:
        raise ValueError(f"agent config given for {unknown}, which are not in agents {agents}")
    kwargs = {**dict(env_kwargs or {}), "budget": budget}
    for agent in agents:
        check_supported(agent, env_id)
        config = make_agent(agent, agent_configs.get(agent)).config.to_dict()
        for seed in range(seeds):
            _check_reusable(log_path(out_dir, agent, env_id, seed), kwargs, config)

    records: dict[str, list[RunRecord]] = {}
    seconds: dict[str, float] = {}
    for agent in agents:
        records[agent], seconds[agent] = [], 0.0
        for seed in range(seeds):
            result = run_agent(
                agent,
                env_id,
                budget=budget,
                seed=seed,
                out_dir=out_dir,
                env_kwargs=env_kwargs,
                agent_config=agent_configs.get(agent),
                on_evaluation=on_evaluation,
            )
            records[agent].append(result.record)
            seconds[agent] += float((result.record.footer or {}).get("seconds", 0.0))
            if on_run is not None:
                on_run(agent, seed, result.record)

    results = []
    for agent in agents:
        runs = [summarize_run(r) for r in records[agent]]
        results.append(
            AgentResult(
                agent,
                runs,
                final_best=mean_se([r.final_best for r in runs]),
                test_accuracy=mean_se([r.test_accuracy for r in runs]),
                auc=mean_se([r.auc for r in runs]),
            )
        )
    first = records[agents[0]][0]
    cost = str(first.header.get("problem", {}).get("reward", {}).get("cost", "flops"))
    return Comparison(env_id, budget, seeds, kwargs, cost, results, records, seconds, kind)


# ------------------------------------------------------------------------------------ plots
def plot_best_so_far_bands(comparison: Comparison, path: str | Path) -> Path:
    """Best-so-far reward vs the budget spent (in the runs' budget kind): each agent's mean
    over seeds with a ± SE band."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.2), dpi=120)
    x = budget_axis(comparison.budget_kind, comparison.budget)
    for i, result in enumerate(comparison.results):
        curves = np.stack([r.curve for r in result.runs])
        mean = curves.mean(axis=0)
        ax.plot(x, mean, drawstyle="steps-post", label=result.agent, color=f"C{i}")
        if len(curves) > 1:
            se = curves.std(axis=0, ddof=1) / np.sqrt(len(curves))
            ax.fill_between(x, mean - se, mean + se, step="post", alpha=0.2, color=f"C{i}")
    ax.set_xlabel(BUDGET_AXIS_LABELS[comparison.budget_kind])
    ax.set_ylabel("best reward so far (mean ± SE)")
    ax.set_title(f"{comparison.env_id}, {comparison.seeds} seeds")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)


def accuracy_cost_points(records: Sequence[RunRecord], cost: str) -> list[tuple[float, float]]:
    """(test accuracy, cost) of every distinct successful evaluation of the runs."""
    seen: dict[str, tuple[float, float]] = {}
    for record in records:
        for e in record.evaluations:
            accuracy = e.test_metrics.get("test_accuracy")
            if e.ok and accuracy is not None and cost in e.costs:
                seen.setdefault(e.evaluation_id, (float(accuracy), float(e.costs[cost])))
    return list(seen.values())


def plot_accuracy_vs_cost(comparison: Comparison, path: str | Path) -> Path:
    """Test accuracy vs the reward's cost of every network evaluated, per agent (all seeds),
    with each agent's Pareto front (higher accuracy, lower cost) as a line."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.2), dpi=120)
    for i, result in enumerate(comparison.results):
        points = accuracy_cost_points(comparison.records[result.agent], comparison.cost)
        if not points:
            continue
        acc = np.array([p[0] for p in points])
        cost = np.array([p[1] for p in points])
        ax.scatter(cost, acc, s=10, alpha=0.35, color=f"C{i}")
        front = pareto_front(points)
        ax.plot(cost[front], acc[front], drawstyle="steps-post", color=f"C{i}", label=result.agent)
    ax.set_xscale("log")
    ax.set_xlabel(f"{comparison.cost} (log scale)")
    ax.set_ylabel("test accuracy")
    ax.set_title(f"{comparison.env_id}: networks evaluated and Pareto fronts")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)
