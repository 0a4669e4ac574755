"""Processes that write one SQLite cache at the same time (spawned by test_cache_concurrency)."""

from __future__ import annotations

import time

from darwin_bench.evaluation import Evaluation, SQLiteCache


def record(key: str, writer: int) -> Evaluation:
    return Evaluation(key, {"space": "mlp", "writer": writer}, 0, {"epochs": 1},
                      metrics={"accuracy": 0.5}, costs={"flops": 1.0})  # fmt: skip


def write(path: str, writer: int, count: int, shared: int, start_at: float) -> None:
    """Put ``count`` records of this writer's and ``shared`` records both writers put."""
    cache = SQLiteCache(path)
    time.sleep(max(0.0, start_at - time.time()))  # both start together
    for i in range(count):
        cache.put(record(f"w{writer}-{i}", writer))
        if i < shared:
            cache.put(record(f"shared-{i}", writer))
    cache.close()
