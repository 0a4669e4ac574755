"""`Evaluator`: trains and costs whole populations, never the same evaluation twice."""

from __future__ import annotations

import copy
import inspect
import math
import time
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

import torch
from torch import nn

from darwin_bench.architecture import Architecture
from darwin_bench.costs import CostConfig, LatencyError, measure_costs
from darwin_bench.evaluation.cache import EvaluationCache, MemoryCache
from darwin_bench.evaluation.executors import Executor, serial
from darwin_bench.evaluation.record import Evaluation
from darwin_bench.hashing import content_hash
from darwin_bench.seeding import torch_determinism
from darwin_bench.tasks.base import Task, TaskResult
from darwin_bench.validation import check_positive_int


@dataclass(frozen=True)
class EvalRequest:
    """One network to evaluate.

    Attributes:
        architecture: the network.
        seed: its training seed (derive it from the run seed and the architecture's hash).
        fidelity: e.g. ``{"epochs": 5}``; missing names take the task's defaults.
        genome: the action that proposed it, recorded for the run log.
    """

    architecture: Architecture
    seed: int
    fidelity: Mapping[str, int] = field(default_factory=dict)
    genome: Sequence[int] | None = None


#: Failures that the same request reproduces exactly, so caching them is safe.
DETERMINISTIC_FAILURES = ("TrainingDiverged", "FloatingPointError", "LatencyError")


def is_deterministic_failure(reason: str) -> bool:
    """True when a failed evaluation's reason is one that retrying would only repeat."""
    return reason.split(":", 1)[0] in DETERMINISTIC_FAILURES


def run_evaluation(task: Task, cost_config: CostConfig, job: tuple[str, EvalRequest]) -> Evaluation:
    """Train, score and cost one request (a module-level function, so workers can pickle it).

    A training that raises or produces non-finite (search-facing) metrics becomes a ``failed``
    evaluation with the reason; its costs are measured on the untrained network. Divergence (a
    non-finite loss or metric) is deterministic and cached; any other exception (a bug in a
    plug-in task, running out of memory) is recorded but not cached, so a later run retries it.
    A network whose latency cannot be measured (ONNX export, loading or parity check failed) is
    a failed evaluation too (``LatencyError: ...``, deterministic), with its other costs.
    Success and reward depend on search-facing metrics only: a non-finite test metric is left
    out of ``test_metrics`` (reports show it as missing) and does not fail the evaluation.
    """
    key, request = job
    fidelity = task.check_fidelity(request.fidelity)
    start = time.perf_counter()
    result: TaskResult | Exception
    try:
        result = task.fit(request.architecture, seed=request.seed, fidelity=fidelity)
    except Exception as exc:  # a failed evaluation, not a crashed search
        result = exc
    return finish_evaluation(task, cost_config, key, request, result, time.perf_counter() - start)


def finish_evaluation(
    task: Task,
    cost_config: CostConfig,
    key: str,
    request: EvalRequest,
    result: TaskResult | Exception,
    seconds: float,
) -> Evaluation:
    """Check, cost and record the outcome of training ``request`` (a result or the exception
    that failed it); ``seconds`` is the time its training took (a batch member's share)."""
    fidelity = task.check_fidelity(request.fidelity)
    start = time.perf_counter()
    status, reason = "ok", ""
    metrics: dict[str, float] = {}
    test_metrics: dict[str, float] = {}
    train_seconds = 0.0
    model = None
    try:
        if isinstance(result, Exception):
            raise result
        bad = [k for k, v in result.metrics.items() if not math.isfinite(v)]
        if bad:
            raise FloatingPointError(f"non-finite metrics {bad}")
        metrics, model, train_seconds = dict(result.metrics), result.model, result.train_seconds
        test_metrics = {k: v for k, v in result.test_metrics.items() if math.isfinite(v)}
    except Exception as exc:  # a failed evaluation, not a crashed search
        status, reason = "failed", f"{type(exc).__name__}: {exc}"
    if model is None:
        with torch_determinism(request.seed):
            model = task.build(request.architecture)
    costs, failure = measure_or_fail(model, task.example_input(1), cost_config)
    if failure and status == "ok":
        status, reason = "failed", failure
    return Evaluation(
        evaluation_id=key,
        architecture=request.architecture.to_dict(),
        seed=int(request.seed),
        fidelity=fidelity,
        status=status,  # type: ignore[arg-type]
        reason=reason,
        metrics={k: float(v) for k, v in metrics.items()},
        test_metrics={k: float(v) for k, v in test_metrics.items()},
        costs={k: float(v) for k, v in costs.items()},
        train_seconds=train_seconds,
        wall_seconds=seconds + time.perf_counter() - start,
        genome=[int(g) for g in request.genome] if request.genome is not None else None,
    )


