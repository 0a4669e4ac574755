"""`SearchCore`: what every darwin_bench env shares (task, space, reward, budget, evaluator)."""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces

from darwin_bench.architecture import Architecture
from darwin_bench.budgets import BudgetMeter, BudgetState, architecture_train_flops, check_budget
from darwin_bench.costs import CostConfig, LatencyConfig, cost_kind, cost_kinds, parse_cost
from darwin_bench.evaluation import EvalRequest, Evaluation, Evaluator, SQLiteCache
from darwin_bench.evaluation.executors import make_executor
from darwin_bench.evaluation.workers import LOST_RETRIES
from darwin_bench.models.size import MAX_ACTIVATION_MB, MAX_PARAMS, guard_space
from darwin_bench.rewards import NEEDS_SCORE_RANGE, REWARDS, Reward, check_score_range
from darwin_bench.seeding import derive_seed
from darwin_bench.spaces import SearchSpace, make_space
from darwin_bench.tasks import Task
from darwin_bench.tasks.control import ControlTask
from darwin_bench.validation import (
    check_choice,
    check_kwargs,
    check_positive_float,
    check_positive_int,
)
from envs.targets import reference_target
from envs.tasks import make_task

Listener = Callable[[Evaluation], None]

#: Bound of the proposal observation's entries (rewards are clipped to it in observations).
OBS_BOUND = 1e3


def observation_box() -> spaces.Box:
    """The proposal observation space: last reward, last score, best reward, budget used."""
    return spaces.Box(-OBS_BOUND, OBS_BOUND, shape=(4,), dtype=np.float32)


def check_inputs(space: str, task: Task) -> None:
    """Refuse a built-in space whose networks cannot read the task's inputs.

    The ``rnn`` space embeds token ids; ``mlp``, ``cnn`` and ``fcn`` read real-valued inputs.

    Raises:
        ValueError: naming the space and the task, e.g. ``space 'rnn'`` on image classification.
    """
    tokens = not task.example_input(1).is_floating_point()
    if space == "rnn" and not tokens:
        raise ValueError(
            f"space 'rnn' reads token ids; task {task.name!r} has real-valued inputs "
            "(use space 'mlp' or 'cnn')"
        )
    if tokens and space in ("mlp", "cnn", "fcn"):
        raise ValueError(
            f"space {space!r} reads real-valued inputs; task {task.name!r} has token ids "
            "(use space 'rnn')"
        )


def _cost_config(
    names: list[str], measure_latency: bool, latency_repeats: int | None
) -> CostConfig:
    """What the evaluator measures for the costs ``names``.

    Raises:
        ValueError: when a deployed latency is a cost but ``measure_latency`` is off, or for
            non-positive ``latency_repeats``.
    """
    deployed = [n for n in names if n in ("latency_ms", "latency_ms_b64")]
    if deployed and not measure_latency:
        raise ValueError(f"measure_latency must be True when cost is {deployed[0]!r}")
    timing = {}
    if latency_repeats is not None:
        timing["repeats"] = check_positive_int("latency_repeats", latency_repeats)
    return CostConfig(
        latency=bool(measure_latency),
        latency_eager=any(n.startswith("latency_ms") and n.endswith("_eager") for n in names),
        latency_batch64=any(n.startswith("latency_ms_b64") for n in names),
        latency_config=LatencyConfig(**timing),
    )


