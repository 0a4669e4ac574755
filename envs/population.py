"""`PopulationEnv`: a vector env that evaluates a whole population of proposals in one call."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from envs.core import CoreHelpers, SearchCore, observation_box


class PopulationEnv(VectorEnv, CoreHelpers):
    """``num_envs`` proposal slots sharing one run and one budget.

    Made with ``gym.make_vec(id, num_envs=N, vectorization_mode="vector_entry_point")``. A step
    takes ``N`` genomes and hands them to the evaluator as one population (one batched call;
    duplicates and cached networks are not trained again). Each evaluation spends one unit of
    the shared budget; when fewer than ``N`` units are left, only the first ones are evaluated
    and ``info["evaluated"]`` marks them (the others get reward 0). When the budget is spent,
    every slot is truncated; the next step starts a new run (``NEXT_STEP`` autoreset).

    ``info`` holds the per-slot keys of :meth:`SearchCore.info` as lists, plus ``evaluated``.
    """

    metadata: dict[str, Any] = {"render_modes": [], "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(self, num_envs: int = 8, **kwargs: Any) -> None:
        self.core = SearchCore(**kwargs)
        self.num_envs = int(num_envs)
        self.single_action_space = self.core.space.action_space
        self.single_observation_space = observation_box()
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self._best: float | None = None
        self._needs_reset = True
        self._run_rng: np.random.Generator | None = None

    def _start(self, seed: int | None) -> tuple[np.ndarray, dict[str, Any]]:
        if seed is not None or self._run_rng is None:
            self._run_rng = np.random.default_rng(seed)
        self.core.start_run(int(self._run_rng.integers(2**31 - 1)))
        self._best = None
        self._needs_reset = False
        obs = np.zeros((self.num_envs, 4), dtype=np.float32)
        return obs, {"budget": self.core.budget, "run_seed": self.core.run_seed}

    def reset(
        self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        if isinstance(seed, list):
            seed = seed[0]
        return self._start(seed)

    def step(
        self, actions: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        n = self.num_envs
        if self._run_rng is None:
            raise RuntimeError("call reset() before step()")
        if self._needs_reset:
            obs, info = self._start(None)
            info["evaluated"] = np.zeros(n, dtype=bool)
            return obs, np.zeros(n), np.zeros(n, dtype=bool), np.zeros(n, dtype=bool), info
        actions = np.asarray(actions)
        if actions.shape[0] != n:
            raise ValueError(f"actions must have {n} rows (num_envs); got shape {actions.shape}")
        k = min(n, self.core.budget_left)
        evaluations = self.core.evaluate(list(actions[:k]))
        rewards = np.zeros(n, dtype=np.float64)
        obs = np.zeros((n, 4), dtype=np.float32)
        for i, evaluation in enumerate(evaluations):
            rewards[i] = float(evaluation.reward if evaluation.reward is not None else 0.0)
        if evaluations:
            top = float(rewards[:k].max())
            self._best = top if self._best is None else max(self._best, top)
        for i, evaluation in enumerate(evaluations):
            obs[i] = self.core.observation(evaluation, self._best or 0.0)
        truncated = np.full(n, self.core.budget_left == 0)
        self._needs_reset = bool(truncated[0])
        infos = [self.core.info(e) for e in evaluations]
        batch_info: dict[str, Any] = {"evaluated": np.arange(n) < k}
        for key in infos[0] if infos else []:
            batch_info[key] = [inf[key] for inf in infos] + [None] * (n - k)
        return obs, rewards, np.zeros(n, dtype=bool), truncated, batch_info

    def close_extras(self, **kwargs: Any) -> None:
        """Release the core's worker processes and cache connection."""
        self.core.close()
