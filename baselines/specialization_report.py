"""Summaries and the fronts plot of ``reproduce specialization`` (see its module docstring).

A per-seed result (``run_seed``) holds the specialized winner, the large network, every
from-scratch size and every specialized candidate, each with ``val_error`` / ``test_error``
(percent) and ``params``. This module turns a row's seeds into intervals and draws the fronts.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from darwin_bench.compare_stats import mean_ci
from darwin_bench.pareto import pareto_front
from darwin_bench.plots import pyplot, save_figure


def _ratios(seeds: Sequence[dict[str, Any]], key: str) -> list[float]:
    return [s["large"][key] / s["specialized"][key] for s in seeds]


def best_within(candidates: Sequence[dict[str, Any]], params: float) -> dict[str, Any] | None:
    """The candidate with at most ``params`` parameters and the lowest *validation* error
    (ties: fewer parameters), or ``None``."""
    fitting = [c for c in candidates if c["params"] <= params]
    return min(fitting, key=lambda c: (c["val_error"], c["params"])) if fitting else None


def at_size(seed: dict[str, Any]) -> dict[str, float | None]:
    """Per from-scratch width: its test error minus the test error of the specialized candidate
    chosen by :func:`best_within` its size (positive: specialization better)."""
    out: dict[str, float | None] = {}
    for net in seed["scratch"]:
        chosen = best_within(seed["candidates"], net["params"])
        out[str(net["width"])] = (
            None if chosen is None else net["test_error"] - chosen["test_error"]
        )
    return out


def summarize_row(seeds: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Intervals over seeds of the headline comparisons and of the at-size differences."""
    devices = sorted(k for k in seeds[0]["specialized"] if k.startswith("latency_ms@"))
    summary: dict[str, Any] = {
        "latency_ratio": mean_ci(_ratios(seeds, "latency_ms"), log=True),
        "size_ratio": mean_ci(_ratios(seeds, "params"), log=True),
        "flops_ratio": mean_ci(_ratios(seeds, "flops"), log=True),
        "error_difference": mean_ci(
            [s["large"]["test_error"] - s["specialized"]["test_error"] for s in seeds]
        ),
        "relative_error_reduction": mean_ci(
            [
                (s["large"]["test_error"] - s["specialized"]["test_error"])
                / max(s["large"]["test_error"], 1e-9)
                for s in seeds
            ]
        ),
        "specialized_test_error": mean_ci([s["specialized"]["test_error"] for s in seeds]),
        "large_test_error": mean_ci([s["large"]["test_error"] for s in seeds]),
        "modeled_latency_ratio": {
            d.split("@", 1)[1]: mean_ci(_ratios(seeds, d), log=True) for d in devices
        },
    }
    widths = [str(n["width"]) for n in seeds[0]["scratch"]]
    diffs = [at_size(s) for s in seeds]
    summary["at_size"] = {
        w: {
            "scratch_params": seeds[0]["scratch"][i]["params"],
            "scratch_test_error": mean_ci([s["scratch"][i]["test_error"] for s in seeds]),
            "error_difference": _ci_or_none([d[w] for d in diffs]),
        }
        for i, w in enumerate(widths)
    }
    return {"summary": summary, "fronts": fronts(seeds)}


def _ci_or_none(values: Sequence[float | None]) -> dict[str, Any] | None:
    present = [v for v in values if v is not None]
    if not present:
        return None
    return {**mean_ci(present), "seeds_with_a_candidate": len(present)}


def fronts(seeds: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Per seed, the test-error-vs-params Pareto front of the specialized candidates (reported,
    never used to choose) and the from-scratch sizes' points."""
    out: dict[str, Any] = {"specialized": [], "scratch": []}
    for s in seeds:
        points = [(-c["test_error"], c["params"]) for c in s["candidates"]]
        front = pareto_front(points)
        out["specialized"].append([(points[i][1], -points[i][0]) for i in front])
        out["scratch"].append([(n["params"], n["test_error"]) for n in s["scratch"]])
    return out


def plot_fronts(path: Path, rows: dict[str, Any]) -> Path:
    """One panel per row: every specialized candidate, each seed's front, the from-scratch sizes
    (mean and 95% interval over seeds), the winners and the large networks."""
    fig, axes = pyplot().subplots(
        1, len(rows), figsize=(6 * len(rows), 4.5), dpi=120, squeeze=False
    )
    for ax, (name, row) in zip(axes[0], rows.items()):
        seeds = row["seeds"]
        cand = [c for s in seeds for c in s["candidates"]]
        ax.scatter(
            [c["params"] for c in cand],
            [c["test_error"] for c in cand],
            s=8,
            c="0.75",
            label="specialized candidates (all seeds)",
        )
        for i, front in enumerate(row["fronts"]["specialized"]):
            ax.plot(
                *zip(*front), c="C3", alpha=0.5, lw=1, label="specialized front" if i == 0 else None
            )
        for i, entry in enumerate(row["summary"]["at_size"].values()):
            ci = entry["scratch_test_error"]
            low = ci["mean"] - (ci["low"] if ci["low"] is not None else ci["mean"])
            high = (ci["high"] if ci["high"] is not None else ci["mean"]) - ci["mean"]
            label = "from scratch (mean, 95% CI)" if i == 0 else None
            ax.errorbar(
                [entry["scratch_params"]],
                [ci["mean"]],
                yerr=[[low], [high]],
                fmt="s",
                c="C0",
                capsize=3,
                label=label,
            )
        ax.scatter(
            [s["specialized"]["params"] for s in seeds],
            [s["specialized"]["test_error"] for s in seeds],
            marker="*",
            s=90,
            c="C3",
            label="GA winner per seed",
        )
        ax.set_xscale("log")
        ax.set_xlabel("parameters")
        ax.set_ylabel("test error (%)")
        ax.set_title(f"{name}: specialized vs from scratch ({len(seeds)} seeds)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path)
