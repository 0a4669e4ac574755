"""Faults for the worker-pool tests: functions and a task that hang or kill their process.

A module of its own so that spawned worker processes can import what they run.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

from darwin_bench.tasks import DigitsTask


def square(x: int) -> int:
    return x * x


def square_or_raise(x: int) -> int:
    if x == 3:
        raise ValueError("three is not allowed")
    return x * x


def faulty(item: tuple[str, str]) -> str:
    """``("hang", _)`` sleeps for ten minutes; ``("die", _)`` kills its own process;
    ``("die-once", marker)`` kills its process unless ``marker`` exists (creating it first)."""
    kind, marker = item
    if kind == "hang":
        time.sleep(600)
    if kind == "die" or (kind == "die-once" and not Path(marker).exists()):
        Path(marker).touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return kind


class FaultyDigits(DigitsTask):
    """Digits, except that training a first hidden layer of 16 units hangs and one of 32 units
    kills the process (as the out-of-memory killer would)."""

    def _fit(self, architecture: Any, *, seed: int, fidelity: Any) -> Any:
        units = architecture.layers[0].get("units")
        if units == 16:
            time.sleep(600)
        if units == 32:
            os.kill(os.getpid(), signal.SIGKILL)
        return super()._fit(architecture, seed=seed, fidelity=fidelity)
