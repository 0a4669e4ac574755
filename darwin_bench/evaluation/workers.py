"""Worker processes that can be killed: a time limit per job and retries of dead workers.

The failure rule (decision D7; any executor follows it through :class:`FailurePolicy`):

- **Time limit.** A job still running ``time_limit`` seconds after it started has its worker
  killed (``SIGKILL``: a hung training, a loop in a plug-in task or a stuck native call stops
  whatever it is doing) and replaced; the job fails with ``TimeLimitExceeded`` and is not
  retried (a hang is as likely to repeat as not, and a retry would double the wait).
- **Dead worker.** A worker that dies while it runs a job (the out-of-memory killer, a
  segfault, ``os._exit``) is replaced and the job runs again on the new worker, up to
  ``retries`` times; then it fails with ``WorkerDied`` and the exit code or signal.

A failed job is handed to the caller's ``on_lost(item, error)`` (the executors' protocol,
:mod:`darwin_bench.evaluation.executors`), whose return value takes the job's place; results
stay in the order of the items. :class:`~darwin_bench.evaluation.Evaluator` records such jobs
as failed evaluations (reasons ``TimeLimitExceeded: ...`` and ``WorkerLost: ...``), which it
does not cache, so a later run tries them again. Without ``on_lost`` the error is raised. An
exception raised by the job's function itself is not a failure of the worker: it is raised in
the caller, as the serial executor would.

Why processes and not a cooperative deadline checked inside the training loop: a deadline
only stops code that checks it, which a plug-in task, a PPO rollout or a single slow native
call does not; killing the process always works. Its price, per evaluation, is the pickling of
the request and result (the task is sent once per worker); ``perf overhead`` measures it.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import pickle
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from darwin_bench.validation import check_positive_float

#: How often a job whose worker died is run again before it counts as lost.
LOST_RETRIES = 2


LostHandler = Callable[[Any, Exception], Any]
"""``on_lost(item, error)``: what to record in the place of a job that failed by the policy
(``error`` is a :class:`WorkerLost` or :class:`TimeLimitExceeded`)."""


class WorkerLost(RuntimeError):
    """The worker running a job died (retried, then given up); not deterministic."""


class TimeLimitExceeded(RuntimeError):
    """A job ran past the time limit and its worker was killed; not deterministic."""


@dataclass(frozen=True)
class FailurePolicy:
    """When a job fails instead of waiting or running again (the rule of this module).

    Args:
        time_limit: seconds a job may run (``None``: no limit).
        retries: how many times a job whose worker died runs again (``0``: never).
    """

    time_limit: float | None = None
    retries: int = LOST_RETRIES

    def __post_init__(self) -> None:
        if self.time_limit is not None:
            check_positive_float("time_limit", self.time_limit)
        if isinstance(self.retries, bool) or not isinstance(self.retries, int) or self.retries < 0:
            raise ValueError(f"worker_retries must be an integer >= 0; got {self.retries!r}")

    def expired(self, started: float, now: float) -> bool:
        """True when a job started at ``started`` has run past the time limit at ``now``."""
        return self.time_limit is not None and now - started >= self.time_limit

    def timed_out(self, seconds: float) -> TimeLimitExceeded:
        """The error of a job stopped at the time limit."""
        return TimeLimitExceeded(
            f"stopped after {seconds:.1f} s (time_limit={self.time_limit:g} s)"
        )

    def after_death(self, attempts: int, detail: str) -> WorkerLost | None:
        """``None`` when a job whose worker died should run again, else its error."""
        if attempts <= self.retries:
            return None
        return WorkerLost(f"{detail} ({attempts} attempts)")


def _serve(conn: Connection) -> None:
    """A worker's loop: keep the latest function, run jobs, send back results or errors."""
    fn: Callable[[Any], Any] | None = None
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message[0] == "fn":
            fn = pickle.loads(message[1])
            continue
        index, item = message[1], message[2]
        conn.send(("start", index, None))  # the time limit counts from here
        try:
            assert fn is not None
            conn.send(("ok", index, fn(item)))
        except Exception as exc:  # the function's own error: the caller raises it
            conn.send(("error", index, exc))


class _Worker:
    """One worker process and its pipe; ``fn`` is the digest of the function it holds."""

    def __init__(self, context: Any) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child,), daemon=True)
        self.process.start()
        child.close()
        self.fn = ""
        #: (item index, when it started; None until the worker says it has)
        self.job: tuple[int, float | None] | None = None

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.conn.close()

    def death(self) -> str:
        """How the process ended, e.g. ``"killed by signal 9"``."""
        self.process.join(timeout=5)
        code = self.process.exitcode
        if code is not None and code < 0:
            return f"worker process killed by signal {-code}"
        return f"worker process exited with code {code}"


