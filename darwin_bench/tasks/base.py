"""`Task`: data, heads, loss, metric, trainer and fidelities behind an environment.

:meth:`Task.fit` is a template: it checks the fidelity, runs the task's one-time
:meth:`~Task.prepare`, then times the training body :meth:`~Task._fit` under
:func:`~darwin_bench.seeding.torch_determinism` and completes its :class:`TaskResult`. A task
writes only the body: build the network, train it, score it.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from torch import nn

from darwin_bench.architecture import Architecture
from darwin_bench.metrics import TEST_PREFIX
from darwin_bench.seeding import torch_determinism
from darwin_bench.training import TrainingDiverged as TrainingDiverged  # defined by the trainer
from darwin_bench.validation import check_positive_int

FitRequest = tuple[Architecture, int, Mapping[str, int]]
"""What :meth:`Task.fit_batch` trains: ``(architecture, seed, fidelity)``."""


@dataclass
class TaskResult:
    """What :meth:`Task.fit` returns.

    A training body (:meth:`Task._fit`) returns one with ``metrics``, ``model`` and, where it
    has them, ``test_metrics`` and ``details``; :meth:`Task.fit` fills in ``train_seconds`` and
    the fidelity.

    Attributes:
        metrics: what the search may see: validation metrics (the task's :attr:`Task.metric`
            among them) and training ones such as ``train_loss``. No key starts with ``test_``.
        model: the trained module (costs are measured on it).
        train_seconds: wall time of the training body (build, train, score), measured by
            :meth:`Task.fit`; one-time preparation (:meth:`Task.prepare`) is not included.
        details: facts about the training run for whoever calls :meth:`Task.fit` (tests,
            reproductions, ``bench-task``), JSON-able: always the fidelity it trained at (e.g.
            ``{"epochs": 5}``), plus what the task adds (images: the ``train_size`` actually
            used; language: ``corpus``, ``corpus_sha256``, ``train_tokens``; control: the
            evaluation episodes' ``returns``). Details are not part of the evaluation record,
            so nothing in them reaches agents or run logs.
        test_metrics: metrics on the held-out test split (``test_accuracy``, ``test_loss``,
            ...); every key starts with ``test_``. Recorded in run logs, never shown to agents.

    Raises:
        ValueError: when a ``metrics`` key starts with ``test_`` or a ``test_metrics`` key does
            not.
    """

    metrics: dict[str, float]
    model: nn.Module
    train_seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)
    test_metrics: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        leaked = sorted(k for k in self.metrics if k.startswith(TEST_PREFIX))
        if leaked:
            raise ValueError(
                f"metrics {leaked} are test metrics: return them in test_metrics (the search "
                "must never see test data)"
            )
        misnamed = sorted(k for k in self.test_metrics if not k.startswith(TEST_PREFIX))
        if misnamed:
            raise ValueError(f"test_metrics keys must start with {TEST_PREFIX!r}; got {misnamed}")


@dataclass
class LearningCurve:
    """What :meth:`Task.learning_curve` returns: what :meth:`Task.fit` would give at every
    epoch count ``e = 1..E`` (entry ``e - 1``), from one training run of ``E`` epochs.

    Attributes:
        metrics: per epoch, ``fit(epochs=e).metrics`` (empty for a failed epoch).
        test_metrics: per epoch, ``fit(epochs=e).test_metrics`` (empty for a failed epoch).
        seconds: per epoch, the ``train_seconds`` a fit of ``e`` epochs reports (building,
            ``e`` epochs of training and one evaluation; the other epochs' evaluations are
            not counted); for a failed epoch, the time until it failed.
        failures: epoch -> why a fit of that many epochs raises (``"Type: message"``).
        model: the network after the last epoch (costs are measured on it).
    """

    metrics: list[dict[str, float]] = field(default_factory=list)
    test_metrics: list[dict[str, float]] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    failures: dict[int, str] = field(default_factory=dict)
    model: nn.Module | None = None

    def add(
        self,
        metrics: Mapping[str, float],
        test_metrics: Mapping[str, float],
        seconds: float,
        failure: str | None = None,
    ) -> None:
        """Append the next epoch's entry."""
        self.metrics.append(dict(metrics))
        self.test_metrics.append(dict(test_metrics))
        self.seconds.append(float(seconds))
        if failure is not None:
            self.failures[len(self.metrics)] = failure


class Task(ABC):
    """A standardized learning problem that scores architectures.

    A subclass sets these attributes (on the class, or per instance in ``__init__``) and
    implements :meth:`_fit`, the training body; :meth:`fit` does the rest.

    Attributes:
        name: short name, e.g. ``"digits"``; a class default that instances may replace
            (``ClassificationTask(name, ...)``).
        metric: the name of the search-facing metric in ``metrics`` (validation data).
        higher_is_better: direction of :attr:`metric`.
        fidelities: fidelity names and their defaults, e.g. ``{"epochs": 10}``.
        default_targets: a sensible reward target per cost name for this task.
        threads: torch threads while training (pinned by :meth:`fit` for determinism).
    """

    name: str = "task"
    metric: ClassVar[str] = "accuracy"
    higher_is_better: ClassVar[bool] = True
    fidelities: dict[str, int] = {}
    default_targets: dict[str, float] = {}
    threads: int = 1

    @property
    @abstractmethod
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one input example, without the batch dimension."""

    @property
    @abstractmethod
    def num_outputs(self) -> int:
        """Size of the network's output layer."""

    @property
    @abstractmethod
    def data_hash(self) -> str:
        """SHA-256 of the task's data (all splits); results compare only on equal hashes."""

    def fit(
        self, architecture: Architecture, *, seed: int, fidelity: Mapping[str, int]
    ) -> TaskResult:
        """Build, train and evaluate ``architecture``: the same seed gives the same result.

        The template every task shares: fill in and check the fidelity, run :meth:`prepare`,
        then run :meth:`_fit` under :func:`~darwin_bench.seeding.torch_determinism` (torch's
        generator seeded with ``seed``, :attr:`threads` threads) with a clock around it.

        Raises:
            ValueError: for an unknown fidelity name or a non-positive value.
            TrainingDiverged: when training produces a non-finite loss.
        """
        checked = self.check_fidelity(fidelity)
        self.prepare()
        start = time.perf_counter()
        with torch_determinism(seed, self.threads):
            result = self._fit(architecture, seed=seed, fidelity=checked)
        result.train_seconds = time.perf_counter() - start
        result.details = {**checked, **result.details}
        return result

    @abstractmethod
    def _fit(
        self, architecture: Architecture, *, seed: int, fidelity: dict[str, int]
    ) -> TaskResult:
        """The training body: build ``architecture``, train it, score it.

        Runs inside :meth:`fit`'s determinism context and clock, with a complete, checked
        ``fidelity``. Return ``TaskResult(metrics, model, test_metrics=..., details=...)``
        (``train_seconds`` and the fidelity are filled in by :meth:`fit`).

        Raises:
            TrainingDiverged: when training produces a non-finite loss.
        """

    def batch_key(self, architecture: Architecture, fidelity: Mapping[str, int]) -> Hashable:
        """Networks whose keys are equal and not ``None`` can be trained together by
        :meth:`fit_batch`; ``None`` (the default) means "train it alone with :meth:`fit`".

        A task that returns keys promises that :meth:`fit_batch` gives each network the same
        result whether it is trained alone or with others.
        """
        return None

    def fit_batch(self, requests: Sequence[FitRequest]) -> list[TaskResult | Exception]:
        """Train several ``(architecture, seed, fidelity)`` requests with equal
        :meth:`batch_key`; return a result or the exception that failed it, per request.

        The default calls :meth:`fit` for each one.
        """
        out: list[TaskResult | Exception] = []
        for architecture, seed, fidelity in requests:
            try:
                out.append(self.fit(architecture, seed=seed, fidelity=fidelity))
            except Exception as exc:  # one failed network does not fail the others
                out.append(exc)
        return out

    def prepare(self) -> None:
        """One-time work every evaluation needs (e.g. training an ancestor or base network).

        :meth:`fit` calls it before starting the clock, so it is not counted in any
        evaluation's ``train_seconds``. It must be idempotent and deterministic. Default:
        nothing.
        """
        return None

    @abstractmethod
    def build(self, architecture: Architecture) -> nn.Module:
        """Build the untrained module (used to cost a network whose training failed)."""

    @abstractmethod
    def example_input(self, batch_size: int = 1) -> torch.Tensor:
        """A batch of inputs of the right shape, for FLOP counting and latency."""

    def config(self) -> dict[str, Any]:
        """Everything besides the data that changes results (trainer settings); JSON."""
        return {}

    def spec(self) -> dict[str, Any]:
        """The task's identity: name, data hash, config. Part of every cache key and run log."""
        return {"name": self.name, "data_hash": self.data_hash, "config": self.config()}

    def score(self, metrics: Mapping[str, float]) -> float:
        """The search-facing score, higher is better (e.g. validation accuracy)."""
        value = float(metrics[self.metric])
        return value if self.higher_is_better else -value

    @property
    def score_range(self) -> tuple[float, float] | None:
        """``(worst, best)`` of :meth:`score` for a successful evaluation, or None if unknown.

        Rewards that multiply or threshold the score map it into ``[0, 1]`` with this range
        (:mod:`darwin_bench.rewards`); without one the env refuses them. The default,
        ``(0.0, 1.0)``, suits higher-is-better metrics in [0, 1] such as accuracy; a
        lower-is-better task (its score is ``-metric``) declares none unless it overrides this.
        """
        return (0.0, 1.0) if self.higher_is_better else None

    @property
    def worst_score(self) -> float:
        """The score given to a failed evaluation: at most every score a success can get.

        0.0 suits higher-is-better metrics in [0, 1] such as accuracy. A task whose score can
        be negative (a lower-is-better metric, a raw return) must override this.

        Raises:
            NotImplementedError: for a lower-is-better task that does not override it.
        """
        if not self.higher_is_better:
            raise NotImplementedError(
                f"task {self.name!r} has a lower-is-better metric: it must define worst_score"
            )
        return 0.0

    def learning_curve(
        self, architecture: Architecture, *, seed: int, epochs: int
    ) -> LearningCurve:
        """Train ``architecture`` once for ``epochs`` epochs and return what :meth:`fit` would
        give after each epoch (tabular benchmarks store it, so every fidelity is a lookup).

        Raises:
            NotImplementedError: for a task that cannot (the default).
        """
        raise NotImplementedError(
            f"task {self.name!r} cannot record learning curves (Task.learning_curve); a table "
            "needs them"
        )

    def learning_curves(
        self, requests: Sequence[tuple[Architecture, int]], epochs: int
    ) -> list[LearningCurve]:
        """:meth:`learning_curve` of several ``(architecture, seed)`` requests, trained the way
        the evaluator would train them (tasks that batch :meth:`fit_batch` batch this too).
        The default trains them one by one."""
        return [self.learning_curve(a, seed=s, epochs=epochs) for a, s in requests]

    def training_samples(self, fidelity: Mapping[str, int]) -> int | None:
        """How many samples training at ``fidelity`` processes (epochs x training-set size),
        counting repeats; ``None`` when the task cannot say (the ``train_flops`` budget kind
        then refuses it). One sample is one row of :meth:`example_input`."""
        return None

    def check_fidelity(self, fidelity: Mapping[str, Any] | None) -> dict[str, int]:
        """Fill in defaults and validate a fidelity mapping.

        Raises:
            ValueError: for an unknown fidelity name or a non-positive value (the task's own
                defaults included, e.g. ``task_kwargs={"epochs": 0}``).
        """
        out = {key: check_positive_int(key, value) for key, value in self.fidelities.items()}
        for key, value in (fidelity or {}).items():
            if key not in self.fidelities:
                raise ValueError(
                    f"fidelity {key!r} is not known to task {self.name!r}; "
                    f"allowed: {sorted(self.fidelities)}"
                )
            out[key] = check_positive_int(key, value)
        return out
