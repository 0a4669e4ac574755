"""Plots of run logs (matplotlib, written to PNG without a display).

:func:`pyplot` and :func:`save_figure` are what every plotting module of the project uses
(compare, the reproductions): the one place that picks matplotlib's backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from darwin_bench.runlog import RunRecord


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the non-interactive ``Agg`` backend (PNG files, no display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: str | Path, **savefig: Any) -> Path:
    """Write ``fig`` to ``path`` (creating its folder), close it and return the path.

    Args:
        fig: a matplotlib figure.
        path: the PNG file to write.
        **savefig: further arguments of ``Figure.savefig`` (e.g. ``dpi``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, **savefig)
    pyplot().close(fig)
    return path


def best_so_far(rewards: Sequence[float]) -> np.ndarray:
    """Running maximum of the rewards (NaN for failed evaluations is skipped)."""
    values = np.asarray(rewards, dtype=float)
    values = np.where(np.isfinite(values), values, -np.inf)
    return np.maximum.accumulate(values)


def plot_best_so_far(runs: Sequence[RunRecord], path: str | Path, title: str = "") -> Path:
    """Write a PNG of best-so-far reward vs the budget spent (in the first run's budget kind),
    one line per run."""
    from darwin_bench.budgets import BUDGET_AXIS_LABELS
    from darwin_bench.compare_stats import cumulative_spend, run_budget

    fig, ax = pyplot().subplots(figsize=(6, 4), dpi=120)
    for run in runs:
        curve = best_so_far(run.rewards())
        label = f"{run.header.get('agent', '?')} seed {run.header.get('seed', '?')}"
        spent = cumulative_spend([e.spent for e in run.evaluations])
        ax.step(spent, curve, where="post", label=label)
    kind = run_budget(runs[0])[0] if runs else "evaluations"
    if kind == "evaluations":
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(BUDGET_AXIS_LABELS[kind])
    ax.set_ylabel("best reward so far")
    ax.set_title(title or (runs[0].header.get("env_id", "") if runs else ""))
    ax.grid(alpha=0.3)
    if runs:
        ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)