def measure_or_fail(
    model: nn.Module, example: torch.Tensor, cost_config: CostConfig
) -> tuple[dict[str, float], str]:
    """Every cost of ``model``, and ``""``; or, when its latency cannot be measured, every cost
    but the measured latencies and the reason (``"LatencyError: ..."``)."""
    try:
        return measure_costs(model, example, cost_config), ""
    except LatencyError as exc:
        unmeasured = replace(cost_config, latency=False, latency_eager=False)
        return measure_costs(model, example, unmeasured), f"LatencyError: {exc}"


Job = tuple[bool, list[tuple[str, EvalRequest]]]
"""What an executor runs as one unit: ``(batched, items)``, one network through
:meth:`Task.fit` or a batch through :meth:`Task.fit_batch`."""


def plan_jobs(
    items: Sequence[tuple[str, EvalRequest]],
    batch_keys: Sequence[Hashable],
    *,
    parallel: int = 1,
    max_batch: int = 256,
) -> list[Job]:
    """Group ``(key, request)`` items into jobs: items with equal non-``None`` batch keys
    become batches (split into ``parallel`` near-equal parts, at most ``max_batch`` each, in
    input order); every other item is a job of its own."""
    groups: dict[Hashable, list[tuple[str, EvalRequest]]] = {}
    jobs: list[Job] = []
    for item, batch_key in zip(items, batch_keys, strict=True):
        if batch_key is None:
            jobs.append((False, [item]))
        else:
            groups.setdefault(batch_key, []).append(item)
    for members in groups.values():
        parts = max(min(parallel, len(members)), -(-len(members) // max_batch))
        size, extra = divmod(len(members), parts)
        start = 0
        for p in range(parts):
            stop = start + size + (1 if p < extra else 0)
            jobs.append((True, members[start:stop]))
            start = stop
    return jobs


def run_job(task: Task, cost_config: CostConfig, job: Job) -> list[Evaluation]:
    """Run one job of :func:`plan_jobs`: a single request through :meth:`Task.fit`, or a batch
    through :meth:`Task.fit_batch` (module level, so workers can pickle it)."""
    batched, items = job
    if not batched:
        return [run_evaluation(task, cost_config, item) for item in items]
    start = time.perf_counter()
    requests = [(r.architecture, r.seed, task.check_fidelity(r.fidelity)) for _, r in items]
    results: Sequence[TaskResult | Exception]
    try:
        results = task.fit_batch(requests)
    except Exception as exc:  # a bug in a task's batch path fails its networks, not the search
        results = [exc] * len(items)
    elapsed = time.perf_counter() - start
    # Each network's share of the batch's time, in proportion to its reported training time.
    reported = [r.train_seconds if isinstance(r, TaskResult) else 0.0 for r in results]
    total = sum(reported)
    shares = [elapsed * (t / total if total > 0 else 1 / len(items)) for t in reported]
    return [
        finish_evaluation(task, cost_config, key, request, result, share)
        for (key, request), result, share in zip(items, results, shares, strict=True)
    ]


def lost_job(task: Task, cost_config: CostConfig, job: Job, error: Exception) -> list[Evaluation]:
    """Failed evaluations (never cached) for every request of a job whose worker was lost
    (``error`` a :class:`~darwin_bench.evaluation.workers.WorkerLost`) or killed at the time
    limit (a :class:`~darwin_bench.evaluation.workers.TimeLimitExceeded`), by
    :class:`~darwin_bench.evaluation.workers.FailurePolicy`'s rule; their costs are measured
    here, on the untrained networks."""
    return [
        finish_evaluation(task, cost_config, key, request, error, 0.0) for key, request in job[1]
    ]


class Evaluator:
    """Evaluates populations of networks on one task.

    Args:
        task: the task that trains and scores networks.
        cost_config: which costs to measure.
        cache: where finished evaluations are kept (default: in memory).
        executor: runs the jobs of one call (default: serially in this process).
        batched: train the networks of one call that the task can batch
            (:meth:`Task.batch_key`) as batched populations (:meth:`Task.fit_batch`), split
            across the executor's workers; the others one by one. Part of every cache key of
            a batched network, since the batched trainer is a different program.
        max_batch: the largest population trained as one batch.

    ``evaluate`` takes a whole population at once: duplicates within the call and
    evaluations already in the cache are not run again.
    """

    def __init__(
        self,
        task: Task,
        *,
        cost_config: CostConfig | None = None,
        cache: EvaluationCache | None = None,
        executor: Executor = serial,
        batched: bool = False,
        max_batch: int = 256,
    ) -> None:
        self.task = task
        self.batched = bool(batched)
        self.max_batch = check_positive_int("max_batch", max_batch)
        self.cost_config = cost_config or CostConfig()
        self.cache: EvaluationCache = cache if cache is not None else MemoryCache()
        self.executor = executor
        self._reports_lost = "on_lost" in inspect.signature(executor).parameters
        self.stats = {"requested": 0, "trained": 0, "cache_hits": 0}
        self._replay: dict[str, Evaluation] = {}

    def preload(self, evaluations: Sequence[Evaluation]) -> None:
        """Answer these evaluations' ids with these records, before the cache (resuming a run).

        A resumed run replays its agent from the start; the evaluations its log already holds
        (failed ones included, whatever their reason) come back exactly as logged, and are not
        written to a shared cache.
        """
        self._replay.update({e.evaluation_id: e for e in evaluations})

    def key(self, request: EvalRequest) -> str:
        """The content address of a request."""
        payload: dict[str, Any] = {
            "architecture": request.architecture.hash,
            "task": self.task.spec(),
            "fidelity": self.task.check_fidelity(request.fidelity),
            "seed": int(request.seed),
            "costs": self.cost_config.to_dict(),
        }
        if self.batch_key(request) is not None:
            payload["trainer"] = "batched"
        return content_hash(payload)[:32]

    def batch_key(self, request: EvalRequest) -> Hashable:
        """The request's batch key when this evaluator batches it, else ``None``."""
        if not self.batched:
            return None
        fidelity = self.task.check_fidelity(request.fidelity)
        return self.task.batch_key(request.architecture, fidelity)

    def evaluate(self, requests: Sequence[EvalRequest]) -> list[Evaluation]:
        """Evaluate every request; results come back in the order of ``requests``."""
        keys = [self.key(r) for r in requests]
        found: dict[str, Evaluation] = {}
        todo: dict[str, EvalRequest] = {}
        for key, request in zip(keys, requests):
            if key in found or key in todo:
                continue
            hit = self._replay.get(key) or self.cache.get(key)
            if hit is not None:
                found[key] = hit
            else:
                todo[key] = request
        if todo:
            jobs = plan_jobs(
                list(todo.items()),
                [self.batch_key(r) for r in todo.values()],
                parallel=int(getattr(self.executor, "workers", 1)),
                max_batch=self.max_batch,
            )
            run = partial(run_job, self.task, self.cost_config)
            if self._reports_lost:
                lost = partial(lost_job, self.task, self.cost_config)
                results = self.executor(run, jobs, on_lost=lost)  # type: ignore[call-arg]
            else:
                results = self.executor(run, jobs)
            for evaluations in results:
                for evaluation in evaluations:
                    if evaluation.ok or is_deterministic_failure(evaluation.reason):
                        self.cache.put(evaluation)  # other failures are retried next time
                    found[evaluation.evaluation_id] = evaluation
        self.stats["requested"] += len(requests)
        self.stats["trained"] += len(todo)
        self.stats["cache_hits"] += len(requests) - len(todo)
        out: list[Evaluation] = []
        for key, request in zip(keys, requests):
            evaluation = Evaluation.from_dict(copy.deepcopy(found[key].to_dict()))
            if request.genome is not None:
                evaluation.genome = [int(g) for g in request.genome]
            out.append(evaluation)
        return out

    def describe(self) -> dict[str, Any]:
        """Settings for run logs."""
        return {
            "task": self.task.spec(),
            "costs": self.cost_config.to_dict(),
            "batched": self.batched,
        }
