"""Verification: every check a submission passes before it is ranked.

In order (a failing step stops the later ones, which would only repeat its finding):

1. **track**: the submission names this track.
2. **schema**: every run log parses (:func:`darwin_bench.runlog.read_runlog`: every line
   against its pydantic schema, evaluations in step order, one footer counting them) and is
   complete (a log without its footer is a truncated run).
3. **header**: each run was made on the track: env id, env kwargs (execution-only kwargs
   such as ``workers`` aside), budget and budget kind; a darwin_bench version the board
   accepts; the task's data hash; the whole problem description (task, space, reward,
   fidelity, cost settings and, on tabular tracks, the table's content hash) equal to what
   this installation builds; the agent and config the submission names.
4. **seeds**: distinct, exactly ``0..n-1`` (nobody picks their luckiest seeds), at least the
   track's minimum.
5. **evaluations** (and **budget**, **footer**): every logged evaluation recomputed from its
   genome by the env (:mod:`leaderboard.recompute`): ids from content, seeds, rewards,
   charges, the budget rule, the footer; on tabular tracks metrics, test metrics, costs and
   seconds exactly against the table.
6. **retrain** (live tracks): the incumbent and a random sample of each run trained again,
   within the track's tolerance (:mod:`leaderboard.retrain`).
7. **replay**: the agent re-run on its logged results must propose exactly the logged
   sequence (:mod:`leaderboard.replay`), when its code is at hand.

Duplicates are refused by the store, by :attr:`Verification.content_hash`: the hash of the
track and of each seed's sequence of evaluation ids (the same search trajectory under another
name is the same submission).
"""

from __future__ import annotations

import json
import re
import secrets
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from darwin_bench.hashing import data_hash
from darwin_bench.runlog import FORMAT as RUNLOG_FORMAT
from darwin_bench.runlog import RunRecord, read_runlog
from envs import framework
from leaderboard.recompute import first_difference, recompute_run
from leaderboard.replay import replay_runs
from leaderboard.report import Rejection, Report
from leaderboard.retrain import retrain_runs
from leaderboard.submission import Submission
from leaderboard.tracks import EXECUTION_KWARGS, Track, accepted_versions, get_track

Run = tuple[str, RunRecord]


@dataclass
class Verification:
    """A verified (or rejected) submission.

    Attributes:
        report: the checks and every rejection.
        runs: ``(file name, parsed log)`` of each run that parsed, sorted by seed.
        content_hash: identifies the submission's results (``None`` when the logs did not
            parse).
    """

    report: Report
    runs: list[Run] = field(default_factory=list)
    content_hash: str | None = None

    @property
    def accepted(self) -> bool:
        """True when the submission passed every check."""
        return self.report.accepted


def content_hash(track: str, runs: list[Run]) -> str:
    """The submission's identity: the track and each seed's evaluation ids, in order."""
    trajectories = sorted(
        [int(r.header.get("seed", -1)), [e.evaluation_id for e in r.evaluations]] for _, r in runs
    )
    return data_hash("darwin_bench.submission", track, trajectories)


def parse_runs(submission: Submission, report: Report) -> list[Run]:
    """Parse every run log (schema, completeness, format); rejections go to ``report``."""
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="darwin-bench-submission-") as tmp:
        for run in submission.runs:
            path = Path(tmp) / run.name.removesuffix(".gz")
            path.write_text(run.text, encoding="utf-8")
            try:
                record = read_runlog(path)
            except ValueError as exc:
                message = str(exc).replace(str(path), run.name)
                found = re.match(rf"{re.escape(run.name)}:(\d+): ", message)
                line = int(found.group(1)) if found else None
                report.reject(Rejection("schema", message, run.name, line))
                continue
            if record.header.get("format") != RUNLOG_FORMAT:
                report.reject(
                    Rejection(
                        "schema",
                        f"logged {record.header.get('format')!r}; tracks take {RUNLOG_FORMAT!r}",
                        run.name,
                        1,
                        "header.format",
                    )
                )
            elif not record.complete:
                report.reject(
                    Rejection(
                        "schema",
                        "no footer: the log is truncated (the run did not finish)",
                        run.name,
                        len(record.evaluations) + 2,
                        "footer",
                    )
                )
            else:
                runs.append((run.name, record))
    return sorted(runs, key=lambda r: (int(r[1].header.get("seed", -1)), r[0]))


def _run_kwargs(header: dict[str, Any]) -> dict[str, Any]:
    kwargs = {k: v for k, v in (header.get("env_kwargs") or {}).items()}
    for name in EXECUTION_KWARGS:
        kwargs.pop(name, None)
    if kwargs.get("budget_kind") == "evaluations":
        del kwargs["budget_kind"]
    return kwargs


def _version_ok(version: Any, spec: str) -> bool:
    try:
        return Version(str(version)) in SpecifierSet(spec)
    except (InvalidVersion, InvalidSpecifier):
        return False


