"""Executors: how a batch of independent jobs runs (pymoo's injected-runner idea).

An executor is any callable ``(fn, items) -> list`` returning results in the order of
``items``. Seeds are fixed in the items before they reach an executor, so the choice of
executor never changes a result.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    """Runs ``fn`` on every item and returns the results in order."""

    def __call__(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]: ...


def serial(fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """Run the jobs one after another in this process (the default)."""
    return [fn(item) for item in items]


class ProcessPool:
    """Run the jobs in a pool of worker processes on this machine.

    Args:
        workers: number of processes.

    ``fn`` and the items must be picklable. Workers are started with ``spawn`` so that
    torch's thread pools are never forked.
    """

    def __init__(self, workers: int = 2) -> None:
        self.workers = int(workers)
        self._pool: ProcessPoolExecutor | None = None

    def __call__(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        if len(items) <= 1:
            return serial(fn, items)
        if self._pool is None:
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
        return list(self._pool.map(fn, items))

    def close(self) -> None:
        """Shut the workers down."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
