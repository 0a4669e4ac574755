"""`RunLog`: the append-only JSON Lines record of one search run.

Line 1 is the header (versions, env id and kwargs, agent and config, seed, budget, data hash,
machine); then one line per evaluation; the last line is the footer (incumbent and Pareto
front of score vs cost). Every line is flushed and fsynced as it is written, so a killed run
leaves a readable log of everything it finished.

Format ``darwin_bench.runlog/2`` keeps test metrics apart (``test_metrics`` of every evaluation,
of the footer's incumbent and of its Pareto entries). :func:`read_runlog` also reads
``darwin_bench.runlog/1`` logs, whose ``test_*`` metrics it moves into ``test_metrics``.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from darwin_bench.evaluation.record import Evaluation
from darwin_bench.metrics import split_test_metrics
from darwin_bench.pareto import pareto_front
from darwin_bench.runlog_schema import (
    MAX_BYTES,
    MAX_LINE_BYTES,
    EvaluationLine,
    FooterLine,
    check_line,
    read_json_lines,
)
from darwin_bench.version import __version__

FORMAT = "darwin_bench.runlog/2"
#: Formats :func:`read_runlog` reads (``/1`` kept test metrics inside ``metrics``).
READABLE_FORMATS = ("darwin_bench.runlog/1", FORMAT)


def machine_info() -> dict[str, Any]:
    """The software and hardware a run ran on."""
    import gymnasium
    import numpy
    import torch

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "numpy": numpy.__version__,
        "gymnasium": gymnasium.__version__,
        "darwin_bench": __version__,
    }


def summarize(evaluations: list[Evaluation], cost: str) -> dict[str, Any]:
    """Footer content: the incumbent (highest reward) and the Pareto front of score vs cost."""
    ok = [e for e in evaluations if e.ok and e.reward is not None]
    footer: dict[str, Any] = {"evaluations": len(evaluations), "failed": len(evaluations) - len(ok)}
    if not ok:
        return {**footer, "incumbent": None, "pareto_front": []}
    best = max(ok, key=lambda e: (e.reward, -(e.step or 0)))
    unique = {e.evaluation_id: e for e in ok}
    items = list(unique.values())
    points = [(e.objectives.get("score", 0.0), e.costs.get(cost, 0.0)) for e in items]
    front = [
        {
            "evaluation_id": items[i].evaluation_id,
            "step": items[i].step,
            "score": points[i][0],
            "cost": points[i][1],
            "test_metrics": items[i].test_metrics,
        }
        for i in pareto_front(points)
    ]
    return {
        **footer,
        "incumbent": {
            "evaluation_id": best.evaluation_id,
            "step": best.step,
            "reward": best.reward,
            "metrics": best.metrics,
            "test_metrics": best.test_metrics,
            "costs": best.costs,
            "architecture": best.architecture,
        },
        "pareto_front": front,
        "cost": cost,
    }


def _line(evaluation: Evaluation) -> dict[str, Any]:
    return {"type": "evaluation", **evaluation.to_dict()}


class RunLog:
    """Writes one run's JSON Lines log.

    Args:
        path: the file to write (its folder is created).
        header: run settings; ``type``, ``format``, ``started`` and ``machine`` are added.
        cost: the cost name used for the footer's Pareto front.
        append: continue an existing log (resume) instead of starting a new one.

    Crash safety: a new log appears with its whole header at once (written to a temporary
    file, then renamed), so a killed run leaves either no log or a log with a header; every
    later line is flushed and fsynced. ``append=True`` (resuming a killed run) keeps the
    logged evaluations, drops a torn last line, and expects the resumed agent, which starts
    again from the beginning, to *replay* them: the first ``len(logged)`` evaluations
    appended are checked against the log (same id, same step) instead of written again, so
    a run killed while it replays loses nothing.
    """

    def __init__(
        self, path: str | Path, header: Mapping[str, Any], *, cost: str, append: bool = False
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.cost = cost
        self.evaluations: list[Evaluation] = []
        self._replayed = 0  # logged evaluations the resumed agent has replayed so far
        if append and self.path.exists():
            existing = read_runlog(self.path)
            self.header = {**existing.header, "format": FORMAT}  # rewritten in this format
            self.evaluations = list(existing.evaluations)
            # Rewrite without a torn last line or an old footer, then continue appending.
            self._replace([self.header, *(_line(e) for e in self.evaluations)])
        else:
            self.header = {
                "type": "header",
                "format": FORMAT,
                "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "machine": machine_info(),
                **dict(header),
            }
            self._replace([self.header])
        self._resumed_from = len(self.evaluations)
        self._file: IO[str] = self.path.open("a", encoding="utf-8")

    def _replace(self, records: list[Mapping[str, Any]]) -> None:
        """Make the log hold exactly ``records``, atomically (write aside, fsync, rename)."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as f:
            for record in records:
                f.write(json.dumps(record, allow_nan=False, sort_keys=True) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    @property
    def resumed_from(self) -> int:
        """How many evaluations the log held when it was opened (0 for a new log)."""
        return self._resumed_from

    def _write(self, record: Mapping[str, Any]) -> None:
        self._file.write(json.dumps(record, allow_nan=False, sort_keys=True) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def append(self, evaluation: Evaluation) -> None:
        """Write one evaluation line (or, while resuming, check it against the logged one).

        Raises:
            ValueError: when a resumed run proposes another evaluation than its log holds at
                that step (the agent is not deterministic for its seed).
        """
        if self._replayed < self._resumed_from:
            logged = self.evaluations[self._replayed]
            if (logged.evaluation_id, logged.step) != (evaluation.evaluation_id, evaluation.step):
                raise ValueError(
                    f"resuming {self.path}: evaluation {self._replayed} is "
                    f"{evaluation.evaluation_id} (step {evaluation.step}) but the log holds "
                    f"{logged.evaluation_id} (step {logged.step}); the agent did not replay its "
                    "run (is it deterministic for a seed?). Delete the log to start over"
                )
            self._replayed += 1
            return
        self.evaluations.append(evaluation)
        self._write(_line(evaluation))

    def close(self, **extra: Any) -> dict[str, Any]:
        """Write the footer and close the file; return the footer.

        Raises:
            ValueError: when a resumed run ended before replaying every logged evaluation.
        """
        if self._replayed < self._resumed_from:
            self._file.close()
            raise ValueError(
                f"resuming {self.path}: the agent stopped after {self._replayed} of the "
                f"{self._resumed_from} logged evaluations; delete the log to start over"
            )
        footer = {
            "type": "footer",
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            **summarize(self.evaluations, self.cost),
            **extra,
        }
        self._write(footer)
        self._file.close()
        return footer

    def __enter__(self) -> RunLog:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._file.closed:
            self._file.close()


@dataclass
class RunRecord:
    """A parsed run log."""

    path: Path
    header: dict[str, Any]
    evaluations: list[Evaluation] = field(default_factory=list)
    footer: dict[str, Any] | None = None

    @property
    def complete(self) -> bool:
        """True when the run finished and wrote its footer."""
        return self.footer is not None

    def rewards(self) -> list[float]:
        """Reward of each evaluation, in order."""
        return [float(e.reward) if e.reward is not None else float("nan") for e in self.evaluations]


def read_runlog(
    path: str | Path, *, max_bytes: int = MAX_BYTES, max_line_bytes: int = MAX_LINE_BYTES
) -> RunRecord:
    """Parse and check a run log (format ``/2``, or ``/1`` brought to ``/2``).

    Every line is checked against its schema (:mod:`darwin_bench.runlog_schema`): a header
    first, evaluations numbered ``step`` 0, 1, 2, ... in order, at most one footer, last,
    counting them. A torn last line (a killed run) is dropped; the record is then incomplete.

    Args:
        path: the run log.
        max_bytes: refuse a larger file (default 1 GiB).
        max_line_bytes: refuse a longer line (default 16 MiB).

    Raises:
        ValueError: naming the file, line and field, when the file is not a darwin_bench run
            log in a format this version reads: empty, too large, not JSON Lines, a line of the
            wrong shape or type, evaluations out of order, a line after the footer, or a
            footer that does not count the evaluations.
    """
    path = Path(path)
    lines = read_json_lines(path, max_bytes=max_bytes, max_line_bytes=max_line_bytes)
    if not lines or lines[0][1].get("type") != "header":
        raise ValueError(f"{path} is not a darwin_bench run log (no header line)")
    fmt = lines[0][1].get("format")
    if fmt not in READABLE_FORMATS:
        raise ValueError(
            f"{path}: run log format {fmt!r} is not one this version reads; "
            f"allowed: {', '.join(READABLE_FORMATS)}"
        )
    check_line(path, 1, lines[0][1], ("header",))
    run = RunRecord(path, lines[0][1])
    for n, record in lines[1:]:
        if run.footer is not None:
            raise ValueError(f"{path}:{n}: a line after the footer")
        line = check_line(path, n, record, ("evaluation", "footer"))
        if isinstance(line, EvaluationLine):
            expected = len(run.evaluations)
            if line.step is not None and line.step != expected:
                raise ValueError(
                    f"{path}:{n}: evaluation step {line.step}, expected {expected} (lines "
                    "missing or out of order)"
                )
            run.evaluations.append(Evaluation.from_dict(record))  # moves /1 test metrics
        elif isinstance(line, FooterLine):
            if line.evaluations not in (None, len(run.evaluations)):
                raise ValueError(
                    f"{path}:{n}: the footer counts {line.evaluations} evaluations but the log "
                    f"holds {len(run.evaluations)}"
                )
            run.footer = _upgrade_footer(record)
    return run


def _upgrade_footer(footer: dict[str, Any]) -> dict[str, Any]:
    """A ``/1`` footer in ``/2`` form: test metrics out of the incumbent's ``metrics`` and the
    Pareto entries' ``test_accuracy`` into ``test_metrics`` (a ``/2`` footer is unchanged)."""
    incumbent = footer.get("incumbent")
    if incumbent and "test_metrics" not in incumbent:
        metrics, test = split_test_metrics(incumbent.get("metrics") or {})
        footer["incumbent"] = {**incumbent, "metrics": metrics, "test_metrics": test}
    front = []
    for entry in footer.get("pareto_front") or []:
        if "test_metrics" not in entry:
            entry = dict(entry)
            accuracy = entry.pop("test_accuracy", None)
            entry["test_metrics"] = {} if accuracy is None else {"test_accuracy": accuracy}
        front.append(entry)
    footer["pareto_front"] = front
    return footer
