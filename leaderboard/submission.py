"""Submissions: data only. The run logs of one agent on one track, and who made them.

A submission is

- one run log per seed (JSON Lines, as ``darwin-bench run`` writes them; ``.jsonl`` or
  gzip-compressed ``.jsonl.gz``),
- the agent's name, version and config,
- optionally the agent's source file (Python text; it is *read* as data and only executed by
  the replay audit, see :mod:`leaderboard.replay`).

On disk it is a folder with a manifest ``submission.json``::

    {"format": "darwin_bench.submission/1", "track": "digits-mlp-live",
     "agent": {"name": "rea", "version": "0.1.0", "config": {...}},
     "runs": ["seed0.jsonl.gz", "seed1.jsonl.gz", ...], "source": "my_agent.py"}

Over HTTP it is one JSON document of the same shape with every file inlined
(:class:`Submission`: ``runs`` is a list of ``{"name", "text"}``, ``source`` a
``{"name", "text"}``). Nothing is ever unpickled: every file is parsed as JSON.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

FORMAT = "darwin_bench.submission/1"
MANIFEST = "submission.json"
#: Largest run log accepted (uncompressed).
MAX_RUN_BYTES = 64 << 20
#: Largest agent source file accepted.
MAX_SOURCE_BYTES = 1 << 20
#: Most run logs in one submission.
MAX_RUNS = 200

#: Agent and version names: printable, no control characters (they are shown in terminals).
_NAME = r"^[^\x00-\x1f\x7f]{1,100}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class AgentInfo(_Strict):
    """Who made the runs.

    Attributes:
        name: the entry's name on the board (shown as text, never as markup).
        version: the agent's version (free text, e.g. ``"1.2"`` or a commit id).
        config: the agent's config; every run's header must record the same.
    """

    name: str = Field(pattern=_NAME)
    version: str = Field(pattern=_NAME)
    config: dict[str, Any] = Field(default_factory=dict)


class File(_Strict):
    """A file of a submission: its name and its text."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,128}$")
    text: str


class Submission(_Strict):
    """A whole submission, files inlined (the HTTP upload's body and the verifier's input)."""

    format: Literal["darwin_bench.submission/1"] = "darwin_bench.submission/1"
    track: str
    agent: AgentInfo
    runs: list[File] = Field(min_length=1, max_length=MAX_RUNS)
    source: File | None = None

    def check_sizes(self) -> None:
        """Refuse files over the limits.

        Raises:
            ValueError: naming the file and the limit.
        """
        for run in self.runs:
            size = len(run.text.encode("utf-8"))
            if size > MAX_RUN_BYTES:
                raise ValueError(f"run {run.name}: {size:,} bytes is over {MAX_RUN_BYTES:,}")
        if self.source is not None:
            size = len(self.source.text.encode("utf-8"))
            if size > MAX_SOURCE_BYTES:
                raise ValueError(
                    f"source {self.source.name}: {size:,} bytes is over {MAX_SOURCE_BYTES:,}"
                )
        names = [r.name for r in self.runs]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"runs: file names must be distinct; repeated: {repeated}")


def parse_submission(data: Any) -> Submission:
    """A submission from JSON data (an upload), checked.

    Raises:
        ValueError: naming the field, for data that is not a submission or files over the
            limits.
    """
    try:
        submission = Submission.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"]) or "submission"
        raise ValueError(f"submission: {where}: {error['msg']}") from None
    submission.check_sizes()
    return submission


def read_text(path: Path, limit: int) -> str:
    """A text file (gunzipped when it ends in ``.gz``), refusing more than ``limit`` bytes.

    Raises:
        ValueError: for a file over the limit, a broken gzip stream or text that is not UTF-8.
    """
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                raw = f.read(limit + 1)
        else:
            with path.open("rb") as f:
                raw = f.read(limit + 1)
    except (OSError, EOFError) as exc:
        raise ValueError(f"{path}: cannot read ({exc})") from None
    if len(raw) > limit:
        raise ValueError(f"{path}: over the limit of {limit:,} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text ({exc})") from None


