"""How the defaults of ``reproduce darwin`` are chosen: validation only, on tuning seeds.

``darwin-bench reproduce darwin --options '{"mode": "tune"}'`` runs, per row and tuning seed
(disjoint from the held-out seeds results are reported on), the row's defaults and a
one-setting-at-a-time sweep around them (:data:`GRIDS`: offspring epochs, learning rate,
selection, draws, offspring count, level). Each variant is one evo-synthesis run; it is scored
by its generation-4 *validation* accuracy, and it is admissible only when generation 4 is
within the synapse target on every tuning seed. Per setting, the chosen value is the admissible
one with the highest mean validation accuracy (the default on a tie). Test data is never read:
the JSON carries validation accuracies and synapse counts only. A chosen value that differs
from the default becomes the new default, and the sweep is run again around it.
"""

from __future__ import annotations

import statistics
from dataclasses import replace
from typing import Any

from baselines.reproduce_darwin import DarwinConfig, DarwinRow, run_evolution

#: Per row, the values tried for each setting (one setting varied at a time).
GRIDS: dict[str, dict[str, list[Any]]] = {
    "digits": {
        "epochs": [30, 60, 120, 240],
        "lr": [1e-3, 3e-3],
        "selection": ["path", "reward"],
        "draws": [1, 30],
        "offspring": [2, 4, 8, 16],
        "level": ["cluster", "synapse"],
    },
    "mnist5k": {
        "epochs": [10, 20, 40],
        "lr": [1e-3, 3e-3],
        "selection": ["path", "reward"],
        "draws": [1, 30],
        "offspring": [2, 4],
        "level": ["cluster", "synapse"],
    },
}


def variants(row: DarwinRow, grid: dict[str, list[Any]]) -> dict[str, DarwinRow]:
    """The row itself (``"default"``) and every one-setting change of it, by ``name=value``."""
    out = {"default": row}
    for name, values in grid.items():
        for value in values:
            if value != getattr(row, name):
                out[f"{name}={value}"] = replace(row, **{name: value})
    return out


def validation_outcome(row: DarwinRow, seed: int) -> dict[str, Any]:
    """Generation 4 of one evolution: validation accuracy (%), live synapses, within target."""
    rows, env = run_evolution(row, row.level, seed)
    target = float(env.unwrapped.cost_target[1])
    last = rows[-1]
    return {
        "val_accuracy": 100 * last["val_accuracy"],
        "synapses": last["synapses"],
        "within_target": last["synapses"] <= target,
    }


def choose(
    row: DarwinRow, grid: dict[str, list[Any]], scores: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """Per setting, the admissible value with the highest mean validation accuracy."""
    chosen: dict[str, Any] = {}
    for name, values in grid.items():
        keys = {v: "default" if v == getattr(row, name) else f"{name}={v}" for v in values}
        fits = [v for v, k in keys.items() if scores[k]["within_target"]]
        if not fits:
            chosen[name] = getattr(row, name)
            continue
        best = max(scores[keys[v]]["val_accuracy"] for v in fits)
        top = [v for v in fits if scores[keys[v]]["val_accuracy"] == best]
        chosen[name] = getattr(row, name) if getattr(row, name) in top else top[0]
    return chosen


def tune_row(name: str, row: DarwinRow, seeds: list[int]) -> dict[str, Any]:
    """The sweep of :data:`GRIDS` for one row on ``seeds``: scores and the chosen values."""
    grid = GRIDS[name]
    scores: dict[str, dict[str, Any]] = {}
    for key, variant in variants(row, grid).items():
        runs = [validation_outcome(variant, s) for s in seeds]
        scores[key] = {
            "val_accuracy": statistics.mean(r["val_accuracy"] for r in runs),
            "synapses": [r["synapses"] for r in runs],
            "within_target": all(r["within_target"] for r in runs),
        }
    return {"scores": scores, "chosen": choose(row, grid, scores), "defaults": row.to_dict()}


def tune(config: DarwinConfig) -> dict[str, Any]:
    """Run :func:`tune_row` for every row of ``config`` on its tuning seeds."""
    return {
        "mode": "tune",
        "tuning_seeds": config.tuning_seeds,
        "rows": {
            name: tune_row(name, getattr(config, name), config.tuning_seeds)
            for name in config.tasks
        },
        "note": "generation-4 validation accuracy (%) and live synapses only; test is never read",
    }
