"""``perf tabular``: env steps per second of a tabular env, and how fast its table loads.

The steps are taken as a user takes them: ``gym.make(env_id)`` with Gymnasium's default
wrappers (order enforcing, the passive env checker), one ``step`` per proposal, genomes drawn
from the env's space beforehand (so the agent's own sampling is not timed), torch pinned to one
thread, in one process (one core). The table's load time is measured cold (a fresh read of the
file) and warm (the per-process cache that every later env of the same table uses).
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

#: Genomes drawn before timing (the steps cycle through them).
POOL = 4096


def _load_seconds(env: Any) -> dict[str, float]:
    from darwin_bench.tables.table import Table, load_table

    path = env.unwrapped.core.table.path
    start = time.perf_counter()
    Table.load(path)
    cold = time.perf_counter() - start
    start = time.perf_counter()
    load_table(path)
    return {"cold": cold, "warm": time.perf_counter() - start}


def tabular_steps(
    env_id: str = "darwin_bench/Digits-MLP-Tab-v0",
    *,
    steps: int = 50_000,
    repeats: int = 3,
    seed: int = 0,
    env_kwargs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Measure env steps per second through ``gym.make`` (see the module docstring).

    Args:
        env_id: a tabular env id.
        steps: steps per timed repeat (the budget is set so no repeat reaches it).
        repeats: timed repeats; the report gives each and their median.
        seed: seed of the genomes and of the env's runs.
        env_kwargs: further env kwargs (e.g. ``{"budget_kind": "train_flops"}``).

    Returns:
        JSON-able report: steps per second (median and per repeat), load times, table size,
        the machine's load average.
    """
    import gymnasium as gym
    import torch

    import darwin_bench  # noqa: F401  (registers the envs)

    torch.set_num_threads(1)
    kwargs = {"budget": steps * repeats + 1, **dict(env_kwargs or {})}
    start = time.perf_counter()
    env = gym.make(env_id, **kwargs)
    make_seconds = time.perf_counter() - start
    unwrapped: Any = env.unwrapped
    space = unwrapped.search_space
    rng = np.random.default_rng(seed)
    pool = [space.sample(rng) for _ in range(min(POOL, steps))]
    env.reset(seed=seed)
    rates, cpu_rates = [], []
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        for i in range(steps):
            env.step(pool[i % len(pool)])
        rates.append(steps / (time.perf_counter() - start))
        cpu_rates.append(steps / (time.process_time() - cpu))
    table = unwrapped.core.table
    report = {
        "env_id": env_id,
        "env_kwargs": kwargs,
        "steps": steps,
        "repeats": repeats,
        "steps_per_second": float(np.median(rates)),
        "steps_per_second_each": [round(r, 1) for r in rates],
        # Steps per second of this process's CPU time: robust to other jobs on the machine.
        "steps_per_cpu_second": float(np.median(cpu_rates)),
        "wrappers": _wrappers(env),
        "make_seconds": make_seconds,
        "table_load_seconds": _load_seconds(env),
        "table_bytes": os.path.getsize(table.path),
        "architectures": table.num_architectures,
        "seeds": table.num_seeds,
        "epochs": table.max_epochs,
        "torch_threads": torch.get_num_threads(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cpu_count": os.cpu_count(),
    }
    env.close()
    return report


def _wrappers(env: Any) -> list[str]:
    names = []
    while hasattr(env, "env"):
        names.append(type(env).__name__)
        env = env.env
    return names
