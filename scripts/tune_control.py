"""Tune the CartPole trainer's settings on validation episodes and tuning seeds 101-103 only.

Prints, per setting, the mean validation return of four policy architectures on each tuning seed
and the CPU seconds of the whole evaluation (training, validation and test episodes; the test
returns are never printed). Usage::

    python scripts/tune_control.py '{"n_epochs": 10}' '{"n_epochs": 20}'

Each argument is a JSON object of ``PPOConfig`` fields (``timesteps`` sets the step budget).
"""

from __future__ import annotations

import json
import sys
import time

from darwin_bench.architecture import Architecture
from darwin_bench.tasks.control import ControlTask

POLICIES = {
    "64-64 tanh": ((64, 64), "tanh"),
    "32 relu": ((32,), "relu"),
    "128-16 elu": ((128, 16), "elu"),
    "16-16-16 gelu": ((16, 16, 16), "gelu"),
}
TUNING_SEEDS = (101, 102, 103)


def policy(task: ControlTask, widths: tuple[int, ...], activation: str) -> Architecture:
    layers = [{"type": "dense", "units": w, "activation": activation} for w in widths]
    layers.append({"type": "dense", "units": task.num_outputs, "activation": None})
    return Architecture("mlp", task.input_shape, task.num_outputs, tuple(layers))


def main(settings: list[dict]) -> None:
    for setting in settings:
        ppo = {k: v for k, v in setting.items() if k != "timesteps"}
        task = ControlTask("CartPole-v1", ppo=ppo, timesteps=setting.get("timesteps"))
        rows, cpu = {}, 0.0
        for label, (widths, activation) in POLICIES.items():
            arch = policy(task, widths, activation)
            returns = []
            for seed in TUNING_SEEDS:
                start = time.process_time()
                result = task.fit(arch, seed=seed, fidelity=task.check_fidelity({}))
                cpu += time.process_time() - start
                returns.append(round(result.metrics["mean_return"], 1))
            rows[label] = returns
        print(
            json.dumps(
                {"setting": setting, "validation_mean_return": rows, "cpu_seconds": round(cpu, 1)}
            )
        )


if __name__ == "__main__":
    main([json.loads(a) for a in sys.argv[1:]] or [{}])