class SearchCore:
    """Builds and holds one search problem from env kwargs.

    Args:
        task: a task name from :data:`envs.tasks.TASKS`, or a :class:`Task` instance.
        space: a space name from :data:`darwin_bench.spaces.SPACES`.
        task_kwargs: keyword arguments of the task factory.
        space_kwargs: keyword arguments of the space (e.g. ``max_layers``).
        reward: a reward name (see :mod:`darwin_bench.rewards`).
        cost: the cost the reward trades against: a name of :data:`darwin_bench.costs.COSTS`
            or a modeled ``"<cost>@<device>"``, e.g. ``"latency_ms@raspberry-pi-4"``.
        target: the cost target; default: the task's default target for that cost, else the
            median cost of the space's networks (:mod:`envs.targets`).
        costs: further costs reported as objectives (and rewarded by ``reward="multi"``).
        targets: targets of ``costs`` by name (same defaults as ``target``).
        reward_kwargs: reward parameters, e.g. ``{"weight": 0.2}``.
        score_range: ``(worst, best)`` of the task's score (higher is better, in the task's
            units), which maps scores into ``[0, 1]`` for the reward; default: the task's own
            (``Task.score_range``). Required by the rewards of
            :data:`darwin_bench.rewards.NEEDS_SCORE_RANGE` on a task that declares none.
        budget: what a run may spend, in units of ``budget_kind`` (evaluations by default:
            one proposal = one evaluation, cached or not).
        budget_kind: ``"evaluations"``, ``"train_flops"`` (exact training FLOPs) or
            ``"seconds"`` (training seconds; measured here, so such runs are not reproducible);
            see :mod:`darwin_bench.budgets` for the accounting rule.
        epochs: training epochs per evaluation (shorthand for ``fidelity={"epochs": ...}``).
        fidelity: any fidelity of the task, e.g. ``{"epochs": 5}``.
        measure_latency: measure ``latency_ms`` (ONNX Runtime) of every network (needed for
            ``cost="latency_ms"``; turn off for faster, fully deterministic costs). The eager
            PyTorch latency ``latency_ms_eager`` is measured when it is named in ``cost`` or
            ``costs``, whatever this says.
        latency_repeats: timed rounds per latency measurement (default: the protocol's 30,
            :class:`darwin_bench.costs.LatencyConfig`).
        cache_path: a SQLite file that keeps evaluations across runs and processes.
        workers: evaluate populations in this many local processes (1 = in-process).
        executor: where populations are evaluated: ``"local"`` (this machine: in-process, or
            ``workers`` processes), ``"ray"`` or ``"ray:ADDRESS"`` (a Ray cluster; with
            ``workers`` > 1 a batched population is split that many ways, else one part per
            cluster CPU). Results do not depend on it.
        batched: train the networks the task can batch (``mlp``-space networks on a
            classification task) with the batched trainer, a population at a time
            (:mod:`darwin_bench.batched`); a network's result is then the same in the proposal
            and the population env. ``False``: the per-model trainer, one network at a time.
        max_params: the size guard: genomes whose network has more parameters are invalid
            (a ``ValueError`` on step, never sampled, masked in builder envs), computed from
            the architecture before anything is built (:mod:`darwin_bench.models.size`);
            ``None``: no limit.
        max_activation_mb: the same for activation memory per example (float32, MB).
        time_limit: seconds one evaluation job (a network, or a batched population) may take;
            past it, its worker process is killed and its evaluations fail
            (``TimeLimitExceeded``). Setting it runs evaluations in worker processes even with
            ``workers=1`` (:mod:`darwin_bench.evaluation.workers`); local executor only.
        worker_retries: how many times a job whose worker process died runs again before its
            evaluations fail (``WorkerLost``).
    """

    def __init__(
        self,
        *,
        task: str | Task = "digits",
        space: str = "mlp",
        task_kwargs: Mapping[str, Any] | None = None,
        space_kwargs: Mapping[str, Any] | None = None,
        reward: str = "mnasnet",
        cost: str = "flops",
        target: float | None = None,
        reward_kwargs: Mapping[str, float] | None = None,
        costs: Sequence[str] | None = None,
        targets: Mapping[str, float] | None = None,
        score_range: Sequence[float] | None = None,
        budget: float = 100,
        budget_kind: str = "evaluations",
        epochs: int | None = None,
        fidelity: Mapping[str, int] | None = None,
        measure_latency: bool = True,
        latency_repeats: int | None = None,
        cache_path: str | Path | None = None,
        workers: int = 1,
        executor: str = "local",
        batched: bool = True,
        max_params: int | None = MAX_PARAMS,
        max_activation_mb: float | None = MAX_ACTIVATION_MB,
        time_limit: float | None = None,
        worker_retries: int = LOST_RETRIES,
        **unknown: Any,
    ) -> None:
        if unknown:
            raise ValueError(
                f"unknown env kwarg(s) {sorted(unknown)}; allowed: {', '.join(self.kwarg_names())}"
            )
        check_kwargs(
            "env kwargs",
            SearchCore,
            {k: v for k, v in locals().items() if k not in ("self", "unknown")},
        )
        check_choice("reward", reward, REWARDS)
        names = [cost, *(costs or [])]
        for name in names:
            parse_cost(name)
        check_budget(budget_kind, budget)
        workers = check_positive_int("workers", workers)
        self.task: Task = make_task(task, task_kwargs)
        self.space: SearchSpace = make_space(
            space, self.task.input_shape, self.task.num_outputs, **dict(space_kwargs or {})
        )
        check_inputs(space, self.task)
        self.size_limits = guard_space(self.space, max_params, max_activation_mb)
        fidelity = dict(fidelity or {})
        if epochs is not None:
            fidelity["epochs"] = check_positive_int("epochs", epochs)
        self.fidelity = self.task.check_fidelity(fidelity)
        self.reward = self._make_reward(
            reward, names, target, targets, dict(reward_kwargs or {}), score_range
        )
        self._range_warned = False
        self.evaluator = Evaluator(
            self.task,
            cost_config=_cost_config(names, measure_latency, latency_repeats),
            cache=SQLiteCache(cache_path) if cache_path is not None else None,
            executor=make_executor(str(executor), workers, time_limit, worker_retries),
            batched=bool(batched),
        )
        self.listeners: list[Listener] = []
        self.recorders: list[Listener] = []
        self.meter = BudgetMeter(
            budget_kind, budget, reproducible=budget_kind != "seconds" or self.simulated_seconds
        )
        if budget_kind == "train_flops" and self.task.training_samples(self.fidelity) is None:
            raise ValueError(
                f"budget_kind 'train_flops' needs a task that reports the samples it trains on; "
                f"task {self.task.name!r} does not: use budget_kind 'evaluations' or 'seconds'"
            )
        self._used_after: list[float] = []  # the run's spend after each evaluation
        self._train_flops: dict[str, int] = {}
        self._kinds: dict[tuple[str, ...], dict[str, str]] = {}
        self.run_seed = 0
        #: How the env that owns this core starts a new run (said when the budget is spent).
        self.renew_hint = "reset() starts a new run"

    def _make_reward(
        self,
        reward: str,
        names: list[str],
        target: float | None,
        targets: Mapping[str, float] | None,
        reward_kwargs: dict[str, float],
        score_range: Sequence[float] | None,
    ) -> Reward:
        """The reward of the main cost ``names[0]`` and the further costs ``names[1:]``, with
        the task's default targets where none is given.

        Raises:
            ValueError: for a target of a cost not in ``costs``, a non-positive target, or a
                missing target or score range the reward needs.
        """
        cost, more = names[0], names[1:]
        if target is None:
            target = self._default_target(cost)
        targets = dict(targets or {})
        stray = sorted(set(targets) - set(more))
        if stray:
            raise ValueError(f"targets {stray} are not in costs; allowed: {more}")
        extra = [(n, targets[n] if n in targets else self._default_target(n)) for n in more]
        return Reward(
            reward,
            cost,
            check_positive_float("target", target),
            reward_kwargs,
            tuple(extra),
            self._score_range(reward, score_range),
        )

    def _default_target(self, cost: str) -> float:
        if cost in self.task.default_targets:
            return float(self.task.default_targets[cost])
        if cost_kind(cost) == "measured":
            raise ValueError(f"target is required for cost {cost!r} on task {self.task.name!r}")
        return reference_target(cost, self.task, self.space)

    def _score_range(
        self, reward: str, given: Sequence[float] | None
    ) -> tuple[float, float] | None:
        if given is not None:
            return check_score_range(given)
        declared = self.task.score_range
        if declared is None and reward in NEEDS_SCORE_RANGE:
            hint = (
                "; for this control task, task_kwargs={'return_range': [worst, best]} (episode "
                "returns) also works"
                if isinstance(self.task, ControlTask)
                else ""
            )
            raise ValueError(
                f"reward {reward!r} needs the range of the score it maps into [0, 1], and task "
                f"{self.task.name!r} declares none (its score can have any sign, so {reward!r} "
                "could prefer a dearer network). Pass score_range=[worst, best] in the units of "
                f"the task's score{hint}; or use reward='accuracy' or reward='linear', which "
                "need no range"
            )
        return declared

    @classmethod
    def kwarg_names(cls) -> list[str]:
        """The env kwargs this core (and its subclasses' constructors) accept."""
        names: list[str] = []
        for klass in cls.__mro__:
            init = klass.__dict__.get("__init__")
            if init is None:
                continue
            for param in inspect.signature(init).parameters.values():
                if param.kind is inspect.Parameter.KEYWORD_ONLY and param.name not in names:
                    names.append(param.name)
        return names

    # ------------------------------------------------------------------ runs
    def start_run(self, run_seed: int) -> None:
        """Begin a new run: reset the budget and fix the seed every candidate seed derives from."""
        self.run_seed = int(run_seed)
        self.meter.reset()
        self._used_after = []

    def close(self) -> None:
        """Shut down worker processes and close the SQLite cache, if any."""
        close_executor = getattr(self.evaluator.executor, "close", None)
        if close_executor is not None:
            close_executor()
        close_cache = getattr(self.evaluator.cache, "close", None)
        if close_cache is not None:
            close_cache()

    # ---------------------------------------------------------------- budget
    #: True when ``seconds`` are simulated (tables), so runs under that kind are reproducible.
    simulated_seconds: ClassVar[bool] = False

    @property
    def budget(self) -> float:
        """What a run may spend, in units of :attr:`budget_kind`."""
        return self.meter.total

    @property
    def budget_kind(self) -> str:
        """``"evaluations"``, ``"train_flops"`` or ``"seconds"``."""
        return self.meter.kind

    @property
    def budget_used(self) -> float:
        """What this run has spent (the last evaluation may take it past :attr:`budget`)."""
        return self.meter.used

    @property
    def budget_left(self) -> float:
        """Budget left in this run (0 once spent)."""
        return self.meter.left

    @property
    def budget_exhausted(self) -> bool:
        """True once the run has spent its budget: no evaluation can start, and the envs
        evaluate nothing until a new run starts (see docs/envs.md, "After the budget")."""
        return self.meter.exhausted

    def budget_state(self) -> BudgetState:
        """A snapshot of the run's budget (kind, total, used, left, reproducible)."""
        return self.meter.state()

    def train_flops_per_sample(self, architecture: Architecture) -> int:
        """Forward + backward FLOPs of one training sample of ``architecture`` (memoized)."""
        key = architecture.hash
        if key not in self._train_flops:
            self._train_flops[key] = architecture_train_flops(self.task, architecture)
        return self._train_flops[key]

    def price_of(self, request: EvalRequest) -> float | None:
        """What evaluating ``request`` will charge, when known before it runs (``None`` for
        measured seconds)."""
        if self.budget_kind == "evaluations":
            return 1
        if self.budget_kind == "train_flops":
            samples = self.task.training_samples(self.task.check_fidelity(request.fidelity))
            return float(self.train_flops_per_sample(request.architecture) * (samples or 0))
        return None

    def charge_of(self, request: EvalRequest, evaluation: Evaluation) -> float:
        """What a finished evaluation is charged: its price, or its measured training seconds
        (the wall time until it failed, for a failed one)."""
        price = self.price_of(request)
        if price is not None:
            return price
        return float(evaluation.train_seconds if evaluation.ok else evaluation.wall_seconds)

    def price(self, genome: Any, fidelity: Mapping[str, int] | None = None) -> float | None:
        """What proposing ``genome`` at ``fidelity`` (default: the run's) would charge the
        budget, without evaluating it; ``None`` when only measuring can tell.

        Raises:
            ValueError: for an invalid genome or fidelity.
        """
        run_fidelity = self.task.check_fidelity({**self.fidelity, **dict(fidelity or {})})
        return self.price_of(self.request_for(self.validate(genome), run_fidelity))

    def budget_info(self) -> dict[str, Any]:
        """The budget state every reset and step ``info`` carries."""
        return {
            "budget": self.budget,
            "budget_kind": self.budget_kind,
            "budget_used": self.budget_used,
            "budget_exhausted": self.budget_exhausted,
        }

    def validate(self, genome: Any) -> np.ndarray:
        """A checked genome of the space (:meth:`SearchSpace.validate`; a hook for cores that
        see the same genomes again and again)."""
        return self.space.validate(genome)

    def candidate_seed(self, architecture_hash: str) -> int:
        """The training seed of an architecture in this run (independent of order and worker)."""
        return derive_seed(self.run_seed, architecture_hash)

    def add_recorder(self, recorder: Listener) -> None:
        """Framework only (run logs, reports): call ``recorder(evaluation)`` with every full
        record, test metrics included. Agents use :meth:`CoreHelpers.add_listener`, which gets
        :meth:`Evaluation.public` copies.
        """
        self.recorders.append(recorder)

    def evaluate(
        self,
        genomes: Sequence[Any],
        fidelity: Mapping[str, int] | None = None,
        *,
        partial: bool = False,
    ) -> list[Evaluation]:
        """Decode, evaluate, reward and charge genomes as one population.

        Returns the full records (test metrics included): env code turns them into agent-safe
        infos with :meth:`info`.

        Args:
            genomes: the genomes to evaluate.
            fidelity: overrides of the run's fidelity for these evaluations (e.g.
                ``{"epochs": 2}``); each evaluation is charged what its fidelity costs in the
                budget kind (one unit under ``evaluations``, whatever the fidelity).
            partial: evaluate only the genomes that start before the budget is spent
                (population envs) instead of refusing the population.

        Raises:
            ValueError: for an invalid genome or fidelity (nothing is evaluated or spent).
            RuntimeError: when the budget is spent, or (unless ``partial``) when it runs out
                before the last genome.
        """
        validated = [self.validate(g) for g in genomes]
        run_fidelity = self.task.check_fidelity({**self.fidelity, **dict(fidelity or {})})
        requests = [self.request_for(genome, run_fidelity) for genome in validated]
        prices = [self.price_of(r) for r in requests]
        k = self.meter.affordable(prices)
        if k == 0 or (k < len(requests) and not partial):
            raise RuntimeError(
                f"budget exhausted: {self.budget_used:g} of {self.budget:g} "
                f"{self.budget_kind} spent; {len(requests) - k} of {len(requests)} evaluations "
                f"cannot start; {self.renew_hint}"
            )
        evaluations = self.evaluator.evaluate(requests[:k])
        for genome, request, evaluation in zip(validated, requests, evaluations):
            self._reward(evaluation)
            evaluation.step = len(self._used_after)
            evaluation.spent = self.charge_of(request, evaluation)
            self.meter.charge(evaluation.spent)
            self._used_after.append(self.meter.used)
            self.on_evaluated(genome, request, evaluation)
            for recorder in self.recorders:
                recorder(evaluation)
            for listener in self.listeners:
                listener(evaluation.public())
        return evaluations

    def request_for(self, genome: np.ndarray, fidelity: Mapping[str, int]) -> EvalRequest:
        """The evaluation request of a validated genome; all requests of a population are
        built before any of them is trained (subclasses add e.g. inherited weights)."""
        architecture = self.space.decode(genome)
        seed = self.candidate_seed(architecture.hash)
        return EvalRequest(architecture, seed, fidelity, genome.tolist())

    def on_evaluated(
        self, genome: np.ndarray, request: EvalRequest, evaluation: Evaluation
    ) -> None:
        """Called for every finished, rewarded evaluation before the listeners (a hook)."""

    def _reward(self, evaluation: Evaluation) -> None:
        score_range = self.reward.score_range
        if evaluation.ok:
            score = self.task.score(evaluation.metrics)
            self._check_in_range(score)
        elif score_range is not None:
            score = score_range[0]  # a failure scores the bottom of the range: the worst reward
        else:
            score = self.task.worst_score
        costs = evaluation.costs
        if not evaluation.ok:  # a cost it could not measure (latency) counts at its target
            costs = {**self.reward.targets(), **costs}
        evaluation.reward = self.reward(score, costs)
        evaluation.objectives = self.reward.objectives(score, costs)

    def _check_in_range(self, score: float) -> None:
        score_range = self.reward.score_range
        if score_range is None or self._range_warned:
            return
        if not score_range[0] <= score <= score_range[1]:
            self._range_warned = True
            warnings.warn(
                f"task {self.task.name!r} scored {score!r}, outside its score_range "
                f"{list(score_range)}: rewards count a score below the range as its worst; "
                "pass the right score_range",
                RuntimeWarning,
                stacklevel=3,
            )

    def info(self, evaluation: Evaluation) -> dict[str, Any]:
        """The ``info`` dict of a step that evaluated a network, as agents see it: validation
        metrics only, and ``evaluation`` is an :meth:`Evaluation.public` copy."""
        public = evaluation.public()  # copies: nothing an agent holds is the logged record
        return {
            "metrics": public.metrics,
            "costs": public.costs,
            "cost_kinds": self._cost_kinds(evaluation.costs),
            "architecture": public.architecture,
            "evaluation_id": evaluation.evaluation_id,
            "budget_used": self._used_after[evaluation.step]
            if evaluation.step is not None and evaluation.step < len(self._used_after)
            else self.budget_used,
            "budget": self.budget,
            "budget_exhausted": self.budget_exhausted,
            "budget_kind": self.budget_kind,
            "spent": evaluation.spent,
            "status": evaluation.status,
            "reason": evaluation.reason,
            "objectives": dict(evaluation.objectives),
            "seed": evaluation.seed,
            "fidelity": dict(evaluation.fidelity),
            "evaluation": public,
        }

    def _cost_kinds(self, costs: Mapping[str, float]) -> dict[str, str]:
        """:func:`cost_kinds` of a set of cost names, memoized (every step asks)."""
        names = tuple(costs)
        if names not in self._kinds:
            self._kinds[names] = cost_kinds(names)
        return dict(self._kinds[names])

    def describe(self) -> dict[str, Any]:
        """Settings for run logs and ``darwin-bench list``."""
        return {
            "task": self.task.spec(),
            "space": self.space.describe(),
            "reward": self.reward.to_dict(),
            "budget": self.budget,
            "budget_kind": self.budget_kind,
            "budget_reproducible": self.meter.reproducible,
            "fidelity": self.fidelity,
            "costs": self.evaluator.cost_config.to_dict(),
            "batched": self.evaluator.batched,
            "size_limits": self.size_limits.to_dict(),
        }

    def observation(self, evaluation: Evaluation | None, best: float) -> np.ndarray:
        """The proposal env's observation: last reward, last score, best reward, budget used."""
        if evaluation is None:
            return np.array([0.0, 0.0, 0.0, 0.0], dtype=np.float32)
        values = [
            evaluation.reward or 0.0,
            evaluation.objectives.get("score", 0.0),
            best,
            self.budget_state().fraction_used,
        ]
        return np.clip(np.array(values, dtype=np.float32), -OBS_BOUND, OBS_BOUND)


