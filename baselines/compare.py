"""Compare search agents on one env over several seeds: run, then summarize with intervals.

:func:`compare` runs every (agent, seed) pair through :func:`baselines.runner.run_agent`
(seeds ``0..seeds-1``), reusing the complete run logs already in ``out_dir`` (so an
interrupted comparison resumes where it stopped), and summarizes them after Agarwal et al.
(NeurIPS 2021) with :mod:`darwin_bench.stats`: per agent, the IQM and the mean of the final
best reward, of the incumbent's test metric and of the best-so-far AUC, each with a 95%
stratified-bootstrap interval; the probability of improvement of every pair of agents; and
performance profiles. Everything in the returned :class:`Comparison` (and its JSON) is a
function of the run logs' rewards and metrics (bootstraps are seeded): the same agents, env,
kwargs, budget and seeds give the same comparison. Wall times are kept apart
(:attr:`Comparison.seconds`). Plots: :mod:`baselines.compare_plots`.

Agents are built-in names or a user's ``path.py:Class`` / ``module:Class``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

from baselines.loading import resolve_agent
from baselines.runner import check_reusable, check_supported, log_path, run_agent
from darwin_bench import stats
from darwin_bench.budgets import check_budget
from darwin_bench.compare_stats import RunSummary, run_metric, summarize_run
from darwin_bench.evaluation import Evaluation
from darwin_bench.runlog import RunRecord
from darwin_bench.validation import check_positive_int
from envs.registration import get_entry

#: Seeds ``compare`` runs by default: tabular tracks make 10 cheap; a live env trains every
#: network, so 5 (the leaderboard's minimum for live tracks).
DEFAULT_SEEDS = {"tabular": 10, "live": 5}


def default_seeds(env_id: str) -> int:
    """10 seeds on a tabular track (an env answered from a table), 5 on a live env."""
    entry = get_entry(env_id)
    tabular = "table" in entry.kwargs or "-Tab-" in entry.id
    return DEFAULT_SEEDS["tabular" if tabular else "live"]


@dataclass
class AgentResult:
    """One agent's runs and their statistics over seeds.

    Attributes:
        agent: the agent's name (a user agent's class ``name``, else its class name).
        spec: the agent as given (``rea``, ``my_agent.py:MyAgent``).
        runs: per-seed summaries.
        final_reward: IQM and mean of the final best reward.
        test_metric: IQM and mean of the incumbent's test metric (runs without one left out).
        auc: IQM and mean of the normalized area under the best-so-far curve.
    """

    agent: str
    spec: str
    runs: list[RunSummary]
    final_reward: stats.Summary
    test_metric: stats.Summary
    auc: stats.Summary

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "agent": self.agent,
            "spec": self.spec,
            "final_best_reward": self.final_reward.to_dict(),
            "test_metric": self.test_metric.to_dict(),
            "auc": self.auc.to_dict(),
            "runs": [r.to_dict() for r in self.runs],
        }


@dataclass
class Improvement:
    """``P(x > y)`` of a pair of agents on the final reward and on the test metric."""

    x: str
    y: str
    final_reward: stats.Interval
    test_metric: stats.Interval

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "x": self.x,
            "y": self.y,
            "final_best_reward": self.final_reward.to_dict(),
            "test_metric": self.test_metric.to_dict(),
        }


@dataclass
class Comparison:
    """The result of :func:`compare`.

    Attributes:
        metric: the task's metric (the test metric is ``test_<metric>``).
        higher_is_better: its direction (probabilities of improvement and profiles of the test
            metric count a lower value as better when False).
        improvement: ``P(x > y)`` for every pair of agents ``x`` before ``y``
            (``P(y > x) = 1 - P(x > y)``).
        profiles: ``"final_best_reward"`` / ``"test_metric"`` -> agent -> profile band.
    """

    env_id: str
    budget: float
    seeds: int
    env_kwargs: dict[str, Any]
    cost: str
    results: list[AgentResult]
    budget_kind: str = "evaluations"
    metric: str = "accuracy"
    higher_is_better: bool = True
    improvement: list[Improvement] = field(default_factory=list)
    profiles: dict[str, dict[str, stats.ProfileBand]] = field(default_factory=dict)
    records: dict[str, list[RunRecord]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON form: settings and statistics only (no paths, no wall times)."""
        return {
            "env_id": self.env_id,
            "budget": self.budget,
            "budget_kind": self.budget_kind,
            "seeds": self.seeds,
            "env_kwargs": self.env_kwargs,
            "cost": self.cost,
            "metric": self.metric,
            "higher_is_better": self.higher_is_better,
            "statistics": {
                "confidence": stats.CONFIDENCE,
                "resamples": stats.RESAMPLES,
                "interval": "stratified bootstrap, percentile",
            },
            "agents": [r.to_dict() for r in self.results],
            "probability_of_improvement": [p.to_dict() for p in self.improvement],
            "performance_profiles": {
                quantity: {agent: band.to_dict() for agent, band in bands.items()}
                for quantity, bands in self.profiles.items()
            },
        }


