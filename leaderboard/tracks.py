"""Tracks: the fixed problems the leaderboard ranks agents on, read from ``tracks.json``.

A track is a registered env id with its kwargs (reward, cost, target, ...), a budget kind and
size, and the number of seeds an entry must submit (at least 10 on tabular tracks, whose
steps are table lookups; at least 5 on live tracks, whose every step trains a network). A live
track also states how its evaluations are retrained (a sample of ``retrain.sample`` per run
plus the incumbent) and the tolerance they must agree within; a multi-objective track states
the reference point of its hypervolume.

The data file ``leaderboard/tracks.json`` is the only place the board's tracks are defined;
its schema is :class:`TrackFile` (unknown keys are refused, so a typo is an error, not a silent
default). A private board (or a test) may use another file of the same schema, named by the
environment variable ``DARWIN_BENCH_LEADERBOARD_TRACKS``.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from darwin_bench.budgets import check_budget

#: The packaged track file.
TRACKS_FILE = Path(__file__).resolve().parent / "tracks.json"
#: Environment variable naming another track file.
TRACKS_VARIABLE = "DARWIN_BENCH_LEADERBOARD_TRACKS"
#: Format tag of the track file.
FORMAT = "darwin_bench.tracks/1"
#: Fewest seeds a track may require, by kind (the issue's floor).
MIN_SEEDS = {"tabular": 10, "live": 5}
#: Env kwargs that say where and how evaluations run, never what they give: a run may set them
#: freely (they are left out when its kwargs are compared with the track's).
EXECUTION_KWARGS = ("workers", "executor", "cache_path", "time_limit", "worker_retries")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Retrain(_Strict):
    """How a live track checks logged results by training again.

    A retrained metric ``m`` agrees with the logged ``l`` when
    ``|m - l| <= atol + rtol * |l|``; costs computed from the architecture alone (parameters,
    FLOPs, modeled device figures) must agree to ``cost_rtol`` (1e-9: exactly, up to float
    printing).
    """

    sample: int = Field(ge=0, description="random evaluations retrained per run (+ incumbent)")
    atol: float = Field(ge=0)
    rtol: float = Field(ge=0)
    cost_rtol: float = Field(default=1e-9, ge=0)


class Hypervolume(_Strict):
    """The reference point of a multi-objective track's hypervolume (score up, cost down).

    A run's hypervolume is the area of the (score, cost) region its evaluated networks
    dominate, bounded by ``score >= score_ref`` and ``cost <= cost_ref``, divided by the area
    of ``[score_ref, score_best] x [0, cost_ref]`` so that it lies in ``[0, 1]``.
    """

    cost: str
    score_ref: float
    score_best: float
    cost_ref: float = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> Hypervolume:
        if not self.score_ref < self.score_best:
            raise ValueError("score_ref must be below score_best")
        return self


class Track(_Strict):
    """One track (see the module docstring).

    Attributes:
        name: short name, used on the command line and in URLs (``[a-z0-9-]``).
        env_id: the registered env id.
        kind: ``tabular`` (answered from a shipped table) or ``live`` (trains).
        description: one line for listings.
        env_kwargs: the env kwargs every run must use (budget and budget kind apart).
        budget_kind: ``evaluations``, ``train_flops`` or ``seconds``.
        budget: what each run may spend, in that kind.
        min_seeds: seeds an entry must submit (seeds ``0..n-1``, ``n >= min_seeds``).
        retrain: live tracks: how evaluations are retrained and the tolerance.
        hypervolume: multi-objective tracks: the hypervolume's reference point.
        reference_configs: agent configs of the reference entries, for the built-in agents
            whose defaults do not fit the track's budget (e.g. ``rea``'s first 20 proposals
            are random samples: on a 20-evaluation budget its default would be random search).
    """

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")
    env_id: str
    kind: Literal["tabular", "live"]
    description: str = ""
    env_kwargs: dict[str, Any] = Field(default_factory=dict)
    budget_kind: Literal["evaluations", "train_flops", "seconds"] = "evaluations"
    budget: float = Field(gt=0)
    min_seeds: int
    retrain: Retrain | None = None
    hypervolume: Hypervolume | None = None
    reference_configs: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> Track:
        check_budget(self.budget_kind, self.budget)
        if self.min_seeds < MIN_SEEDS[self.kind]:
            raise ValueError(f"min_seeds of a {self.kind} track must be >= {MIN_SEEDS[self.kind]}")
        if self.kind == "live" and self.retrain is None:
            raise ValueError("a live track must say how it retrains (retrain)")
        reserved = sorted({"budget", "budget_kind"} & set(self.env_kwargs))
        if reserved:
            raise ValueError(f"env_kwargs must not hold {reserved}: use the track's fields")
        return self

    @property
    def multi_objective(self) -> bool:
        """True when the track ranks hypervolumes too."""
        return self.hypervolume is not None

    def run_kwargs(self) -> dict[str, Any]:
        """The env kwargs of one run on this track, budget included (what ``run_agent`` and
        the verifier build the env with)."""
        kwargs = dict(self.env_kwargs)
        if self.budget_kind != "evaluations":
            kwargs["budget_kind"] = self.budget_kind
        kwargs["budget"] = int(self.budget) if self.budget_kind == "evaluations" else self.budget
        return kwargs

    def to_dict(self) -> dict[str, Any]:
        """JSON form (as in the track file)."""
        return self.model_dump(mode="json", exclude_none=True)


class TrackFile(_Strict):
    """The schema of ``tracks.json``."""

    format: Literal["darwin_bench.tracks/1"]
    darwin_bench: str = Field(
        description="the darwin_bench versions whose run logs are accepted (a PEP 440 "
        "specifier, e.g. '==0.1.*')"
    )
    tracks: list[Track]

    @model_validator(mode="after")
    def _unique(self) -> TrackFile:
        names = [t.name for t in self.tracks]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"track names must be unique; repeated: {repeated}")
        return self


def load_track_file(path: str | Path = TRACKS_FILE) -> TrackFile:
    """Read and check a track file.

    Raises:
        ValueError: naming the file and the field, for a file that is not a valid track file.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return TrackFile.model_validate(data)
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"tracks: cannot read {path}: {exc}") from None
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        raise ValueError(f"tracks: {path}: {where}: {error['msg']}") from None


@cache
def _load(path: Path, mtime: int) -> TrackFile:
    return load_track_file(path)


def _packaged() -> TrackFile:
    """The track file in use: ``$DARWIN_BENCH_LEADERBOARD_TRACKS``, else the packaged one."""
    path = Path(os.environ.get(TRACKS_VARIABLE) or TRACKS_FILE)
    try:
        mtime = path.stat().st_mtime_ns
    except OSError as exc:
        raise ValueError(f"tracks: cannot read {path}: {exc}") from None
    return _load(path, mtime)


def accepted_versions() -> str:
    """The darwin_bench version specifier of the track file."""
    return _packaged().darwin_bench


def tracks() -> list[Track]:
    """The tracks, in file order."""
    return list(_packaged().tracks)


def get_track(name: str) -> Track:
    """A track by name.

    Raises:
        ValueError: for an unknown name (the known ones are listed).
    """
    for track in _packaged().tracks:
        if track.name == name:
            return track
    known = ", ".join(t.name for t in _packaged().tracks)
    raise ValueError(f"track must be one of {known}; got {name!r}")
