"""The replay audit: re-run the agent on its own logged results and demand the same proposals.

With the agent's code at hand (a built-in agent, or the source file a submission carries), the
verifier runs the agent again, with the run's seed and config, on envs whose evaluator trains
nothing: each request is answered with the next logged evaluation, after checking that it is
the logged one (same evaluation id: network, seed, fidelity). An agent that is deterministic
for its seed and the results it sees proposes exactly the logged sequence; a log edited after
the fact (reordered, a proposal swapped, results the agent never saw) or made by other code
does not replay, and the first divergence is reported with its line. The agent sees what it
saw during the run (validation metrics only: the envs hand it public copies).

The audit executes the agent's code with the verifier's rights. ``darwin-bench leaderboard
submit`` runs it; the web server runs it for uploads only when started with
``--run-uploaded-code`` (see docs/leaderboard.md).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from darwin_bench.evaluation import EvalRequest, Evaluation, Evaluator
from darwin_bench.runlog import RunRecord
from envs import framework
from leaderboard.report import Rejection
from leaderboard.submission import File


class Diverged(RuntimeError):
    """The agent proposed something other than the log's next evaluation."""


@dataclass
class ReplayState:
    """The run being replayed: its logged evaluations, how far the agent got, the first
    divergence (kept even if the agent's code swallows the exception)."""

    logged: list[Evaluation]
    position: int = 0
    divergence: Rejection | None = None


class ReplayEvaluator(Evaluator):
    """Answers every request with the next logged evaluation, after checking it is that one.

    Args:
        base: the env's evaluator (evaluation ids).
        state: the replay shared by every env the agent makes.
    """

    def __init__(self, base: Evaluator, state: ReplayState) -> None:
        super().__init__(base.task, cost_config=base.cost_config, batched=base.batched)
        self.base = base
        self.state = state

    def key(self, request: EvalRequest) -> str:
        """The env's own evaluation id of ``request``."""
        return self.base.key(request)

    def evaluate(self, requests: Sequence[EvalRequest]) -> list[Evaluation]:
        """The logged evaluations the requests must be, in order.

        Raises:
            Diverged: at the first request that is not the next logged evaluation.
        """
        state = self.state
        out = []
        for request in requests:
            if state.divergence is not None:
                raise Diverged(state.divergence.message)
            genome = None if request.genome is None else [int(g) for g in request.genome]
            fidelity = self.task.check_fidelity(request.fidelity)
            if state.position >= len(state.logged):
                state.divergence = Rejection(
                    "replay",
                    f"the agent proposes a further evaluation (genome {genome}) after the "
                    f"{len(state.logged)} the log holds",
                    line=len(state.logged) + 2,
                    field="step",
                )
                raise Diverged(state.divergence.message)
            logged = state.logged[state.position]
            key = self.key(request)
            if key != logged.evaluation_id:
                state.divergence = Rejection(
                    "replay",
                    f"the agent proposes genome {genome} at {fidelity} (evaluation {key}); the "
                    f"log holds genome {logged.genome} at {logged.fidelity} "
                    f"({logged.evaluation_id})",
                    line=state.position + 2,
                    field="genome",
                )
                raise Diverged(state.divergence.message)
            served = Evaluation.from_dict(logged.to_dict())
            served.genome = genome
            out.append(served)
            state.position += 1
        return out


@dataclass
class Replayed:
    """The outcome of one run's replay."""

    rejections: list[Rejection] = field(default_factory=list)
    proposals: int = 0


def _factory(env_id: str, kwargs: dict[str, Any], state: ReplayState) -> Any:
    from baselines.base import EnvFactory

    class ReplayFactory(EnvFactory):
        """Makes the run's envs with the replaying evaluator in place of the training one."""

        def _attach(self, env: Any) -> None:
            core = framework.search_core(env)
            core.evaluator = ReplayEvaluator(core.evaluator, state)

    return ReplayFactory(env_id, kwargs, [])


