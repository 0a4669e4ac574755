"""`RayExecutor`: evaluate populations on a Ray cluster (the optional ``[ray]`` extra).

Jobs become Ray tasks; results come back in the order of the items, whatever node ran them.
Everything that decides a result (per-candidate seeds, fidelity, the task's settings) is fixed
on the driver before a job leaves, so a job gives on a worker what it gives locally (bit for bit
on identical hardware and software; see docs/performance.md).

A worker that dies (its process crashes, its node goes away, Ray kills it for memory) is retried
``retries`` times by Ray; a job still lost after that fails by the local process pool's rule,
:class:`~darwin_bench.evaluation.workers.FailurePolicy` (decision D7): its
:class:`~darwin_bench.evaluation.workers.WorkerLost` error is handed to ``on_lost`` (the
evaluator records its networks as failed evaluations, not cached, so a later run retries
them), or raised without one. ``time_limit`` is the local pool's alone. An exception raised by
the job itself is not a lost worker: it is re-raised on the driver, as the serial executor
would.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from darwin_bench.evaluation.workers import LOST_RETRIES, FailurePolicy, LostHandler


def _apply(fn: Callable[[Any], Any], item: Any) -> Any:
    return fn(item)


def import_ray() -> Any:
    """The ``ray`` module.

    Raises:
        ValueError: when Ray is not installed, naming the extra to install.
    """
    try:
        import ray
    except ImportError:
        raise ValueError("executor 'ray' needs Ray: pip install 'darwin-bench[ray]'") from None
    return ray


class RayExecutor:
    """Run jobs as Ray tasks.

    Args:
        address: the cluster to use: ``None`` lets ``ray.init()`` decide (``RAY_ADDRESS`` if
            set, else a new local instance), ``"auto"`` joins the cluster this machine belongs
            to, ``"ray://HOST:10001"`` connects a Ray client to a remote head node. If this
            process already called ``ray.init``, that connection is used.
        retries: how often Ray re-runs a job whose worker died before it is lost.
        cpus: CPUs each job asks for.
        workers: how many parts a batched population is split into (default: the cluster's
            CPU count divided by ``cpus``).
    """

    def __init__(
        self,
        address: str | None = None,
        *,
        retries: int = LOST_RETRIES,
        cpus: float = 1.0,
        workers: int | None = None,
    ) -> None:
        self.address = address
        self.policy = FailurePolicy(retries=retries)  # checks it
        self.retries = self.policy.retries
        self.cpus = float(cpus)
        self._workers = workers
        self._started = False
        self._remote: Any = None

    def _ray(self) -> Any:
        ray = import_ray()
        if not ray.is_initialized():
            ray.init(address=self.address, log_to_driver=False)
            self._started = self.address is None
        if self._remote is None:
            self._remote = ray.remote(_apply).options(
                num_cpus=self.cpus, max_retries=self.retries, retry_exceptions=False
            )
        return ray

    @property
    def workers(self) -> int:
        """How many jobs the cluster runs at once (batched populations are split as many ways)."""
        if self._workers is None:
            cpus = self._ray().cluster_resources().get("CPU", 1.0)
            self._workers = max(1, int(cpus // self.cpus))
        return self._workers

    def __call__(
        self,
        fn: Callable[[Any], Any],
        items: Sequence[Any],
        on_lost: LostHandler | None = None,
    ) -> list[Any]:
        ray = self._ray()
        fn_ref = ray.put(fn)  # the task and its data travel once per call
        refs = [self._remote.remote(fn_ref, item) for item in items]
        out = []
        for item, ref in zip(items, refs):
            try:
                out.append(ray.get(ref))
            except ray.exceptions.RayTaskError as exc:  # the job raised: as if run here
                raise exc.as_instanceof_cause() from None
            except ray.exceptions.RayError as exc:  # the worker or node was lost
                first = (str(exc).strip().splitlines() or [""])[0][:200]
                # Ray ran it 1 + retries times; the policy then gives it up (never None here).
                failure = self.policy.after_death(
                    self.retries + 1, f"Ray {type(exc).__name__}: {first}"
                )
                assert failure is not None
                if on_lost is None:
                    raise failure from exc
                out.append(on_lost(item, failure))
        return out

    def close(self) -> None:
        """Shut down the local Ray instance this executor started (never a cluster it joined)."""
        if self._started:
            import_ray().shutdown()
            self._started = False
        self._remote = None
