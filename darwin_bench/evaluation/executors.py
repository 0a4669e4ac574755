"""Executors: how a batch of independent jobs runs (pymoo's injected-runner idea).

An executor is any callable ``(fn, items) -> list`` returning results in the order of
``items``. Seeds are fixed in the items before they reach an executor, so the choice of
executor never changes a result. An executor that runs jobs in other processes may also take
``on_lost``: what to return for an item whose worker died ``LOST_RETRIES`` times.

:func:`make_executor` builds one from the env kwarg ``executor``: ``"local"`` (this process, or
a pool of ``workers`` processes), ``"ray"`` or ``"ray:ADDRESS"`` (a Ray cluster,
:class:`~darwin_bench.evaluation.ray_executor.RayExecutor`).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: How often a job whose worker died is run again before it counts as lost.
LOST_RETRIES = 2

LostHandler = Callable[[Any, str], Any]
"""``on_lost(item, reason)``: the result to record for an item whose worker was lost."""


class WorkerLost(RuntimeError):
    """The worker running an evaluation died (retried, then given up); not deterministic."""


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


def make_executor(spec: str = "local", workers: int = 1) -> Executor:
    """The executor an env kwarg names.

    Args:
        spec: ``"local"``, ``"ray"`` (``ray.init()``'s default cluster) or ``"ray:ADDRESS"``
            (e.g. ``"ray:auto"``, ``"ray:ray://head:10001"``).
        workers: local processes (``"local"``), or how many parts a batched population is
            split into on Ray (1: one per cluster CPU).

    Raises:
        ValueError: for another spec, or ``"ray"`` without Ray installed.
    """
    if spec == "local":
        return ProcessPool(workers) if workers > 1 else serial
    if spec == "ray" or spec.startswith("ray:"):
        from darwin_bench.evaluation.ray_executor import RayExecutor, import_ray

        import_ray()
        address = spec.partition(":")[2] or None
        return RayExecutor(address, workers=workers if workers > 1 else None)
    raise ValueError(f"executor must be 'local', 'ray' or 'ray:ADDRESS'; got {spec!r}")
