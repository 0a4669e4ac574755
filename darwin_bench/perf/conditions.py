"""The conditions a benchmark ran under: machine, load and versions (part of every report)."""

from __future__ import annotations

import os
import platform
from typing import Any

import numpy as np
import onnxruntime
import torch


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages (None where the OS does not report them)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def conditions() -> dict[str, Any]:
    """Machine, CPU count, load average and library versions, for a benchmark's report."""
    return {
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "load_average": load_average(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "onnxruntime": onnxruntime.__version__,
        "numpy": np.__version__,
    }
