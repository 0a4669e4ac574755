"""An env id's search problem: its task and search space, without building the env.

Benchmark commands (``darwin-bench perf``) time and cost networks of a registered env's task
and space; this module resolves env ids to those two objects, so that the library code under
``darwin_bench/perf`` never reads the env registry.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator

from darwin_bench.spaces import SearchSpace, make_space
from darwin_bench.tasks import Task
from envs.registration import ENVS, EnvEntry, get_entry
from envs.tasks import make_task

#: A named (task, space) pair, named ``<task>/<space>``.
Problem = tuple[str, Task, SearchSpace]


@contextlib.contextmanager
def offline() -> Iterator[None]:
    """Set ``DARWIN_BENCH_OFFLINE=1`` for the block (datasets are never downloaded)."""
    previous = os.environ.get("DARWIN_BENCH_OFFLINE")
    os.environ["DARWIN_BENCH_OFFLINE"] = "1"
    try:
        yield
    finally:
        if previous is None:
            del os.environ["DARWIN_BENCH_OFFLINE"]
        else:
            os.environ["DARWIN_BENCH_OFFLINE"] = previous


def _build(entry: EnvEntry) -> Problem | None:
    kwargs = entry.kwargs
    if not isinstance(kwargs.get("task"), str) or "space" not in kwargs:
        return None
    task = make_task(kwargs["task"], kwargs.get("task_kwargs"))
    space = make_space(
        kwargs["space"], task.input_shape, task.num_outputs, **kwargs.get("space_kwargs", {})
    )
    return f"{kwargs['task']}/{kwargs['space']}", task, space


def problem(env_id: str) -> Problem:
    """The ``(name, task, space)`` of a registered env.

    Raises:
        ValueError: for an unknown env id, or an env without a named task and space.
    """
    built = _build(get_entry(env_id))
    if built is None:
        raise ValueError(f"env {env_id!r} has no named task and space to sample networks from")
    return built


def problems(env_ids: str | None = None) -> tuple[list[Problem], dict[str, str]]:
    """Distinct (task, space) pairs of the given (comma-separated) or every registered env.

    Without ``env_ids`` the sweep runs offline: envs whose task cannot be built here (e.g. a
    dataset that is not downloaded) are skipped with the reason. Named envs must all build.

    Returns:
        ``(problems, skipped)``: one problem per distinct task and space settings, and
        ``{env_id: reason}`` for the skipped envs.

    Raises:
        ValueError: for an unknown env id, a named env that cannot be built, or no problem.
    """
    entries = [get_entry(e.strip()) for e in env_ids.split(",")] if env_ids else list(ENVS)
    found: dict[str, Problem] = {}
    skipped: dict[str, str] = {}
    for entry in entries:
        try:
            if env_ids:
                built = _build(entry)
            else:
                with offline():
                    built = _build(entry)
        except Exception as exc:
            if env_ids:
                raise ValueError(f"env {entry.id}: {str(exc).splitlines()[0]}") from None
            skipped[entry.id] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
            continue
        if built is not None:
            key = f"{built[0]}|{json.dumps(built[2].describe(), sort_keys=True)}"
            found.setdefault(key, built)
    if not found:
        raise ValueError("envs: none of the given envs has a task and a space to sample from")
    return list(found.values()), skipped
