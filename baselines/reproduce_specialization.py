"""Seed 004's specialization claim, measured on Digits: ``darwin-bench reproduce specialization``.

The paper trains a base network on a related objective (object position), squeezes it with
genetic operators that inherit weights, fits new final-layer weights, and reports the
specialized model 8x faster, 17x smaller and 13% lower error than a fully trained larger
network. Our protocol (offline, CPU, a few minutes):

1. **Base**: a 64-256-256-256 ReLU MLP trained on the Digits training images of classes 0-4
   only (the related objective), ``base_epochs`` epochs.
2. **Specialization**: the ``ga`` agent with ``specialize=true`` on
   ``darwin_bench/Digits-MLP-Specialize-v0`` (all 10 classes): each candidate keeps a fraction
   of every hidden layer's neurons (0 removes a layer) with their trained weights, gets its
   output layer refit by ridge least squares and is fine-tuned ``finetune_epochs`` epochs.
   Reward: ``mnasnet`` on FLOPs (deterministic); the winner is the best reward, i.e. chosen on
   validation data only.
3. **Large from scratch**: the base's architecture with a 10-class head (64-256-256-256-10),
   trained on all 10 classes from scratch, once for ``large_epochs`` (a full training, the
   paper's comparison) and once for ``finetune_epochs`` (the same short budget as the
   specialization step).
4. **Measure** test error, parameters and host latency (batch 1, one thread, median of
   interleaved rounds) of the winner and both large networks.

``latency_ratio`` and ``size_ratio`` are large / specialized; ``error_difference`` is
large test error minus specialized test error in percentage points (positive: the
specialized network is better), all against the fully trained large network; the
``short_budget`` block holds the same against the short-budget one.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from torch import nn

from baselines.runner import run_agent
from darwin_bench.architecture import Architecture
from darwin_bench.costs import LatencyConfig, count_params, measure_latency_ms
from darwin_bench.seeding import derive_seed
from darwin_bench.tasks.specialization import SpecializationTask
from envs.tasks import make_task

ENV_ID = "darwin_bench/Digits-MLP-Specialize-v0"

#: Options (``--options '{"budget": 24}'``) and their defaults.
DEFAULTS: dict[str, Any] = {
    "budget": 40,
    "population_size": 8,
    "finetune_epochs": 10,
    "base_epochs": 30,
    "large_epochs": 30,
    "base_hidden": [256, 256, 256],
    "base_classes": [0, 1, 2, 3, 4],
    "latency_rounds": 7,
}


def _options(options: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(options) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"option(s) {unknown} unknown; allowed: {sorted(DEFAULTS)}")
    return {**DEFAULTS, **options}


def _latencies(models: dict[str, nn.Module], example: Any, rounds: int) -> dict[str, float]:
    """Median host latency (ms, batch 1, 1 thread) per model, timed in interleaved rounds."""
    config = LatencyConfig(warmup=10, repeats=21, number=20, threads=1)
    samples: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(rounds):
        for name, model in models.items():
            samples[name].append(measure_latency_ms(model, example, config)["median"])
    return {name: statistics.median(values) for name, values in samples.items()}


def _plot(path: Path, points: list[tuple[float, float]], rows: dict[str, dict[str, float]]) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 4), dpi=120)
    ax.scatter([p for p, _ in points], [e for _, e in points], s=14, c="0.6", label="GA candidates")
    markers = {"specialized": ("*", "C3"), "large": ("s", "C0"), "large_short": ("^", "C1")}
    for name, row in rows.items():
        marker, color = markers[name]
        ax.scatter(row["params"], row["test_error"], marker=marker, s=90, c=color, label=name)
    ax.set_xscale("log")
    ax.set_xlabel("parameters")
    ax.set_ylabel("test error (%)")
    ax.set_title("Digits: specialization vs large from scratch")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    names = list(rows)
    bx.bar(
        names, [rows[n]["latency_ms"] * 1e3 for n in names], color=[markers[n][1] for n in names]
    )
    bx.set_ylabel("host latency, batch 1 (µs, median)")
    bx.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def reproduce(*, out: Path, seed: int, options: dict[str, Any]) -> dict[str, Any]:
    """Run the protocol of the module docstring; return the measured JSON result.

    Raises:
        ValueError: for an unknown option.
    """
    opts = _options(options)
    task_kwargs = {
        "base_hidden": list(opts["base_hidden"]),
        "base_classes": list(opts["base_classes"]),
        "base_epochs": int(opts["base_epochs"]),
    }
    env_kwargs = {
        "epochs": int(opts["finetune_epochs"]),
        "measure_latency": False,  # the search rewards FLOPs; latency is measured below
        "task_kwargs": task_kwargs,
        "space_kwargs": {"base_hidden": list(opts["base_hidden"])},
    }
    run = run_agent(
        "ga",
        ENV_ID,
        budget=int(opts["budget"]),
        seed=seed,
        out_dir=out / "specialization",
        env_kwargs=env_kwargs,
        agent_config={"specialize": True, "population_size": int(opts["population_size"])},
        resume=False,
    )
    evaluations = [e for e in run.record.evaluations if e.ok and e.reward is not None]
    best = max(evaluations, key=lambda e: (float(e.reward or 0.0), -int(e.step or 0)))

    task = make_task("digits-specialize", task_kwargs)
    assert isinstance(task, SpecializationTask)
    winner = task.fit(
        Architecture.from_dict(best.architecture), seed=best.seed, fidelity=best.fidelity
    )
    digits = task.target
    large_arch = Architecture(
        "mlp",
        digits.input_shape,
        digits.num_outputs,
        tuple(
            [{"type": "dense", "units": w, "activation": "relu"} for w in opts["base_hidden"]]
            + [{"type": "dense", "units": digits.num_outputs, "activation": None}]
        ),
    )
    large_seed = derive_seed(seed, "large-from-scratch")
    large = digits.fit(large_arch, seed=large_seed, fidelity={"epochs": int(opts["large_epochs"])})
    short = digits.fit(
        large_arch, seed=large_seed, fidelity={"epochs": int(opts["finetune_epochs"])}
    )
    models = {"specialized": winner.model, "large": large.model, "large_short": short.model}
    latency = _latencies(models, digits.example_input(1), int(opts["latency_rounds"]))
    results = {"specialized": winner, "large": large, "large_short": short}
    rows = {
        name: {
            "test_error": 100.0 * (1.0 - r.test_metrics["test_accuracy"]),
            "val_error": 100.0 * (1.0 - r.metrics["accuracy"]),
            "params": float(count_params(r.model)),
            "latency_ms": latency[name],
        }
        for name, r in results.items()
    }
    hidden = [la["units"] for la in best.architecture["layers"] if la["type"] == "dense"][:-1]

    def compare(ref: str) -> dict[str, float]:
        spec, big = rows["specialized"], rows[ref]
        return {
            "latency_ratio": big["latency_ms"] / spec["latency_ms"],
            "size_ratio": big["params"] / spec["params"],
            "error_difference": big["test_error"] - spec["test_error"],
            "relative_error_reduction": (big["test_error"] - spec["test_error"])
            / max(big["test_error"], 1e-9),
        }

    points = [
        (e.costs["params"], 100.0 * (1.0 - e.test_metrics["test_accuracy"])) for e in evaluations
    ]
    plot = _plot(out / "specialization.png", points, rows)
    return {
        **compare("large"),
        "short_budget": compare("large_short"),
        "specialized": {
            **rows["specialized"],
            "hidden": hidden,
            "keep": best.architecture["extra"]["keep"],
            "refit_test_error_logged": 100.0 * (1.0 - best.test_metrics["test_accuracy"]),
            "reproduced_exactly": winner.test_metrics["test_accuracy"]
            == best.test_metrics["test_accuracy"],
        },
        "large": {
            **rows["large"],
            "hidden": list(opts["base_hidden"]),
            "epochs": opts["large_epochs"],
        },
        "large_short": {**rows["large_short"], "epochs": opts["finetune_epochs"]},
        "protocol": {
            "task": "digits (sklearn 8x8, 10 classes; test = fixed 20% split)",
            "base": f"MLP 64-{'-'.join(map(str, opts['base_hidden']))} trained "
            f"{opts['base_epochs']} epochs on classes {opts['base_classes']}",
            "search": f"ga specialize=true, population {opts['population_size']}, "
            f"budget {opts['budget']}, fine-tune {opts['finetune_epochs']} epochs, "
            "reward mnasnet on flops, winner by validation-based reward",
            "latency": "host CPU, batch 1, 1 thread, median of interleaved rounds",
            "seed": seed,
        },
        "paper": {"latency_ratio": 8.0, "size_ratio": 17.0, "relative_error_reduction": 0.13},
        "run_log": str(run.path),
        "plot": str(plot),
    }
