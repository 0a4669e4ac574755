"""The line schema of run logs (pydantic models): what :func:`darwin_bench.runlog.read_runlog`
accepts, checked line by line with errors that name the file, the line and the field.

Three kinds of line, told apart by ``type``:

- :class:`HeaderLine` (line 1): ``format`` and the run's settings. Keys this version does not
  know are kept (a header is the writer's record of its settings); known keys must have their
  types.
- :class:`EvaluationLine`: one :class:`~darwin_bench.evaluation.record.Evaluation`, every
  field typed, unknown keys refused.
- :class:`FooterLine` (last): counts, incumbent and Pareto front; extra keys (e.g. the run's
  ``seconds``) are kept.

Numbers are checked strictly as JSON reads them: an ``int`` field refuses ``3.0``, ``"3"`` and
``true``; a ``float`` field accepts ``3``. Non-finite numbers (``NaN``, ``Infinity``) are not
JSON and are refused by the reader before the schema sees them.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

#: Longest identifier accepted (evaluation ids are 32 hex characters).
MAX_ID = 256


class _Line(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")


class HeaderLine(_Line):
    """Line 1 of a run log: its format and the run's settings."""

    type: Literal["header"]
    format: str
    started: str | None = None
    machine: dict[str, Any] | None = None
    env_id: str | None = None
    env_kwargs: dict[str, Any] | None = None
    agent: str | None = None
    agent_config: dict[str, Any] | None = None
    seed: int | None = Field(default=None, ge=0)
    budget: float | None = Field(default=None, gt=0)  # evaluations, FLOPs or seconds
    budget_kind: str | None = None
    data_hash: str | None = None
    problem: dict[str, Any] | None = None


class EvaluationLine(_Line):
    """One evaluated network (the fields of :class:`~darwin_bench.evaluation.Evaluation`)."""

    model_config = ConfigDict(strict=True, extra="forbid")

    type: Literal["evaluation"]
    evaluation_id: str = Field(min_length=1, max_length=MAX_ID)
    architecture: dict[str, Any]
    seed: int = Field(ge=0)
    fidelity: dict[str, int]
    status: Literal["ok", "failed"] = "ok"
    reason: str = ""
    metrics: dict[str, float] = Field(default_factory=dict)
    test_metrics: dict[str, float] = Field(default_factory=dict)
    costs: dict[str, float] = Field(default_factory=dict)
    train_seconds: float = Field(default=0.0, ge=0)
    wall_seconds: float = Field(default=0.0, ge=0)
    reward: float | None = None
    objectives: dict[str, float] = Field(default_factory=dict)
    genome: list[int] | None = None
    step: int | None = Field(default=None, ge=0)
    spent: float | None = Field(default=None, ge=0)


class FooterLine(_Line):
    """The last line of a finished run: counts, incumbent, Pareto front."""

    type: Literal["footer"]
    evaluations: int | None = Field(default=None, ge=0)
    failed: int | None = Field(default=None, ge=0)
    incumbent: dict[str, Any] | None = None
    pareto_front: list[dict[str, Any]] = Field(default_factory=list)
    cost: str | None = None
    finished: str | None = None
    seconds: float | None = Field(default=None, ge=0)


LINES: dict[str, type[_Line]] = {
    "header": HeaderLine,
    "evaluation": EvaluationLine,
    "footer": FooterLine,
}

#: Largest run log :func:`read_json_lines` reads by default (1 GiB).
MAX_BYTES = 1 << 30
#: Longest line it reads by default (16 MiB; a synapse-mask evaluation is ~15 kB).
MAX_LINE_BYTES = 1 << 24


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _loads(raw: bytes) -> Any:
    """One line's JSON value; every failure (encoding, syntax, NaN, nesting) a ValueError."""
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def read_json_lines(
    path: Path, *, max_bytes: int = MAX_BYTES, max_line_bytes: int = MAX_LINE_BYTES
) -> list[tuple[int, dict[str, Any]]]:
    """The JSON objects of a JSON Lines file with their line numbers (1-based).

    A last line without its newline that does not parse is a torn write of a killed run and is
    dropped; any other line that is not a JSON object is an error.

    Raises:
        ValueError: naming the file and line: a file over ``max_bytes``, a line over
            ``max_line_bytes``, bytes that are not UTF-8, text that is not JSON (``NaN`` and
            ``Infinity`` included), nesting too deep to parse, or a value that is not an object.
    """
    size = path.stat().st_size
    if size > max_bytes:
        raise ValueError(
            f"{path}: {size:,} bytes is over the limit of {max_bytes:,} bytes (max_bytes)"
        )
    out: list[tuple[int, dict[str, Any]]] = []
    with path.open("rb") as f:
        for n in itertools.count(1):
            raw = f.readline(max_line_bytes + 1)
            if not raw:
                break
            if len(raw) > max_line_bytes:
                raise ValueError(
                    f"{path}:{n}: line is over the limit of {max_line_bytes:,} bytes "
                    "(max_line_bytes)"
                )
            try:
                value = _loads(raw)
            except ValueError as exc:
                if not raw.endswith(b"\n"):
                    break  # the torn last line of a killed run
                raise ValueError(f"{path}:{n}: not valid JSON ({exc})") from None
            if not isinstance(value, dict):
                raise ValueError(
                    f"{path}:{n}: a run log line must be a JSON object; got {type(value).__name__}"
                )
            out.append((n, value))
    return out


def check_line(path: Path, n: int, record: dict[str, Any], allowed: tuple[str, ...]) -> _Line:
    """Validate one line against the model of its ``type``.

    Raises:
        ValueError: naming the file, the line and the field, for a type not in ``allowed`` or
            a field that is missing, unknown or of the wrong type.
    """
    kind = record.get("type")
    if kind not in allowed:
        raise ValueError(
            f"{path}:{n}: line type {kind!r} is not allowed here; allowed: {', '.join(allowed)}"
        )
    try:
        return LINES[kind].model_validate(record)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "line"
        got = repr(error.get("input"))
        got = got if len(got) <= 80 else got[:77] + "..."
        raise ValueError(f"{path}:{n}: {kind} line: {where}: {error['msg']} (got {got})") from None