def parse_agents(text: str | Sequence[str]) -> list[str]:
    """``"random,rea"`` -> ``["random", "rea"]``, checking every agent (built-in names,
    ``path.py:Class`` and ``module:Class``).

    Raises:
        ValueError: for an empty list, a duplicate (two specs of one agent name), or an agent
            that cannot be resolved.
    """
    specs = [a.strip() for a in text.split(",")] if isinstance(text, str) else list(text)
    specs = [a for a in specs if a]
    if not specs:
        raise ValueError("agents must name at least one agent, e.g. 'random,rea'")
    names = [resolve_agent(spec).name for spec in specs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"agents must be distinct; repeated: {', '.join(duplicates)}")
    return specs


def compare(
    agents: Sequence[str],
    env_id: str,
    *,
    seeds: int,
    budget: float,
    out_dir: str | Path,
    env_kwargs: dict[str, Any] | None = None,
    agent_configs: dict[str, dict[str, Any]] | None = None,
    on_evaluation: Callable[[Evaluation], None] | None = None,
    on_run: Callable[[str, int, RunRecord], None] | None = None,
) -> Comparison:
    """Run every agent on every seed ``0..seeds-1`` and summarize the runs.

    Args:
        agents: agent specs (built-in names, ``path.py:Class``, ``module:Class``).
        env_id: a registered env id.
        seeds: how many seeds (``0..seeds-1``).
        budget: what each run may spend, in units of the env kwarg ``budget_kind``
            (evaluations by default).
        out_dir: where the run logs go; complete logs already there are reused.
        env_kwargs: env kwargs for every run (e.g. ``{"epochs": 5}``).
        agent_configs: agent spec -> config dict.
        on_evaluation: called after every new evaluation (progress bars).
        on_run: called with (agent spec, seed, record) after each run, reused or not.

    Raises:
        ValueError: for bad input, an agent that does not work on the env (before anything
            runs), or a complete log in ``out_dir`` made with other settings.
    """
    agents = parse_agents(agents)
    seeds = check_positive_int("seeds", seeds)
    kind = str(dict(env_kwargs or {}).get("budget_kind", "evaluations"))
    budget = check_budget(kind, budget)
    agent_configs = dict(agent_configs or {})
    kwargs = {**dict(env_kwargs or {}), "budget": budget}
    _check_runs(agents, env_id, seeds, out_dir, kwargs, agent_configs)
    records: dict[str, list[RunRecord]] = {}
    seconds: dict[str, float] = {}
    for agent in agents:
        records[agent], seconds[agent] = [], 0.0
        for seed in range(seeds):
            result = run_agent(
                agent,
                env_id,
                budget=budget,
                seed=seed,
                out_dir=out_dir,
                env_kwargs=env_kwargs,
                agent_config=agent_configs.get(agent),
                on_evaluation=on_evaluation,
            )
            records[agent].append(result.record)
            seconds[agent] += float((result.record.footer or {}).get("seconds", 0.0))
            if on_run is not None:
                on_run(agent, seed, result.record)
    return summarize(env_id, budget, seeds, kwargs, records, seconds, kind)


