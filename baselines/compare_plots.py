"""Plots of a :class:`~baselines.compare.Comparison` (PNG files, no display needed)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.ticker import MaxNLocator

from baselines.compare import Comparison
from darwin_bench.budgets import BUDGET_AXIS_LABELS
from darwin_bench.compare_stats import budget_axis
from darwin_bench.pareto import pareto_front
from darwin_bench.plots import pyplot, save_figure
from darwin_bench.runlog import RunRecord


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


def accuracy_cost_points(
    records: Sequence[RunRecord], cost: str, metric: str = "accuracy"
) -> list[tuple[float, float]]:
    """(test metric, cost) of every distinct successful evaluation of the runs."""
    seen: dict[str, tuple[float, float]] = {}
    for record in records:
        for e in record.evaluations:
            value = e.test_metrics.get(f"test_{metric}")
            if e.ok and value is not None and cost in e.costs:
                seen.setdefault(e.evaluation_id, (float(value), float(e.costs[cost])))
    return list(seen.values())


def plot_accuracy_vs_cost(comparison: Comparison, path: str | Path) -> Path:
    """Test metric vs the reward's cost of every network evaluated, per agent (all seeds),
    with each agent's Pareto front (better metric, lower cost) as a line."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.2), dpi=120)
    sign = 1.0 if comparison.higher_is_better else -1.0
    for i, result in enumerate(comparison.results):
        records = comparison.records[result.spec]
        points = accuracy_cost_points(records, comparison.cost, comparison.metric)
        if not points:
            continue
        value = np.array([p[0] for p in points])
        cost = np.array([p[1] for p in points])
        ax.scatter(cost, value, s=10, alpha=0.35, color=f"C{i}")
        front = pareto_front([(sign * v, c) for v, c in points])
        ax.plot(
            cost[front], value[front], drawstyle="steps-post", color=f"C{i}", label=result.agent
        )
    ax.set_xscale("log")
    ax.set_xlabel(f"{comparison.cost} (log scale)")
    ax.set_ylabel(f"test {comparison.metric}")
    ax.set_title(f"{comparison.env_id}: networks evaluated and Pareto fronts")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_performance_profiles(comparison: Comparison, path: str | Path) -> Path:
    """Performance profiles (fraction of runs scoring above tau) of the final best reward and
    of the incumbents' test metric, each agent with its 95% bootstrap band."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.0), dpi=120)
    titles = {
        "final_best_reward": "final best reward",
        "test_metric": f"incumbent test {comparison.metric}",
    }
    sign = 1.0 if comparison.higher_is_better else -1.0
    for ax, (quantity, title) in zip(axes, titles.items()):
        flip = sign if quantity == "test_metric" else 1.0  # back to the metric's own units
        for i, result in enumerate(comparison.results):
            band = comparison.profiles.get(quantity, {}).get(result.agent)
            if band is None:
                continue
            taus = flip * band.taus
            style = ("-", "--", ":", "-.")[i % 4]  # tied agents' profiles stay visible
            ax.plot(taus, band.profile, color=f"C{i}", linestyle=style, label=result.agent)
            if band.low is not None and band.high is not None:
                ax.fill_between(taus, band.low, band.high, alpha=0.2, color=f"C{i}")
        better = "above" if flip > 0 else "below"
        ax.set_xlabel(f"{title} threshold tau")
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5))  # long tick labels must not overlap
        ax.set_ylabel(f"fraction of runs {better} tau")
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"{comparison.env_id}: performance profiles, {comparison.seeds} seeds")
    fig.tight_layout()
    return save_figure(fig, path)


def save_comparison(comparison: Comparison, out_dir: str | Path) -> dict[str, Path]:
    """Write what ``darwin-bench compare`` leaves in ``out_dir``: the three plots and
    ``comparison.json`` (:meth:`Comparison.to_dict`); return their paths by name."""
    out = Path(out_dir)
    paths = {
        "best_so_far": plot_best_so_far_bands(comparison, out / "best_so_far.png"),
        "accuracy_vs_cost": plot_accuracy_vs_cost(comparison, out / "accuracy_vs_cost.png"),
        "performance_profiles": plot_performance_profiles(
            comparison, out / "performance_profiles.png"
        ),
        "json": out / "comparison.json",
    }
    text = json.dumps(comparison.to_dict(), indent=2, sort_keys=True) + "\n"
    paths["json"].write_text(text)
    return paths