class WorkerPool:
    """An executor (``(fn, items) -> results``) over killable worker processes.

    Args:
        workers: processes (started with ``spawn`` on first use, so torch's thread pools are
            never forked, and kept for later calls).
        policy: the time limit and retries (see the module docstring).

    Results come back in the order of ``items``; a job that failed by the policy is replaced by
    ``on_lost(item, error)``. ``fn`` and the items must be picklable; ``fn`` is sent to each
    worker once (again only when it changes).
    """

    def __init__(self, workers: int = 2, policy: FailurePolicy | None = None) -> None:
        self.workers = int(workers)
        self.policy = policy or FailurePolicy()
        self._context = multiprocessing.get_context("spawn")
        self._pool: list[_Worker] = []
        self._error: Exception | None = None
        self._failed: dict[int, Exception] = {}
        self.stats = {"started": 0, "killed_at_time_limit": 0, "died": 0, "retried": 0}

    def _spawn(self) -> _Worker:
        self.stats["started"] += 1
        return _Worker(self._context)

    def __call__(
        self,
        fn: Callable[[Any], Any],
        items: Sequence[Any],
        on_lost: LostHandler | None = None,
    ) -> list[Any]:
        if not items:
            return []
        payload = pickle.dumps(fn)
        digest = hashlib.sha256(payload).hexdigest()
        while len(self._pool) < min(self.workers, len(items)):
            self._pool.append(self._spawn())
        results: list[Any] = [None] * len(items)
        attempts = [0] * len(items)
        todo = deque(range(len(items)))
        self._error = None
        self._failed = {}
        while (todo and self._error is None) or any(w.job for w in self._pool):
            for slot, worker in enumerate(self._pool):
                if worker.job is None and todo and self._error is None:
                    if not worker.process.is_alive():  # died between calls
                        worker.kill()
                        worker = self._pool[slot] = self._spawn()
                    index = todo.popleft()
                    if worker.fn != digest:
                        worker.conn.send(("fn", payload))
                        worker.fn = digest
                    worker.conn.send(("job", index, items[index]))
                    worker.job = (index, None)
                    attempts[index] += 1
            self._wait_and_collect(results, attempts, todo)
        if self._error is not None:  # raised once every running job has finished
            raise self._error
        for index, failure in self._failed.items():
            if on_lost is None:
                raise failure
            results[index] = on_lost(items[index], failure)
        return results

    def _wait_and_collect(self, results: list[Any], attempts: list[int], todo: deque) -> None:
        """Wait for a result, a death or a deadline, and handle whatever happened."""
        busy = [w for w in self._pool if w.job is not None]
        starts = [w.job[1] for w in busy if w.job is not None and w.job[1] is not None]
        timeout = None
        if self.policy.time_limit is not None and starts:
            timeout = max(0.0, min(starts) + self.policy.time_limit - time.monotonic())
        wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout)
        now = time.monotonic()
        for slot, worker in enumerate(self._pool):
            if worker.job is None:
                continue
            index, started = worker.job
            status, value = "", None
            while worker.conn.poll() and status in ("", "start"):
                try:
                    status, _, value = worker.conn.recv()
                except (EOFError, OSError):
                    status = "died"
                if status == "start":
                    started = now
                    worker.job = (index, started)
            if status == "start":
                status = ""
            if status:
                if status == "ok":
                    results[index], worker.job = value, None
                    continue
                if status == "error":
                    worker.job = None
                    self._error = self._error or value
                    continue
            elif not worker.process.is_alive():
                status = "died"
            elif started is not None and self.policy.expired(started, now):
                self.stats["killed_at_time_limit"] += 1
                worker.kill()
                self._pool[slot] = self._spawn()
                self._failed[index] = self.policy.timed_out(now - started)
                continue
            else:
                continue
            detail = worker.death()
            self.stats["died"] += 1
            worker.kill()
            self._pool[slot] = self._spawn()
            failure = self.policy.after_death(attempts[index], detail)
            if failure is None:
                self.stats["retried"] += 1
                todo.appendleft(index)
            else:
                self._failed[index] = failure

    def close(self) -> None:
        """Stop the workers."""
        for worker in self._pool:
            worker.conn.close()
            worker.process.join(timeout=1)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
        self._pool = []