def _check_runs(
    agents: list[str],
    env_id: str,
    seeds: int,
    out_dir: str | Path,
    kwargs: dict[str, Any],
    agent_configs: dict[str, dict[str, Any]],
) -> None:
    """Refuse a comparison before anything runs: configs of other agents, agents that do not
    work on the env, bad configs, complete logs in ``out_dir`` made with other settings.

    Raises:
        ValueError: naming the problem.
    """
    unknown = sorted(set(agent_configs) - set(agents))
    if unknown:
        raise ValueError(f"agent config given for {unknown}, which are not in agents {agents}")
    for agent in agents:
        check_supported(agent, env_id)
        spec = resolve_agent(agent)
        config = spec.make(agent_configs.get(agent)).config.to_dict()
        for seed in range(seeds):
            path = log_path(out_dir, agent, env_id, seed)
            check_reusable(path, kwargs, config, spec.source, complete_only=True)


def summarize(
    env_id: str,
    budget: float,
    seeds: int,
    env_kwargs: dict[str, Any],
    records: dict[str, list[RunRecord]],
    seconds: dict[str, float] | None = None,
    budget_kind: str = "evaluations",
) -> Comparison:
    """The statistics of finished runs (agent spec -> one record per seed)."""
    first = next(iter(records.values()))[0]
    cost = str(first.header.get("problem", {}).get("reward", {}).get("cost", "flops"))
    metric, higher = run_metric(first)
    summaries = {agent: [summarize_run(r) for r in runs] for agent, runs in records.items()}
    finals = {a: [r.final_best for r in runs] for a, runs in summaries.items()}
    tests = {a: [r.test_metric for r in runs] for a, runs in summaries.items()}
    results = [
        AgentResult(
            agent=resolve_agent(agent).name,
            spec=agent,
            runs=runs,
            final_reward=stats.summarize(finals[agent]),
            test_metric=stats.summarize(tests[agent]),
            auc=stats.summarize([r.auc for r in runs]),
        )
        for agent, runs in summaries.items()
    ]
    sign = 1.0 if higher else -1.0  # test metrics oriented so that higher is better
    oriented = {a: [sign * v for v in values if v is not None] for a, values in tests.items()}
    names = {agent: result.agent for agent, result in zip(records, results)}
    improvement = [
        Improvement(
            names[x],
            names[y],
            stats.improvement_interval(finals[x], finals[y]),
            _improvement(oriented[x], oriented[y]),
        )
        for x, y in combinations(records, 2)
    ]
    profiles = {
        "final_best_reward": _profiles(finals, names),
        "test_metric": _profiles(oriented, names),
    }
    return Comparison(
        env_id,
        budget,
        seeds,
        env_kwargs,
        cost,
        results,
        budget_kind,
        metric,
        higher,
        improvement,
        profiles,
        records,
        dict(seconds or {}),
    )


def _improvement(x: list[float], y: list[float]) -> stats.Interval:
    if not x or not y:
        return stats.Interval(None, None, None, len(x) + len(y))
    return stats.improvement_interval(x, y)


def _profiles(
    scores: dict[str, list[float]], names: dict[str, str]
) -> dict[str, stats.ProfileBand]:
    """Every agent's performance profile on one shared grid of thresholds."""
    present = {agent: values for agent, values in scores.items() if values}
    if not present:
        return {}
    taus = stats.tau_grid(*present.values())
    return {names[agent]: stats.profile_band(values, taus) for agent, values in present.items()}
