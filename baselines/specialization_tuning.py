"""How the defaults of ``reproduce specialization`` were chosen: validation only, tuning seeds.

``darwin-bench reproduce specialization --options '{"mode": "tune"}'`` runs, on every tuning
seed (disjoint from the held-out seeds the result is reported on) and every row, a small grid
and reports *validation* errors only:

* ``base_epochs`` x ``finetune_epochs`` x ``finetune_lr``: the validation error of two fixed
  squeezes of the base (the whole base, and every unit at half width), refit and fine-tuned as
  in the search;
* ``scratch_epochs``: the validation error of the large from-scratch network.

The chosen value of each setting is the one with the lowest mean validation error over tuning
seeds (and, for the base/fine-tune pair, over both squeezes). Test data is never read.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import statistics
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from typing import Any

from darwin_bench.seeding import derive_seed
from darwin_bench.spaces.squeeze import SqueezeSpace
from darwin_bench.tasks.specialization import SpecializationTask
from envs.tasks import make_task

#: Per row, the values tried for each setting.
GRIDS: dict[str, dict[str, list[Any]]] = {
    "scenes": {
        "base_epochs": [10],
        "finetune_epochs": [10, 20],
        "finetune_lr": [1e-3, 3e-3],
        "scratch_epochs": [30, 60],
    },
    "digits": {
        "base_epochs": [10, 30],
        "finetune_epochs": [3, 10],
        "finetune_lr": [1e-3, 3e-3],
        "scratch_epochs": [10, 30, 100],
    },
}
_SPECIALIZE = ("base_epochs", "finetune_epochs", "finetune_lr")


def _val_error(result: Any) -> float:
    return 100.0 * (1.0 - float(result.metrics["accuracy"]))


def _specialize_errors(
    row: Any, seed: int, base_epochs: int, finetune: int, lr: float
) -> list[float]:
    """Validation errors of the whole base and the half-width squeeze, for one setting."""
    task = make_task(
        row.task, replace(row, base_epochs=base_epochs, finetune_lr=lr).task_kwargs(seed)
    )
    assert isinstance(task, SpecializationTask)
    space = SqueezeSpace(
        task.input_shape, task.num_outputs, base_conv=row.base_conv, base_hidden=row.base_hidden
    )
    half = space.keep.index(0.5)
    genomes = [space.base_genome(), [half] * len(space.genes)]
    return [
        _val_error(
            task.fit(
                space.decode(g), seed=derive_seed(seed, "tune", i), fidelity={"epochs": finetune}
            )
        )
        for i, g in enumerate(genomes)
    ]


def _scratch_error(row: Any, seed: int, epochs: int) -> float:
    task = make_task(row.task, row.task_kwargs(seed))
    assert isinstance(task, SpecializationTask)
    arch = task.scaled_architecture(row.large_width)
    result = task.target.fit(
        arch, seed=derive_seed(seed, "scratch", row.large_width), fidelity={"epochs": epochs}
    )
    return _val_error(result)


def _job(kind: str, row: Any, seed: int, setting: tuple[Any, ...]) -> list[float]:
    """One (seed, setting) of the grid: its validation error(s)."""
    if kind == "specialize":
        return _specialize_errors(row, seed, *setting)
    return [_scratch_error(row, seed, *setting)]


def tune_row(name: str, row: Any, seeds: list[int], processes: int = 1) -> dict[str, Any]:
    """The grid of :data:`GRIDS` for one row: mean validation errors and the chosen values.

    Every (seed, setting) is an independent job, run in ``processes`` worker processes.
    """
    grid = GRIDS[name]
    combos = itertools.product(*(grid[name] for name in _SPECIALIZE))
    settings: list[tuple[str, tuple[Any, ...]]] = [("specialize", c) for c in combos]
    settings += [("scratch", (e,)) for e in grid["scratch_epochs"]]
    jobs = [(kind, row, s, setting) for kind, setting in settings for s in seeds]
    if processes == 1:
        results = [_job(*j) for j in jobs]
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(min(processes, len(jobs)), mp_context=context) as pool:
            results = list(pool.map(_job, *zip(*jobs)))
    errors: dict[str, list[float]] = {}
    for (kind, _, _, setting), values in zip(jobs, results):
        names = _SPECIALIZE if kind == "specialize" else ("scratch_epochs",)
        key = ",".join(f"{n}={v}" for n, v in zip(names, setting))
        errors.setdefault(key, []).extend(values)
    means = {k: statistics.mean(v) for k, v in errors.items()}
    best_pair = min((k for k in means if k.startswith("base_epochs")), key=lambda k: means[k])
    chosen = dict(item.split("=") for item in best_pair.split(","))
    scratch = [k for k in means if k.startswith("scratch_epochs")]
    chosen["scratch_epochs"] = min(scratch, key=lambda k: means[k]).split("=")[1]
    return {"validation_error": means, "chosen": {k: json.loads(v) for k, v in chosen.items()}}


def tune(config: Any) -> dict[str, Any]:
    """Run :func:`tune_row` for every row of ``config`` on its tuning seeds."""
    return {
        "mode": "tune",
        "tuning_seeds": config.tuning_seeds,
        "rows": {
            name: tune_row(name, getattr(config, name), config.tuning_seeds, config.processes)
            for name in config.rows
        },
        "note": "validation errors (percent) only; test data is never read",
    }
