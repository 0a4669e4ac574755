"""The conditions a benchmark ran under, recorded beside every figure."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch


def conditions() -> dict[str, Any]:
    """Load average (1, 5, 15 min), CPU count, Python, torch and the torch thread count."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return {
        "load_average": [round(v, 2) for v in load],
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
    }


@dataclass
class Timing:
    """Wall-clock and CPU seconds of a block (CPU time of this process, all threads).

    On a shared machine wall time counts the time other jobs held the cores; the CPU time of a
    single-threaded block does not, so ratios of CPU times are the steadier figure there.
    """

    wall: float = 0.0
    cpu: float = 0.0

    def to_dict(self) -> dict[str, float]:
        """``{"wall_seconds", "cpu_seconds"}``."""
        return {"wall_seconds": round(self.wall, 4), "cpu_seconds": round(self.cpu, 4)}


@contextmanager
def timed() -> Iterator[Timing]:
    """Measure the block: ``with timed() as t: ...`` then ``t.wall``, ``t.cpu``."""
    timing = Timing()
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield timing
    finally:
        timing.wall = time.perf_counter() - wall
        timing.cpu = time.process_time() - cpu
