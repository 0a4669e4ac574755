"""Verification reports: what was checked, how long it took, and every reason for rejection.

A :class:`Rejection` names the run (its file and seed), the line of its log (1 = header) and
the field, so that a submitter can find exactly what the verifier refused. A :class:`Report`
holds one :class:`Check` per verification step (passed, failed or skipped, with its detail
and time) and the rejections; a submission is accepted when there are none.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Status = Literal["passed", "failed", "skipped"]

#: Rejections kept per report (a log altered everywhere would otherwise list every line).
MAX_REJECTIONS = 50


@dataclass(frozen=True)
class Rejection:
    """One reason to refuse a submission.

    Attributes:
        check: the verification step that found it (``schema``, ``header``, ``seeds``,
            ``evaluations``, ``budget``, ``footer``, ``retrain``, ``replay``, ``duplicate``).
        message: what is wrong, with the logged and the expected values.
        run: the run log's file name (``None`` for the submission as a whole).
        line: the line of that log (1-based; ``None`` when not one line).
        field: the field (``reward``, ``metrics.accuracy``, ``header.data_hash``, ...).
    """

    check: str
    message: str
    run: str | None = None
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = self.run or "submission"
        if self.line is not None:
            where += f":{self.line}"
        if self.field:
            where += f": {self.field}"
        return f"{where}: {self.message}"


@dataclass
class Check:
    """One verification step."""

    name: str
    status: Status
    detail: str = ""
    seconds: float = 0.0


@dataclass
class Report:
    """The verification report of one submission.

    Attributes:
        track: the track's name.
        checks: the steps, in order.
        rejections: every reason to refuse it (at most :data:`MAX_REJECTIONS`).
        facts: what the verifier measured (evaluations checked, retrain deviations, the
            sample's seed, times), for the entry's page.
    """

    track: str
    checks: list[Check] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        """True when nothing was rejected."""
        return not self.rejections

    def reject(self, rejection: Rejection) -> None:
        """Add a rejection (beyond :data:`MAX_REJECTIONS`, only count it)."""
        if len(self.rejections) < MAX_REJECTIONS:
            self.rejections.append(rejection)
        else:
            self.facts["rejections_not_listed"] = self.facts.get("rejections_not_listed", 0) + 1

    def add(self, name: str, status: Status, detail: str = "", seconds: float = 0.0) -> None:
        """Record a step."""
        self.checks.append(Check(name, status, detail, round(seconds, 4)))

    def summary(self) -> str:
        """One line: accepted, or the first reason for rejection."""
        if self.accepted:
            return f"accepted: {len(self.checks)} checks passed or recorded"
        more = len(self.rejections) - 1 + int(self.facts.get("rejections_not_listed", 0))
        return f"rejected: {self.rejections[0]}" + (f" (and {more} more)" if more else "")

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "track": self.track,
            "accepted": self.accepted,
            "checks": [asdict(c) for c in self.checks],
            "rejections": [asdict(r) for r in self.rejections],
            "facts": self.facts,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        """Inverse of :meth:`to_dict`."""
        return cls(
            track=str(data["track"]),
            checks=[Check(**c) for c in data.get("checks", [])],
            rejections=[Rejection(**r) for r in data.get("rejections", [])],
            facts=dict(data.get("facts", {})),
        )