class CoreHelpers:
    """The public helpers every darwin_bench env offers agents, read from its ``core``."""

    core: SearchCore

    @property
    def search_space(self) -> SearchSpace:
        """The search space whose genomes the env evaluates."""
        return self.core.space

    @property
    def budget(self) -> float:
        """What a run may spend, in units of :attr:`budget_kind`."""
        return self.core.budget

    @property
    def budget_kind(self) -> str:
        """``"evaluations"`` (default), ``"train_flops"`` or ``"seconds"``."""
        return self.core.budget_kind

    @property
    def budget_left(self) -> float:
        """Budget left in the current run, in units of :attr:`budget_kind` (0 once spent)."""
        return self.core.budget_left

    def budget_state(self) -> BudgetState:
        """The current run's budget: kind, total, used, left, reproducible."""
        return self.core.budget_state()

    def price(self, genome: Any, fidelity: Mapping[str, int] | None = None) -> float | None:
        """What proposing ``genome`` (at ``fidelity``, default the env's) would charge the
        budget, without spending anything; ``None`` when it is only known once measured."""
        return self.core.price(genome, fidelity)

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(evaluation)`` after every evaluation, with an
        :meth:`~darwin_bench.evaluation.Evaluation.public` copy (no test metrics)."""
        self.core.listeners.append(listener)

    def close(self, **kwargs: Any) -> None:
        """Release the core's worker processes and cache connection."""
        self.core.close()
