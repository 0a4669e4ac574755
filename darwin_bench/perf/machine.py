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
    """Load average (1, 5, 15 min), CPU count and model, Python, torch and the torch thread
    count."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return {
        "load_average": [round(v, 2) for v in load],
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
    }


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, else ``platform.processor()``): the
    same VM name can sit on different hosts, and figures move with the CPU."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


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