def replay_run(
    agent: Any, env_id: str, env_kwargs: dict[str, Any], record: RunRecord, run: str
) -> Replayed:
    """Re-run ``agent`` (an instance with the run's config) with the run's seed on
    ``env_id`` with ``env_kwargs`` (the track's), answered from ``record``; every divergence
    is a rejection of ``run``."""
    state = ReplayState(list(record.evaluations))
    factory = _factory(env_id, env_kwargs, state)
    out = Replayed()
    try:
        agent.run(factory, int(record.header.get("seed", 0)))
    except Diverged:
        pass
    except Exception as exc:  # the agent's own failure is a finding, not a crash
        if state.divergence is None:
            out.rejections.append(
                Rejection(
                    "replay",
                    f"the agent raised {type(exc).__name__}: {exc}",
                    run,
                    state.position + 2,
                )
            )
    out.proposals = state.position
    if state.divergence is not None:
        d = state.divergence
        out.rejections.append(Rejection(d.check, d.message, run, d.line, d.field))
    elif not out.rejections and state.position < len(state.logged):
        out.rejections.append(
            Rejection(
                "replay",
                f"the agent stopped after {state.position} of the {len(state.logged)} logged "
                "evaluations",
                run,
                state.position + 2,
                "step",
            )
        )
    return out


@dataclass
class AgentCode:
    """The agent to replay, or why there is none."""

    agent: Any | None
    detail: str


def agent_code(header: dict[str, Any], source: File | None, workdir: Path) -> AgentCode:
    """The agent a run log was made with, built with the logged config: the class its
    ``agent_source`` names, from the submitted source file (whose SHA-256 must be the one the
    log recorded) or, for a built-in agent, from this installation. Nothing named only by a
    path or module in the log is imported: a user's agent is replayed from the source the
    submission carries.

    Raises:
        ValueError: when the submitted source is not the code the runs recorded, cannot be
            loaded, or the log's agent is not what its source says.
    """
    from baselines import AGENTS
    from baselines.loading import resolve_agent

    logged = header.get("agent_source") or {}
    config = header.get("agent_config") or {}
    if source is not None:
        spec = _from_source(logged, source, workdir)
        detail = f"{spec.name} from source {source.name}"
    elif logged.get("kind") == "builtin" and logged.get("spec") in AGENTS:
        spec = resolve_agent(str(logged["spec"]))
        detail = f"built-in agent {spec.name!r}"
    else:
        return AgentCode(None, "no source given: the agent's proposals cannot be replayed")
    if spec.name != header.get("agent"):
        raise ValueError(
            f"header.agent: logged {header.get('agent')!r}, but its recorded source is agent "
            f"{spec.name!r}"
        )
    return AgentCode(spec.make(config), detail)


def _from_source(logged: dict[str, Any], source: File, workdir: Path) -> Any:
    from baselines.loading import resolve_agent

    cls = logged.get("class")
    if not cls or logged.get("kind") == "builtin":
        raise ValueError(
            "header.agent_source: the runs do not record a user agent's class (a source file "
            "replays the agent that made the runs: run them with --agent FILE.py:Class)"
        )
    path = workdir / source.name
    path.write_text(source.text, encoding="utf-8")
    spec = resolve_agent(f"{path}:{cls}")
    if logged.get("sha256") != spec.source.get("sha256"):
        raise ValueError(
            f"source {source.name} is not the code the runs were made with: its SHA-256 is "
            f"{spec.source.get('sha256')}, the runs recorded {logged.get('sha256')}"
        )
    return spec


def replay_runs(
    runs: Sequence[tuple[str, RunRecord]],
    env_id: str,
    env_kwargs: dict[str, Any],
    source: File | None,
) -> tuple[list[Rejection], str, int]:
    """Replay every run; returns the rejections, what was replayed (or why nothing was) and
    the number of proposals replayed."""
    rejections: list[Rejection] = []
    proposals = 0
    with tempfile.TemporaryDirectory(prefix="darwin-bench-replay-") as tmp:
        detail = ""
        for name, record in runs:
            try:
                code = agent_code(record.header, source, Path(tmp))
            except (ValueError, ImportError) as exc:
                return [Rejection("replay", str(exc), name, 1, "agent_source")], "", 0
            if code.agent is None:
                return [], code.detail, 0
            detail = code.detail
            result = replay_run(code.agent, env_id, env_kwargs, record, name)
            rejections += result.rejections
            proposals += result.proposals
    return rejections, detail, proposals