def _run_paths(paths: list[Path]) -> tuple[list[Path], dict[str, Any] | None, Path | None]:
    """Run log files of ``paths`` (folders expanded), the manifest found, and its folder."""
    runs: list[Path] = []
    manifest: dict[str, Any] | None = None
    folder: Path | None = None
    for path in paths:
        if path.is_dir() and (path / MANIFEST).is_file():
            path = path / MANIFEST
        if path.name == MANIFEST or (path.suffix == ".json" and path.is_file()):
            if manifest is not None:
                raise ValueError(f"{path}: a second manifest (give one submission at a time)")
            manifest = _read_manifest(path)
            folder = path.parent
            runs += [folder / str(name) for name in manifest.get("runs", [])]
        elif path.is_dir():
            found = sorted([*path.glob("*.jsonl"), *path.glob("*.jsonl.gz")])
            if not found:
                raise ValueError(f"{path}: no run logs (*.jsonl, *.jsonl.gz) in this folder")
            runs += found
        elif path.is_file():
            runs.append(path)
        else:
            raise ValueError(f"{path}: no such file or folder")
    return runs, manifest, folder


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(read_text(path, MAX_SOURCE_BYTES))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{path}: not a submission manifest (format must be {FORMAT!r})")
    return data


def _header(text: str, name: str) -> dict[str, Any]:
    first = text.split("\n", 1)[0]
    try:
        header = json.loads(first)
    except json.JSONDecodeError:
        header = None
    if not isinstance(header, dict) or header.get("type") != "header":
        raise ValueError(f"{name}:1: not a darwin_bench run log (no header line)")
    return header


def load_submission(
    paths: Sequence[str | Path],
    *,
    track: str | None = None,
    name: str | None = None,
    version: str | None = None,
    source: str | Path | None = None,
) -> Submission:
    """A submission from files: run logs, folders of them, or a folder with a manifest.

    What the manifest does not say comes from the arguments, then from the run logs' headers:
    the agent's name is the header's ``agent``, its config the header's ``agent_config``, its
    version the darwin_bench version the runs recorded (built-in agents are versioned with the
    package).

    Raises:
        ValueError: for missing files, a missing track, files over the limits, or runs whose
            headers disagree on the agent (a submission is one agent).
    """
    files, manifest, folder = _run_paths([Path(p) for p in paths])
    manifest = manifest or {}
    if not files:
        raise ValueError("a submission needs at least one run log")
    runs = [File(name=p.name, text=read_text(p, MAX_RUN_BYTES)) for p in files]
    headers = [_header(r.text, r.name) for r in runs]
    agents = sorted({str(h.get("agent")) for h in headers})
    if len(agents) > 1:
        raise ValueError(f"runs: a submission is one agent's runs; these name {agents}")
    agent = dict(manifest.get("agent") or {})
    agent.setdefault("config", headers[0].get("agent_config") or {})
    agent["name"] = name or agent.get("name") or agents[0]
    machine = headers[0].get("machine") or {}
    agent["version"] = version or agent.get("version") or str(machine.get("darwin_bench", "?"))
    source_file = None
    source_path = Path(source) if source else None
    if source_path is None and manifest.get("source") and folder is not None:
        source_path = folder / str(manifest["source"])
    if source_path is not None:
        source_file = File(name=source_path.name, text=read_text(source_path, MAX_SOURCE_BYTES))
    chosen = track or manifest.get("track")
    if not chosen:
        raise ValueError("track: name the track (--track NAME) or give a manifest that does")
    return parse_submission(
        {
            "track": chosen,
            "agent": agent,
            "runs": [r.model_dump() for r in runs],
            "source": source_file.model_dump() if source_file else None,
        }
    )


def write_manifest(
    folder: str | Path,
    track: str,
    agent: AgentInfo,
    runs: list[str],
    source: str | None = None,
) -> Path:
    """Write ``folder/submission.json`` naming run logs (and a source file) already there."""
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "track": track,
        "agent": agent.model_dump(),
        "runs": runs,
        "source": source,
    }
    path = Path(folder) / MANIFEST
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def write_submission(submission: Submission, folder: str | Path, *, compress: bool = True) -> Path:
    """Write ``submission`` as a folder with a manifest (run logs gzip-compressed by default,
    byte for byte reproducible); returns the manifest's path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for run in submission.runs:
        stem = run.name.removesuffix(".gz")
        name = f"{stem}.gz" if compress else stem
        data = run.text.encode("utf-8")
        (folder / name).write_bytes(gzip.compress(data, 9, mtime=0) if compress else data)
        names.append(name)
    source = None
    if submission.source is not None:
        (folder / submission.source.name).write_text(submission.source.text, encoding="utf-8")
        source = submission.source.name
    return write_manifest(folder, submission.track, submission.agent, names, source)
