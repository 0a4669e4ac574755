"""Seed 004's specialization claim, by its own protocol: ``darwin-bench reproduce specialization``.

The paper trains a base network to *predict object position*, squeezes it with genetic
operators that inherit weights, fits new final-layer weights to *recognise objects*, and
reports the specialized model 8x faster, 17x smaller and 13% lower error than a fully trained
larger network. Two rows, each over held-out seeds (never used to choose a default):

* **scenes** (the faithful analogue): generated scenes of one object of 5 shape classes at a
  random place (:mod:`darwin_bench.data.objects`). The base CNN (3 conv blocks + a dense layer)
  is trained to regress the object's centre on ``pretext_scenes`` unlabelled scenes (plenty of
  data). The recognition data is scarce: ``labelled`` training labels, 500 validation, 2,000
  test scenes, all drawn afresh per seed.
* **digits** (the earlier analogue): the base MLP is trained on digits 0-4; the target is all
  10 classes of scikit-learn's digits (1,077 / 360 / 360).

Per row and seed:

1. **Specialize**: the ``ga`` agent with ``specialize=true`` on the row's ``*-Specialize-v0``
   env: candidates keep a fraction of each unit of the base with their trained weights, get
   the output layer refit by ridge least squares, then ``finetune_epochs`` of fine-tuning.
   Reward ``mnasnet`` on FLOPs; the *winner* is the best reward (validation data only).
2. **From scratch**: the base's architecture scaled by each of ``scratch_widths`` (filters and
   neurons), with a class head, trained ``scratch_epochs`` epochs on the same labelled data.
   The *large* network is the one at ``large_width`` (scenes: twice the base's width; digits:
   the base's own architecture).
3. **Measure** test error, parameters, modeled latency on every device profile and host
   latency (batch 1, the median over interleaved rounds) of the winner and the large network.

Ratios are large / specialized; ``error_difference`` is large minus specialized test error in
percentage points (positive: the specialized network is better). Each is summarized over seeds
with a 95% Student-t interval (ratios: geometric mean, interval on the log scale). Because a
reward target fixes the winner's size, the accuracy-vs-size *fronts* are reported too: every
specialized candidate and every from-scratch size, and ``at_size``: per from-scratch size, its
test error minus that of the specialized candidate with at most as many parameters and the best
*validation* error.
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from torch import nn

from baselines.config import Config
from baselines.runner import run_agent
from baselines.specialization_report import plot_fronts, summarize_row
from baselines.specialization_tuning import tune
from darwin_bench.architecture import Architecture
from darwin_bench.costs import CostConfig, measure_costs
from darwin_bench.seeding import derive_seed
from darwin_bench.tasks.specialization import SpecializationTask
from envs.tasks import make_task

#: The paper's figures (seed 004), for the JSON.
PAPER = {"latency_ratio": 8.0, "size_ratio": 17.0, "relative_error_reduction": 0.13}


def _check(name: str, ok: bool, allowed: str, value: Any) -> None:
    if not ok:
        raise ValueError(f"{name} must be {allowed}; got {value!r}")


@dataclass
class RowConfig(Config):
    """The protocol of one row (each row subclass sets its own defaults).

    Attributes:
        base_conv: conv blocks of the base (``[{"filters", "kernel", "pool"}]``; empty: MLP).
        base_hidden: hidden dense widths of the base.
        base_epochs: epochs the base trains on its pretext.
        finetune_epochs: fine-tuning epochs of every specialized candidate (the env's fidelity).
        finetune_lr: Adam learning rate of the fine-tuning.
        ridge: ridge penalty of the output refit.
        budget: specialized candidates the GA evaluates per seed.
        population_size: GA population (children per generation).
        scratch_epochs: training epochs of the from-scratch networks.
        scratch_widths: width multipliers of the base architecture trained from scratch.
        large_width: the multiplier of the "large" network the headline ratios compare with.
    """

    env_id: ClassVar[str] = ""
    task: ClassVar[str] = ""

    base_conv: list[dict[str, Any]] = field(default_factory=list)
    base_hidden: list[int] = field(default_factory=lambda: [256, 256, 256])
    base_epochs: int = 30
    finetune_epochs: int = 10
    finetune_lr: float = 3e-3
    ridge: float = 1e-3
    budget: int = 40
    population_size: int = 8
    scratch_epochs: int = 30
    scratch_widths: list[float] = field(default_factory=lambda: [0.125, 0.25, 0.5, 1.0])
    large_width: float = 1.0

    def __post_init__(self) -> None:
        for name in ("base_epochs", "finetune_epochs", "budget", "population_size"):
            _check(name, getattr(self, name) >= 1, "an integer >= 1", getattr(self, name))
        _check("scratch_epochs", self.scratch_epochs >= 1, "an integer >= 1", self.scratch_epochs)
        _check("finetune_lr", self.finetune_lr > 0, "> 0", self.finetune_lr)
        _check("ridge", self.ridge >= 0, ">= 0", self.ridge)
        widths = self.scratch_widths
        _check("scratch_widths", bool(widths) and min(widths) > 0, "positive numbers", widths)
        _check("large_width", self.large_width in widths, "one of scratch_widths", self.large_width)

    def task_kwargs(self, seed: int) -> dict[str, Any]:
        """The specialization task's kwargs for one seed (its base seed derives from it)."""
        return {
            "base_conv": self.base_conv,
            "base_hidden": self.base_hidden,
            "base_epochs": self.base_epochs,
            "base_seed": derive_seed(seed, "base"),
            "ridge": self.ridge,
            "finetune_lr": self.finetune_lr,
        }

    def env_kwargs(self, seed: int) -> dict[str, Any]:
        """The specialize env's kwargs for one seed."""
        return {
            "epochs": self.finetune_epochs,
            "measure_latency": False,  # the search rewards FLOPs; latency is measured after
            "task_kwargs": self.task_kwargs(seed),
            "space_kwargs": {"base_conv": self.base_conv, "base_hidden": self.base_hidden},
        }

    def recognition_data(self) -> str:
        """What labelled data the specialized and from-scratch networks share (for the JSON)."""
        raise NotImplementedError


@dataclass
class ScenesRow(RowConfig):
    """Seed 004's protocol on generated object scenes (see the module docstring).

    Attributes:
        labelled: labelled training scenes (the scarce recognition labels).
        val: validation scenes (what the search and the from-scratch training see).
        test: test scenes (reporting only).
        pretext_scenes: unlabelled scenes (with object positions) the base is trained on.
    """

    env_id: ClassVar[str] = "darwin_bench/Objects-CNN-Specialize-v0"
    task: ClassVar[str] = "objects-specialize"

    base_conv: list[dict[str, Any]] = field(
        default_factory=lambda: [{"filters": 8}, {"filters": 16}, {"filters": 16}]
    )
    base_hidden: list[int] = field(default_factory=lambda: [32])
    base_epochs: int = 10
    finetune_epochs: int = 20
    budget: int = 16
    scratch_epochs: int = 60
    scratch_widths: list[float] = field(default_factory=lambda: [0.5, 1.0, 2.0])
    large_width: float = 2.0
    labelled: int = 500
    val: int = 500
    test: int = 2000
    pretext_scenes: int = 2000

    def task_kwargs(self, seed: int) -> dict[str, Any]:
        target = {"labelled": self.labelled, "val": self.val, "test": self.test, "data_seed": seed}
        return {
            **super().task_kwargs(seed),
            "pretext_scenes": self.pretext_scenes,
            "target_kwargs": target,
        }

    def recognition_data(self) -> str:
        return (
            f"{self.labelled} labelled training scenes, {self.val} validation, {self.test} test "
            "(5 classes, "
            f"drawn per seed); base trained on {self.pretext_scenes} unlabelled scenes' positions"
        )


@dataclass
class DigitsRow(RowConfig):
    """The Digits analogue: the base MLP is trained on ``base_classes`` of the digits.

    Attributes:
        base_classes: the digits the base is trained on (its related objective).
    """

    env_id: ClassVar[str] = "darwin_bench/Digits-MLP-Specialize-v0"
    task: ClassVar[str] = "digits-specialize"

    scratch_epochs: int = 10
    base_classes: list[int] = field(default_factory=lambda: [0, 1, 2, 3, 4])

    def task_kwargs(self, seed: int) -> dict[str, Any]:
        return {**super().task_kwargs(seed), "base_classes": self.base_classes}

    def recognition_data(self) -> str:
        return (
            "scikit-learn digits, fixed split: 1077 training, 360 validation, 360 test images; "
            f"base trained on the training images of classes {self.base_classes}"
        )


ROWS: dict[str, type[RowConfig]] = {"scenes": ScenesRow, "digits": DigitsRow}


@dataclass
class SpecializationConfig(Config):
    """Settings of ``darwin-bench reproduce specialization`` (``--options`` JSON).

    Attributes:
        seeds: held-out seeds the result is reported on (default: ``--seed`` and the 4 after).
        tuning_seeds: the seeds defaults were chosen on (validation only); must not overlap
            ``seeds``.
        rows: which rows to run (``scenes``, ``digits``).
        mode: ``"report"`` (the held-out-seed result) or ``"tune"`` (the validation-only grid
            on the tuning seeds that chose the defaults, see
            :mod:`baselines.specialization_tuning`).
        latency_rounds: interleaved rounds of host-latency measurement (median taken).
        processes: seeds run in parallel worker processes (results do not depend on it, apart
            from the measured host latencies, which parallel work makes noisier).
        scenes: the scenes row's protocol (:class:`ScenesRow` fields).
        digits: the Digits row's protocol (:class:`DigitsRow` fields).
    """

    seeds: list[int] | None = None
    tuning_seeds: list[int] = field(default_factory=lambda: [100, 101])
    rows: list[str] = field(default_factory=lambda: ["scenes", "digits"])
    mode: str = "report"
    latency_rounds: int = 7
    processes: int = 1
    scenes: ScenesRow = field(default_factory=ScenesRow)
    digits: DigitsRow = field(default_factory=DigitsRow)

    def __post_init__(self) -> None:
        bad = [r for r in self.rows if r not in ROWS]
        _check("rows", bool(self.rows) and not bad, f"a non-empty list of {list(ROWS)}", self.rows)
        _check("mode", self.mode in ("report", "tune"), "'report' or 'tune'", self.mode)
        _check("latency_rounds", self.latency_rounds >= 1, "an integer >= 1", self.latency_rounds)
        _check("processes", self.processes >= 1, "an integer >= 1", self.processes)
        if self.seeds is not None:
            overlap = sorted(set(self.seeds) & set(self.tuning_seeds))
            _check("seeds", bool(self.seeds) and not overlap, "disjoint from tuning_seeds", overlap)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> SpecializationConfig:
        """Parse options; ``scenes`` and ``digits`` are parsed by their row configs."""
        data = dict(data or {})
        rows = {
            k: ROWS[k].from_dict(data.pop(k)) for k in list(ROWS) if isinstance(data.get(k), dict)
        }
        config = super().from_dict(data)
        for name, row in rows.items():
            setattr(config, name, row)
        return config


def host_latencies(models: dict[str, nn.Module], example: Any, rounds: int) -> dict[str, float]:
    """Median host latency (``latency_ms``, batch 1) per model over interleaved rounds."""
    config = CostConfig(latency=True, devices=())
    samples: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(rounds):
        for name, model in models.items():
            samples[name].append(measure_costs(model, example, config)["latency_ms"])
    return {name: statistics.median(values) for name, values in samples.items()}


def _errors(metrics: dict[str, float], test_metrics: dict[str, float]) -> dict[str, float]:
    """Validation and test error, in percent."""
    return {
        "val_error": 100.0 * (1.0 - metrics["accuracy"]),
        "test_error": 100.0 * (1.0 - test_metrics["test_accuracy"]),
    }


def _network_row(result: Any, costs: dict[str, float]) -> dict[str, Any]:
    """Errors (percent) and costs of one trained network."""
    return {
        **_errors(result.metrics, result.test_metrics),
        "params": costs["params"],
        "flops": costs["flops"],
        **{k: v for k, v in costs.items() if k.startswith("latency_ms@")},
    }


def run_seed(row: RowConfig, seed: int, out: Path, rounds: int) -> dict[str, Any]:
    """One seed of one row: the GA's specialized candidates, the winner, the from-scratch sizes."""
    run = run_agent(
        "ga",
        row.env_id,
        budget=row.budget,
        seed=seed,
        out_dir=out,
        env_kwargs=row.env_kwargs(seed),
        agent_config={"specialize": True, "population_size": row.population_size},
        resume=False,
    )
    evaluations = [e for e in run.record.evaluations if e.ok and e.reward is not None]
    best = max(evaluations, key=lambda e: (float(e.reward or 0.0), -int(e.step or 0)))
    task = make_task(row.task, row.task_kwargs(seed))
    assert isinstance(task, SpecializationTask)
    arch = Architecture.from_dict(best.architecture)
    winner = task.fit(arch, seed=best.seed, fidelity=best.fidelity)
    target, example = task.target, task.example_input(1)
    scratch = {
        w: target.fit(
            task.scaled_architecture(w),
            seed=derive_seed(seed, "scratch", w),
            fidelity={"epochs": row.scratch_epochs},
        )
        for w in row.scratch_widths
    }
    modeled = CostConfig(latency=False)
    large = scratch[row.large_width]
    host = host_latencies({"specialized": winner.model, "large": large.model}, example, rounds)
    specialized = _network_row(winner, measure_costs(winner.model, example, modeled))
    return {
        "seed": seed,
        "base": task.base_metrics(),
        "specialized": {
            **specialized,
            "latency_ms": host["specialized"],
            "keep": arch.extra["keep"],
            "reproduced_exactly": winner.test_metrics["test_accuracy"]
            == best.test_metrics["test_accuracy"],
        },
        "large": {
            **_network_row(large, measure_costs(large.model, example, modeled)),
            "latency_ms": host["large"],
            "width": row.large_width,
        },
        "scratch": [
            {"width": w, **_network_row(r, measure_costs(r.model, example, modeled))}
            for w, r in scratch.items()
        ],
        "candidates": [
            {
                **_errors(e.metrics, e.test_metrics),
                "params": e.costs["params"],
                "keep": e.architecture["extra"]["keep"],
            }
            for e in evaluations
        ],
        "run_log": str(run.path),
    }


def _run_seeds(
    row: RowConfig, seeds: list[int], out: Path, config: SpecializationConfig
) -> list[dict[str, Any]]:
    """:func:`run_seed` for every seed, in ``config.processes`` processes; results in order."""
    args = [(row, s, out, config.latency_rounds) for s in seeds]
    if config.processes == 1:
        return [run_seed(*a) for a in args]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(min(config.processes, len(seeds)), mp_context=context) as pool:
        return list(pool.map(run_seed, *zip(*args)))


def reproduce(*, out: Path, seed: int, options: dict[str, Any]) -> dict[str, Any]:
    """Run the protocol of the module docstring; return the measured JSON result.

    Raises:
        ValueError: for an unknown or out-of-range option (named).
    """
    config = SpecializationConfig.from_dict(options)
    if config.mode == "tune":
        return tune(config)
    seeds = config.seeds if config.seeds is not None else [seed + k for k in range(5)]
    if set(seeds) & set(config.tuning_seeds):
        raise ValueError(
            f"seeds must be disjoint from tuning_seeds {config.tuning_seeds}; got {seeds}"
        )
    load_before = os.getloadavg()
    rows: dict[str, Any] = {}
    for name in config.rows:
        row: RowConfig = getattr(config, name)
        start = time.perf_counter()
        per_seed = _run_seeds(row, seeds, out / "specialization" / name, config)
        rows[name] = {
            **summarize_row(per_seed),
            "recognition_data": row.recognition_data(),
            "protocol": {"env": row.env_id, **row.to_dict()},
            "seeds": per_seed,
            "wall_seconds": time.perf_counter() - start,
        }
    first = rows[config.rows[0]]["summary"]
    plot = plot_fronts(out / "specialization.png", rows)
    return {
        "latency_ratio": first["latency_ratio"]["mean"],
        "size_ratio": first["size_ratio"]["mean"],
        "error_difference": first["error_difference"]["mean"],
        "primary_row": config.rows[0],
        "rows": rows,
        "held_out_seeds": seeds,
        "tuning_seeds": config.tuning_seeds,
        "paper": PAPER,
        "config": config.to_dict(),
        "load_average": {"before": list(load_before), "after": list(os.getloadavg())},
        "plot": str(plot),
    }