def check_header(
    name: str, header: dict[str, Any], track: Track, submission: Submission, own: dict
) -> list[Rejection]:
    """Every way a run's header can say it was not made on ``track`` by the submitted agent.

    ``own`` is the track env's own header fields (:func:`envs.framework.run_header`: data hash,
    problem description, metric, reproducibility)."""
    expected: list[tuple[str, Any, Any, str]] = [
        ("env_id", header.get("env_id"), track.env_id, "the track's"),
        ("env_kwargs", _run_kwargs(header), track.run_kwargs(), "the track's"),
        ("budget_kind", header.get("budget_kind"), track.budget_kind, "the track's"),
        ("budget", header.get("budget"), track.run_kwargs()["budget"], "the track's"),
        ("reproducible", header.get("reproducible"), True, "a ranked run's"),
        *(
            (key, header.get(key), value, "this installation's")
            for key, value in own.items()
            if key != "reproducible"
        ),
        (
            "agent_config",
            header.get("agent_config") or {},
            submission.agent.config,
            "the submission's",
        ),
    ]
    out = []
    machine = header.get("machine") or {}
    spec = accepted_versions()
    if not _version_ok(machine.get("darwin_bench"), spec):
        out.append(
            Rejection(
                "header",
                f"darwin_bench {machine.get('darwin_bench')!r} made this run; the board "
                f"accepts {spec}",
                name,
                1,
                "header.machine.darwin_bench",
            )
        )
    for key, logged, wanted, origin in expected:
        found = first_difference(logged, wanted)
        if found is None:
            continue
        path, theirs, mine = found
        where = f"header.{key}.{path}" if path else f"header.{key}"
        out.append(Rejection("header", f"logged {theirs!r}, {origin}: {mine!r}", name, 1, where))
    return out


def check_seeds(runs: list[Run], track: Track) -> list[Rejection]:
    """Distinct seeds ``0..n-1`` with ``n >= track.min_seeds``; one agent across runs."""
    out = []
    owner: dict[Any, str] = {}
    for name, record in runs:
        seed = record.header.get("seed")
        if seed in owner:
            out.append(
                Rejection(
                    "seeds",
                    f"seed {seed} is also the seed of {owner[seed]}",
                    name,
                    1,
                    "header.seed",
                )
            )
        owner.setdefault(seed, name)
    agents = sorted({str(r.header.get("agent")) for _, r in runs})
    if len(agents) > 1:
        out.append(Rejection("seeds", f"the runs name several agents: {agents}", field="agent"))
    if out:
        return out
    n = len(runs)
    missing = sorted(set(range(n)) - set(owner))
    if missing:
        out.append(
            Rejection(
                "seeds",
                f"the {n} runs must have seeds 0..{n - 1} (so that no seed is picked); missing "
                f"{missing}, got {sorted(owner, key=str)}",
                field="header.seed",
            )
        )
    if n < track.min_seeds:
        out.append(
            Rejection(
                "seeds",
                f"{n} runs; track {track.name} needs at least {track.min_seeds} (seeds "
                f"0..{track.min_seeds - 1})",
                field="runs",
            )
        )
    return out


def make_env(track: Track) -> Any:
    """A fresh env of the track (its own evaluator, nothing cached)."""
    return gym.make(track.env_id, **track.run_kwargs())


class Skipped(Exception):
    """A verification step that does not apply (its message says why)."""


