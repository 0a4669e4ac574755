"""Summaries and the plot of ``reproduce darwin`` (see :mod:`baselines.reproduce_darwin`).

A per-seed result holds evo-synthesis's generations 0-4, the level's baselines' generations
1-4 and ``summary`` (generation 4 against the ancestor, for evo and each baseline). This module
turns one level's held-out seeds into means with 95% Student-t intervals
(:func:`darwin_bench.compare_stats.mean_ci`) and draws test accuracy against synapses.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from darwin_bench.compare_stats import mean_ci
from darwin_bench.plots import pyplot, save_figure


def _ci(values: Sequence[float], log: bool = False) -> dict[str, Any] | None:
    return mean_ci(values, log=log) if values else None


def _outcome_ci(outcomes: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Loss (points) and reduction (geometric mean) intervals over the seeds whose series did
    not fail, the number that failed, and the fraction of all seeds meeting the target."""
    done = [o for o in outcomes if "failed" not in o]
    return {
        "accuracy_loss_points": _ci([o["accuracy_loss_points"] for o in done]),
        "synapse_reduction": _ci([o["synapse_reduction"] for o in done], log=True),
        "fraction_meeting_target": sum(bool(o["meets_target"]) for o in outcomes) / len(outcomes),
        "failed_seeds": len(outcomes) - len(done),
    }


def summarize(seeds: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Intervals over held-out seeds for evo-synthesis and each baseline at generation 4.

    ``baselines[name]["loss_minus_evo"]`` is the baseline's loss minus evo-synthesis's, per
    seed (paired; positive: evo-synthesis lost less).
    """
    last = [s["generations"][-1] for s in seeds]
    summary: dict[str, Any] = {
        "evo_synthesis": {
            **_outcome_ci([s["summary"] for s in seeds]),
            "synapses": mean_ci([r["synapses"] for r in last]),
            "test_accuracy": mean_ci([100 * r["test_accuracy"] for r in last]),
            "val_accuracy": mean_ci([100 * r["val_accuracy"] for r in last]),
        },
        "ancestor_test_accuracy": 100 * seeds[0]["generations"][0]["test_accuracy"],
        "seeds": len(seeds),
        "baselines": {},
    }
    for name in seeds[0]["summary"]["baselines"]:
        pairs = [(s["summary"]["baselines"][name], s) for s in seeds]
        done = [(o, s) for o, s in pairs if "failed" not in o]
        summary["baselines"][name] = {
            **_outcome_ci([o for o, _ in pairs]),
            "synapses": _ci([s["baselines"][name][-1]["synapses"] for _, s in done]),
            "loss_minus_evo": _ci(
                [o["accuracy_loss_points"] - s["summary"]["accuracy_loss_points"] for o, s in done]
            ),
        }
    return summary


def _mean_curve(runs: Sequence[Sequence[dict[str, Any]]]) -> tuple[list[float], list[float]]:
    """Per generation, mean synapses and mean test accuracy (%) over seeds."""
    pairs = list(zip(*runs))
    synapses = [statistics.mean(r["synapses"] for r in gen) for gen in pairs]
    accuracy = [statistics.mean(100 * r["test_accuracy"] for r in gen) for gen in pairs]
    return synapses, accuracy


def plot(path: Path, rows: dict[str, Any]) -> Path:
    """One panel per (task, level): mean test accuracy against mean live synapses per
    generation, evo-synthesis and each baseline (baselines start at the ancestor)."""
    panels = [(t, level, d) for t, r in rows.items() for level, d in r["levels"].items()]
    fig, axes = pyplot().subplots(1, len(panels), figsize=(5.2 * len(panels), 4.0), squeeze=False)
    for ax, (task, level, data) in zip(axes[0], panels):
        seeds = data["seeds"]
        ancestor = seeds[0]["generations"][0]
        x, y = _mean_curve([s["generations"] for s in seeds])
        ax.plot(x, y, marker="o", linewidth=2.2, label="evo-synthesis")
        for name in seeds[0]["baselines"]:
            done = [s["baselines"][name] for s in seeds if "failed" not in s["baselines"][name][-1]]
            if done:  # seeds whose series ended in a failed stage are not drawn
                bx, by = _mean_curve([[ancestor, *rows] for rows in done])
                ax.plot(bx, by, marker=".", linewidth=1.0, label=f"{name} ({len(done)} seeds)")
        ax.axhline(100 * ancestor["test_accuracy"] - 1, color="grey", linestyle=":")
        ax.axvline(seeds[0]["target_synapses"], color="grey", linestyle="--", label="target")
        ax.set_xscale("log")
        ax.invert_xaxis()
        ax.set_xlabel("live synapses (mean over seeds)")
        ax.set_ylabel("test accuracy (%, mean)")
        ax.set_title(f"{task}, {level} level ({len(seeds)} held-out seeds)", fontsize=9)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path, dpi=120)


def merge(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One ``reproduce darwin`` result from several runs of the same protocol on other seeds
    (e.g. one command per held-out seed, so that a long reproduction survives being stopped).

    Per row and level, the seeds are pooled and :func:`summarize`-d again; ``facts`` keeps the
    first run's, with the pooled ``held_out_seeds``; ``load_average`` lists every run's.

    Raises:
        ValueError: when the runs' protocols (row settings) differ or a seed repeats.
    """
    rows: dict[str, Any] = {}
    for result in results:
        for name, row in result["rows"].items():
            merged = rows.setdefault(name, {**row, "levels": {}})
            if row["protocol"] != merged["protocol"]:
                raise ValueError(f"rows.{name}.protocol differs between the runs; cannot merge")
            for level, data in row["levels"].items():
                into = merged["levels"].setdefault(level, {"seeds": [], "wall_seconds": 0.0})
                into["seeds"] += data["seeds"]
                into["wall_seconds"] = round(into["wall_seconds"] + data["wall_seconds"], 1)
    for name, row in rows.items():
        for level, data in row["levels"].items():
            seeds = [s["seed"] for s in data["seeds"]]
            if len(set(seeds)) != len(seeds):
                raise ValueError(f"rows.{name}.levels.{level}: a seed repeats in {seeds}")
            data["seeds"].sort(key=lambda s: s["seed"])
            data["summary"] = summarize(data["seeds"])
        pooled = sorted({s["seed"] for d in row["levels"].values() for s in d["seeds"]})
        row["facts"] = {**row["facts"], "held_out_seeds": pooled}
    return {
        "rows": rows,
        "held_out_seeds": sorted({s for r in rows.values() for s in r["facts"]["held_out_seeds"]}),
        "tuning_seeds": results[0]["tuning_seeds"],
        "load_average": [r["load_average"] for r in results],
        "merged_runs": len(results),
    }
