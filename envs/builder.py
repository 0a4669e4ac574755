"""`BuilderEnv`: build a network one gene per step (Zoph & Le / MetaQNN style)."""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from envs.core import CoreHelpers, SearchCore


class BuilderEnv(CoreHelpers, gym.Env[np.ndarray, np.int64]):
    """Choose the genes of a genome one at a time; the finished network is evaluated.

    Derived generically from any discrete search space. An episode builds one network: each
    step chooses the next gene (``Discrete(max choices)``); the reward is 0 until the last gene,
    whose step trains and costs the network and returns its reward (``terminated=True``).

    Invalid choices (beyond a gene's size, infeasible given earlier genes, or any choice but 0
    for a gene that does not matter) are masked by :meth:`action_masks` (the sb3-contrib
    ``MaskablePPO`` convention). An unmasked agent that picks a masked choice has it replaced
    by the ``action % n``-th valid choice, deterministically, and ``info["repaired"]`` is True.

    The budget (in its ``budget_kind``) runs over the env's life; ``reset(seed=...)`` with a
    seed starts a new run (fresh budget, that seed); ``reset()`` without one continues the run.

    After the budget: once the budget is spent, the env evaluates nothing more. An episode
    begun then ends at its first step, ``truncated=True`` with reward 0, the observation unchanged
    and ``info["budget_exhausted"]`` True (every reset and step ``info`` carries that flag). So
    a plain SB3 ``learn()`` or ``evaluate_policy`` runs to its end on any ``total_timesteps`` or
    episode count, evaluations stop exactly at the budget, and
    :class:`darwin_bench.sb3.StopTrainingOnBudget` ends ``learn()`` when the budget is spent.

    Observation: one entry per gene, ``0`` while unset and ``choice + 1`` once chosen.
    """

    metadata: dict[str, Any] = {"render_modes": []}

    #: The core class (tabular envs swap in one that answers from a table).
    core_class: type[SearchCore] = SearchCore

    def __init__(self, **kwargs: Any) -> None:
        self.core = self.core_class(**kwargs)
        nvec = self.core.space.nvec
        self.action_space = spaces.Discrete(int(nvec.max()))
        self.observation_space = spaces.MultiDiscrete(nvec + 1)
        self._prefix: list[int] = []
        self._run_started = False
        self.core.renew_hint = (
            "reset(seed=...) starts a new run on a builder env (reset() without a seed continues "
            "this one)"
        )

    def action_masks(self) -> np.ndarray:
        """Boolean mask of the valid choices for the next gene."""
        return self.core.space.choice_mask(self._prefix)

    def _obs(self) -> np.ndarray:
        obs = np.zeros(len(self.core.space.genes), dtype=np.int64)
        obs[: len(self._prefix)] = np.asarray(self._prefix, dtype=np.int64) + 1
        return obs

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        if seed is not None or not self._run_started:
            self.core.start_run(int(self.np_random.integers(2**31 - 1)))
            self._run_started = True
        self._prefix = []
        return self._obs(), self.core.budget_info()

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        if not self._run_started:
            raise RuntimeError("call reset() before step()")
        if len(self._prefix) >= len(self.core.space.genes):
            raise RuntimeError("the network is complete; call reset() to build another")
        choice = int(action)
        n = int(self.core.space.nvec.max())
        if not 0 <= choice < n:
            raise ValueError(f"action must be in 0..{n - 1}; got {choice}")
        if self.core.budget_exhausted:  # nothing more is evaluated in this run
            return self._obs(), 0.0, False, True, self.core.budget_info()
        mask = self.action_masks()
        repaired = not mask[choice]
        if repaired:
            valid = np.flatnonzero(mask)
            choice = int(valid[choice % len(valid)])
        self._prefix.append(choice)
        if len(self._prefix) < len(self.core.space.genes):
            return self._obs(), 0.0, False, False, {**self.core.budget_info(), "repaired": repaired}
        evaluation = self.core.evaluate([np.asarray(self._prefix)])[0]
        info = {**self.core.info(evaluation), "repaired": repaired}
        reward = float(evaluation.reward if evaluation.reward is not None else 0.0)
        return self._obs(), reward, True, False, info
