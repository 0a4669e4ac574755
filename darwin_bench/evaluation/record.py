"""`Evaluation`: the record of one network's training, costing and reward.

A record holds what the search may see (``metrics``: validation metrics, training loss) and,
apart, what it must never see (``test_metrics``: everything computed on test data). Agents get
:meth:`Evaluation.public` copies, which carry no test metrics; run logs, reports and the
leaderboard keep the full record.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from darwin_bench.metrics import split_test_metrics

Status = Literal["ok", "failed"]


@dataclass
class Evaluation:
    """One evaluated network.

    Attributes:
        evaluation_id: content address of the evaluation (architecture, task, fidelity, seed,
            cost settings): the same id means the same evaluation, which is never run twice.
        architecture: the network, as :meth:`Architecture.to_dict` gives it.
        seed: the training seed.
        fidelity: e.g. ``{"epochs": 20}``.
        status: ``"ok"`` or ``"failed"``.
        reason: why it failed (empty when ok).
        metrics: what the search may see: validation metrics (e.g. ``accuracy``,
            ``val_loss``) and training ones (``train_loss``); never a ``test_`` key.
        test_metrics: metrics on held-out test data (``test_accuracy``, ``test_loss``, ...),
            for reports only; empty in the copies agents get (:meth:`public`).
        costs: e.g. ``params``, ``synapses``, ``flops``, ``latency_ms``.
        train_seconds: time spent training.
        wall_seconds: time the whole evaluation took when it ran (kept on cache hits).
        reward: filled by the environment from its reward function.
        objectives: raw objectives (``score``, ``cost``) for multi-objective agents.
        genome: the action that proposed the network, when there was one.
        step: the index of the evaluation in its run (0-based), filled by the environment.
        spent: what the evaluation was charged in its run's budget kind (1 evaluation, its
            training FLOPs or seconds; see :mod:`darwin_bench.budgets`), filled by the env.
    """

    evaluation_id: str
    architecture: dict[str, Any]
    seed: int
    fidelity: dict[str, int]
    status: Status = "ok"
    reason: str = ""
    metrics: dict[str, float] = field(default_factory=dict)
    test_metrics: dict[str, float] = field(default_factory=dict)
    costs: dict[str, float] = field(default_factory=dict)
    train_seconds: float = 0.0
    wall_seconds: float = 0.0
    reward: float | None = None
    objectives: dict[str, float] = field(default_factory=dict)
    genome: list[int] | None = None
    step: int | None = None
    spent: float | None = None

    @property
    def ok(self) -> bool:
        """True when the evaluation succeeded."""
        return self.status == "ok"

    def public(self) -> Evaluation:
        """A deep copy without test metrics: what agents (env infos, listeners) get."""
        copy = object.__new__(Evaluation)
        copy.__dict__.update(_copy_json(self.__dict__))
        copy.test_metrics = {}
        return copy

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable dict (inverse of :meth:`from_dict`)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Evaluation:
        """Rebuild a record, ignoring keys it does not know (e.g. a run log's ``type``).

        Records written before test metrics had their own field (run log format
        ``darwin_bench.runlog/1``, old caches) kept ``test_*`` keys in ``metrics``; they are
        moved to ``test_metrics``.
        """
        names = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in names}
        metrics, legacy = split_test_metrics(dict(kwargs.get("metrics") or {}))
        kwargs["metrics"] = metrics
        kwargs["test_metrics"] = {**legacy, **dict(kwargs.get("test_metrics") or {})}
        return cls(**kwargs)


def _copy_json(value: Any) -> Any:
    """A deep copy of a JSON-like value (dicts, lists, tuples, scalars); much faster than
    ``copy.deepcopy`` for the small records of every env step."""
    if isinstance(value, dict):
        return {k: v if type(v) in _SCALARS else _copy_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [v if type(v) in _SCALARS else _copy_json(v) for v in value]
    return value


_SCALARS = frozenset({int, float, str, bool, type(None)})
