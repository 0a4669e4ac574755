"""Run an agent on an env with a budget and a seed, writing a resumable run log."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym

from baselines import make_agent
from baselines.base import Agent, EnvFactory
from baselines.loading import resolve_agent, same_agent
from darwin_bench.budgets import check_budget
from darwin_bench.evaluation import Evaluation
from darwin_bench.runlog import RunLog, RunRecord, read_runlog
from darwin_bench.validation import check_seed
from envs import framework
from envs.registration import ENVS, get_entry


@dataclass
class RunResult:
    """A finished run: its log file and parsed record.

    Attributes:
        path: the run log.
        record: the parsed log.
        seconds: wall time of this call.
        resumed_from: evaluations the log already held when this call resumed it (0 when the
            run started from scratch).
        reused: True when the log was already complete and nothing ran.
    """

    path: Path
    record: RunRecord
    seconds: float
    resumed_from: int = 0
    reused: bool = False


def _as_json(value: Any) -> Any:
    """``value`` as it reads back from a run log (tuples become lists, and so on)."""
    return json.loads(json.dumps(value))


def log_path(out_dir: str | Path, agent: str, env_id: str, seed: int) -> Path:
    """Where the run log of (agent, env, seed) lives in ``out_dir``: named after the agent's
    name (a user agent ``path.py:Class`` by its class's ``name``, else the class name)."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", env_id).strip("-")
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", resolve_agent(agent).name).strip("-")
    return Path(out_dir) / f"{name}__{slug}__seed{seed}.jsonl"


def supported_envs(agent: str) -> list[str]:
    """The registered env ids whose form ``agent`` works on."""
    forms = make_agent(agent).forms
    return [e.id for e in ENVS if e.form in forms]


def check_supported(agent: str, env_id: str) -> None:
    """Fail unless ``agent`` works on the form of ``env_id``.

    Raises:
        ValueError: for an unknown agent or env, or with the list of envs the agent supports.
    """
    entry = get_entry(env_id)
    if entry.form not in make_agent(agent).forms:
        raise ValueError(
            f"agent {agent!r} does not work on {env_id} ({entry.form} env); "
            f"it supports: {', '.join(supported_envs(agent)) or 'no registered env'}"
        )


def check_reusable(
    path: Path,
    env_kwargs: dict[str, Any],
    agent_config: dict[str, Any],
    agent_source: dict[str, Any],
    *,
    complete_only: bool = False,
) -> RunRecord | None:
    """The run log at ``path`` if a run with these settings may reuse (or resume) it.

    Args:
        path: the log.
        env_kwargs: the run's env kwargs (budget included).
        agent_config: the agent's config as JSON.
        agent_source: the agent's recorded source (:attr:`AgentSpec.source`).
        complete_only: check only a complete log (an incomplete one is resumed as it is).

    Returns:
        The parsed log, or ``None`` when there is none (or only an incomplete one and
        ``complete_only``).

    Raises:
        ValueError: when the log was made with other env kwargs or agent config, or by
            another version of a user's agent (its source file changed).
    """
    if not path.exists():
        return None
    record = read_runlog(path)
    if complete_only and not record.complete:
        return None
    same = _as_json(env_kwargs), _as_json(agent_config)
    if (record.header.get("env_kwargs"), record.header.get("agent_config")) != same:
        raise ValueError(
            f"out: {path} was made with other settings (env kwargs, budget or agent config); "
            "use another --out folder or delete it"
        )
    if not same_agent(record.header.get("agent_source"), agent_source):
        raise ValueError(
            f"out: {path} was made by another version of agent "
            f"{agent_source.get('spec')!r} (its source file changed, or another class of that "
            "name); use another --out folder or delete it"
        )
    return record


def run_agent(
    agent: str,
    env_id: str,
    *,
    budget: float,
    seed: int,
    out_dir: str | Path,
    env_kwargs: dict[str, Any] | None = None,
    agent_config: dict[str, Any] | None = None,
    on_evaluation: Callable[[Evaluation], None] | None = None,
    resume: bool = True,
) -> RunResult:
    """Run ``agent`` on ``env_id`` until ``budget`` is spent (in evaluations, or in the budget
    kind the env kwarg ``budget_kind`` names).

    An existing complete log for the same (agent, env, seed) is returned as is (``reused``).
    An incomplete one (a killed run) is resumed by replay: its evaluations answer the
    evaluator first and the agent runs again from the start with the same seed, so it ends
    exactly where an uninterrupted run ends, without retraining what was already done; the
    log keeps its lines, and the replayed evaluations are checked against them (see
    :class:`~darwin_bench.runlog.RunLog`). The envs the agent made are closed even when it
    raises.

    ``on_evaluation`` (e.g. a progress bar) is called with every full evaluation record, as
    the run log is; it is framework code, never handed to the agent.

    Raises:
        ValueError: for an unknown agent or env, bad env kwargs, a non-positive budget, a
            seed outside ``0..2**32-1``, an agent that does not work on the env's form (the
            message lists the envs it supports), or a log in ``out_dir`` made with other
            settings.
    """
    kind = str(dict(env_kwargs or {}).get("budget_kind", "evaluations"))
    budget = check_budget(kind, budget)
    seed = check_seed("seed", seed)
    spec = resolve_agent(agent)
    instance = spec.make(agent_config)
    check_supported(agent, env_id)
    kwargs = {**dict(env_kwargs or {}), "budget": budget}
    problem = _problem_header(env_id, kwargs)  # bad kwargs fail here, before any log is read
    path = log_path(out_dir, agent, env_id, seed)
    previous: list[Evaluation] = []
    record = (
        check_reusable(path, kwargs, instance.config.to_dict(), spec.source) if resume else None
    )
    if record is not None:
        if record.complete:
            return RunResult(path, record, 0.0, reused=True)
        previous = record.evaluations
    header = {
        "env_id": env_id,
        "env_kwargs": kwargs,
        "agent": spec.name,
        "agent_source": spec.source,
        "agent_config": instance.config.to_dict(),
        "seed": seed,
        "budget": budget,
        "budget_kind": kind,
        **problem,
    }
    start = time.perf_counter()
    with RunLog(
        path, header, cost=problem["problem"]["reward"]["cost"], append=bool(previous)
    ) as log:
        recorders: list[Callable[[Evaluation], None]] = [log.append]
        if on_evaluation is not None:
            recorders.append(on_evaluation)
        _run_closing_envs(instance, EnvFactory(env_id, kwargs, recorders), previous, seed)
        spent = sum(float(e.spent or 0.0) for e in log.evaluations)
        log.close(seconds=time.perf_counter() - start, budget_used=spent)
    return RunResult(path, read_runlog(path), time.perf_counter() - start, len(previous))


def _problem_header(env_id: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The run header's problem entries, from a probe env made (and closed) with ``kwargs``.

    Raises:
        ValueError: for bad env kwargs.
    """
    probe = gym.make(env_id, **kwargs)
    try:
        return framework.run_header(probe)
    finally:
        probe.close()


def _run_closing_envs(
    agent: Agent[Any], envs: EnvFactory, previous: list[Evaluation], seed: int
) -> None:
    """Run ``agent`` with ``previous`` evaluations replayed first; close its envs even when it
    raises."""
    envs.preload = previous
    try:
        agent.run(envs, seed)
    finally:
        envs.close()
