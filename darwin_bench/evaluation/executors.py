"""Executors: how a batch of independent jobs runs (pymoo's injected-runner idea).

An executor is any callable ``(fn, items) -> list`` returning results in the order of
``items``. Seeds are fixed in the items before they reach an executor, so the choice of
executor never changes a result. An executor that runs jobs in other processes may also take
``on_lost(item, error)``: what to return for an item that failed by the one failure rule,
:class:`~darwin_bench.evaluation.workers.FailurePolicy` (decision D7).

:func:`make_executor` builds one from the env kwarg ``executor``: ``"local"`` (this process, or
a pool of ``workers`` processes), ``"ray"`` or ``"ray:ADDRESS"`` (a Ray cluster,
:class:`~darwin_bench.evaluation.ray_executor.RayExecutor`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from darwin_bench.evaluation.workers import (
    LOST_RETRIES,
    FailurePolicy,
    LostHandler,
    TimeLimitExceeded,
    WorkerLost,
    WorkerPool,
)

T = TypeVar("T")
R = TypeVar("R")

__all__ = [
    "LOST_RETRIES",
    "Executor",
    "LostHandler",
    "ProcessPool",
    "TimeLimitExceeded",
    "WorkerLost",
]


class Executor(Protocol):
    """Runs ``fn`` on every item and returns the results in order."""

    def __call__(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]: ...


def serial(fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """Run the jobs one after another in this process (the default)."""
    return [fn(item) for item in items]


class ProcessPool(WorkerPool):
    """Run the jobs in a pool of worker processes on this machine.

    Args:
        workers: number of processes.
        time_limit: seconds a job may run before its worker is killed and the job is lost
            (``None``: no limit).
        retries: how many times a job whose worker died runs again before it is lost.

    ``fn`` and the items must be picklable. Workers are started with ``spawn`` so that
    torch's thread pools are never forked. The failure rule is
    :mod:`darwin_bench.evaluation.workers`'s; a lost job's place goes to ``on_lost``.
    """

    def __init__(
        self, workers: int = 2, time_limit: float | None = None, retries: int = LOST_RETRIES
    ) -> None:
        super().__init__(workers, FailurePolicy(time_limit, retries))


def make_executor(
    spec: str = "local",
    workers: int = 1,
    time_limit: float | None = None,
    retries: int = LOST_RETRIES,
) -> Executor:
    """The executor an env kwarg names.

    Args:
        spec: ``"local"``, ``"ray"`` (``ray.init()``'s default cluster) or ``"ray:ADDRESS"``
            (e.g. ``"ray:auto"``, ``"ray:ray://head:10001"``).
        workers: local processes (``"local"``), or how many parts a batched population is
            split into on Ray (1: one per cluster CPU).
        time_limit: seconds a job may run (local only; it then runs in a worker process even
            with ``workers=1``).
        retries: how many times a job whose worker died runs again before it is lost.

    Raises:
        ValueError: for another spec, ``"ray"`` without Ray installed, or a time limit on Ray.
    """
    policy = FailurePolicy(time_limit, retries)  # checks both
    if spec == "local":
        if workers > 1 or time_limit is not None:
            return ProcessPool(workers, policy.time_limit, policy.retries)
        return serial
    if spec == "ray" or spec.startswith("ray:"):
        from darwin_bench.evaluation.ray_executor import RayExecutor, import_ray

        if time_limit is not None:
            raise ValueError("time_limit is not supported with executor 'ray' (local only)")
        import_ray()
        address = spec.partition(":")[2] or None
        return RayExecutor(address, workers=workers if workers > 1 else None, retries=retries)
    raise ValueError(f"executor must be 'local', 'ray' or 'ray:ADDRESS'; got {spec!r}")
