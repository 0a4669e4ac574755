"""`ProposalEnv`: one network per step; the action is a whole genome."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np

from darwin_bench.evaluation import Evaluation
from envs.core import CoreHelpers, SearchCore, observation_box


class ProposalEnv(CoreHelpers, gym.Env[np.ndarray, np.ndarray]):
    """Propose a network (a genome of the search space); get it trained, costed and rewarded.

    An episode is one search run: ``reset(seed=...)`` starts a run with that seed and a fresh
    budget (``reset()`` too, with the next seed of the env's generator); every step evaluates
    one network; the episode is truncated on the step that spends the budget (in evaluations,
    training FLOPs or seconds: ``budget_kind``; that last evaluation may overshoot it).
    A step taken after that, without a reset, evaluates nothing: reward 0, ``truncated=True``,
    ``info["budget_exhausted"]`` True (every reset and step ``info`` carries that flag).
    Keyword arguments are those of :class:`envs.core.SearchCore`.

    Observation: ``[last reward, last score, best reward so far, fraction of budget used]``.

    Public helpers for agents: :attr:`search_space` (sample, mutate, crossover, decode),
    :attr:`budget`, :attr:`budget_kind`, :attr:`budget_left`, :meth:`budget_state`,
    :meth:`price`, :meth:`add_listener`, :attr:`fidelity` and
    :meth:`set_fidelity` (multi-fidelity agents such as successive halving).
    """

    metadata: dict[str, Any] = {"render_modes": []}

    #: The core class (tabular envs swap in one that answers from a table).
    core_class: type[SearchCore] = SearchCore

    def __init__(self, **kwargs: Any) -> None:
        self.core = self.core_class(**kwargs)
        self.action_space = self.core.space.action_space
        self.observation_space = observation_box()
        self._best = 0.0
        self._started = False
        self._fidelity: dict[str, int] = {}
        self._last_obs = self.core.observation(None, 0.0)

    @property
    def fidelity(self) -> dict[str, int]:
        """The fidelity the next steps train at (the env's own unless :meth:`set_fidelity`)."""
        return {**self.core.fidelity, **self._fidelity}

    def set_fidelity(self, fidelity: Mapping[str, int] | None) -> dict[str, int]:
        """Train the next steps' networks at ``fidelity``, e.g. ``{"epochs": 2}``.

        ``None`` restores the env's own fidelity, and so does ``reset()``. Every step still
        spends one budget unit, whatever its fidelity. Returns the new :attr:`fidelity`.

        Raises:
            ValueError: for a fidelity name the task does not know or a non-positive value.
        """
        override = dict(fidelity or {})
        self.core.task.check_fidelity(override)
        self._fidelity = override
        return self.fidelity

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self.core.start_run(int(self.np_random.integers(2**31 - 1)))
        self._best = 0.0
        self._started = True
        self._fidelity = {}
        self._last_obs = self.core.observation(None, 0.0)
        return self._last_obs, {**self.core.budget_info(), "run_seed": self.core.run_seed}

    def step(
        self, action: np.ndarray
    ) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        if not self._started:
            raise RuntimeError("call reset() before step()")
        if self.core.budget_exhausted:  # nothing more is evaluated in this run
            self.core.space.validate(action)  # bad input is still named
            return self._last_obs, 0.0, False, True, self.core.budget_info()
        evaluation: Evaluation = self.core.evaluate([action], self._fidelity)[0]
        reward = float(evaluation.reward if evaluation.reward is not None else 0.0)
        self._best = reward if evaluation.step == 0 else max(self._best, reward)
        self._last_obs = self.core.observation(evaluation, self._best)
        truncated = self.core.budget_exhausted
        return self._last_obs, reward, False, truncated, self.core.info(evaluation)
