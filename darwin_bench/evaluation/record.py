"""`Evaluation`: the record of one network's training, costing and reward."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

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
        metrics: e.g. ``accuracy`` (validation), ``test_accuracy``.
        costs: e.g. ``params``, ``synapses``, ``flops``, ``latency_ms``.
        train_seconds: time spent training.
        wall_seconds: time the whole evaluation took when it ran (kept on cache hits).
        reward: filled by the environment from its reward function.
        objectives: raw objectives (``score``, ``cost``) for multi-objective agents.
        genome: the action that proposed the network, when there was one.
        step: the index of the evaluation in its run (0-based), filled by the environment.
    """

    evaluation_id: str
    architecture: dict[str, Any]
    seed: int
    fidelity: dict[str, int]
    status: Status = "ok"
    reason: str = ""
    metrics: dict[str, float] = field(default_factory=dict)
    costs: dict[str, float] = field(default_factory=dict)
    train_seconds: float = 0.0
    wall_seconds: float = 0.0
    reward: float | None = None
    objectives: dict[str, float] = field(default_factory=dict)
    genome: list[int] | None = None
    step: int | None = None

    @property
    def ok(self) -> bool:
        """True when the evaluation succeeded."""
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable dict (inverse of :meth:`from_dict`)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Evaluation:
        """Rebuild a record, ignoring keys it does not know (e.g. a run log's ``type``)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})