class _Steps:
    """Runs verification steps in order, timing each, until one rejects."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.failed = False

    def run(self, name: str, step: Callable[[], tuple[list[Rejection], str]]) -> None:
        if self.failed:
            self.report.add(name, "skipped", "an earlier check failed")
            return
        start = time.perf_counter()
        try:
            rejections, detail = step()
        except Skipped as skipped:
            self.report.add(name, "skipped", str(skipped), time.perf_counter() - start)
            return
        seconds = time.perf_counter() - start
        for rejection in rejections:
            self.report.reject(rejection)
        self.failed = bool(rejections)
        self.report.add(name, "failed" if rejections else "passed", detail, seconds)

    def skip(self, name: str, detail: str) -> None:
        self.report.add(name, "skipped", detail)


def verify(
    submission: Submission,
    track: Track | None = None,
    *,
    retrain: bool = True,
    replay: bool = True,
    sample_seed: int | None = None,
    known: Callable[[str], int | None] | None = None,
    run_sources: bool = True,
) -> Verification:
    """Verify ``submission`` on ``track`` (default: the packaged track it names).

    Args:
        submission: the submission.
        track: the track (tests pass their own).
        retrain: live tracks: retrain the sample (``False`` records the step as skipped).
        replay: run the replay audit when the agent's code is at hand (it executes that code).
        sample_seed: seed of the retrain sample (default: fresh randomness, recorded).
        known: the entry already holding results of a content hash (a store's ``find``):
            a duplicate is refused before anything is re-run.
        run_sources: execute a submitted agent source for the replay audit (``False``: that
            step is recorded as skipped; built-in agents are still replayed).

    Raises:
        ValueError: for an unknown track name.
    """
    track = track or get_track(submission.track)
    report = Report(track.name)
    steps = _Steps(report)
    steps.run("track", lambda: (_check_track(submission, track), track.name))
    runs = parse_runs(submission, report) if not steps.failed else []
    report.add("schema", "failed" if report.rejections else "passed", f"{len(runs)} run logs")
    steps.failed = bool(report.rejections)
    verification = Verification(report, runs)
    if not steps.failed:
        verification.content_hash = content_hash(track.name, runs)
        if known is not None:
            steps.run("duplicate", lambda: _duplicate(verification, known))
    env = make_env(track) if not steps.failed else None
    try:
        problem = framework.run_header(env) if env is not None else {}
        steps.run("header", lambda: (_headers(runs, track, submission, problem), ""))
        steps.run("seeds", lambda: (check_seeds(runs, track), f"seeds 0..{len(runs) - 1}"))
        steps.run("evaluations", lambda: _evaluations(env, runs, track, report))
        if track.kind == "live" and retrain:
            seed = secrets.randbits(32) if sample_seed is None else int(sample_seed)
            steps.run("retrain", lambda: _retrain(env, runs, track, report, seed))
        elif track.kind == "live":
            steps.skip("retrain", "not run (retrain=False)")
        else:
            steps.skip("retrain", "tabular track: every evaluation was checked against the table")
        if replay:
            steps.run("replay", lambda: _replay(runs, track, submission, report, run_sources))
        else:
            steps.skip("replay", "not run (the verifier does not execute agent code here)")
    finally:
        if env is not None:
            env.close()
    return verification


def _duplicate(
    verification: Verification, known: Callable[[str], int | None]
) -> tuple[list[Rejection], str]:
    assert verification.content_hash is not None
    entry = known(verification.content_hash)
    if entry is None:
        return [], "new results"
    message = (
        f"duplicate: the same results (every seed's evaluations) are already entry #{entry}: a "
        "submission is refused when its content hash is on the board"
    )
    return [Rejection("duplicate", message, field="content_hash")], ""


def _check_track(submission: Submission, track: Track) -> list[Rejection]:
    if submission.track == track.name:
        return []
    message = f"names track {submission.track!r}, not {track.name!r}"
    return [Rejection("track", message, field="track")]


def _headers(
    runs: list[Run], track: Track, submission: Submission, problem: dict[str, Any]
) -> list[Rejection]:
    out: list[Rejection] = []
    for name, record in runs:
        out += check_header(name, record.header, track, submission, problem)
    return out


def _evaluations(env: Any, runs: list[Run], track: Track, report: Report) -> tuple[list, str]:
    rejections: list[Rejection] = []
    count = 0
    source = "the table" if track.kind == "tabular" else "the log"
    for name, record in runs:
        result = recompute_run(
            env, record, name, measured_from_log=track.kind == "live", source=source
        )
        rejections += result.rejections
        count += len(result.evaluations)
    report.facts["evaluations_checked"] = count
    what = (
        "recomputed by the env and checked against the table"
        if track.kind == "tabular"
        else ("recomputed by the env from the logged measurements")
    )
    return rejections, f"{count} evaluations {what}"


def _retrain(
    env: Any, runs: list[Run], track: Track, report: Report, seed: int
) -> tuple[list, str]:
    assert track.retrain is not None
    evaluator = framework.search_core(env).evaluator
    result = retrain_runs(runs, evaluator, track.retrain, np.random.default_rng(seed))
    report.facts.update(result.facts(), retrain_seed=seed)
    deviations = ", ".join(f"{k} {v:.2g}" for k, v in sorted(result.deviation.items()))
    detail = (
        f"{result.checked} evaluations retrained (incumbents + {track.retrain.sample} per run, "
        f"sample seed {seed}); {result.exact} bit-identical; largest deviation: "
        f"{deviations or 'none'}; tolerance {track.retrain.atol:g} + {track.retrain.rtol:g} x "
        "|logged|"
    )
    return result.rejections, detail


def _replay(
    runs: list[Run], track: Track, submission: Submission, report: Report, run_sources: bool
) -> tuple[list, str]:
    if submission.source is not None and not run_sources:
        raise Skipped(
            f"the submitted source {submission.source.name} was not run: this server does not "
            "execute uploaded code (darwin-bench leaderboard submit, or serve "
            "--run-uploaded-code, does)"
        )
    rejections, detail, proposals = replay_runs(
        runs, track.env_id, track.run_kwargs(), submission.source
    )
    report.facts["replayed_proposals"] = proposals
    if not proposals and not rejections:
        raise Skipped(detail)
    return rejections, f"{detail}: {proposals} proposals replayed, nothing trained"


def report_json(verification: Verification) -> str:
    """The report as indented JSON (for ``--json`` and files)."""
    return json.dumps(verification.report.to_dict(), indent=2, sort_keys=True)
