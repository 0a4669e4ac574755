"""`PopulationEnv`: a vector env that evaluates a whole population of proposals in one call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from envs.core import CoreHelpers, SearchCore, observation_box

Seed = int | Sequence[int | None] | None


class PopulationEnv(VectorEnv, CoreHelpers):
    """``num_envs`` proposal slots sharing one run and one budget.

    Made with ``gym.make_vec(id, num_envs=N, vectorization_mode="vector_entry_point")``. A step
    takes ``N`` genomes and hands them to the evaluator as one population (one batched call;
    duplicates and cached networks are not trained again). Each evaluation is charged to the
    shared budget (in its ``budget_kind``); when the budget runs out within the population,
    only the genomes that start before it is spent are evaluated (the last may overshoot, as in
    :mod:`darwin_bench.budgets`) and ``info["evaluated"]`` marks them (the others get reward
    0). The step that spends the budget truncates every slot; the next step starts a new run
    (``NEXT_STEP`` autoreset) and evaluates nothing.

    ``info`` follows Gymnasium's vector convention (``VectorEnv._add_info``): every key maps to
    an array with one entry per slot, beside a boolean mask ``_key`` saying which slots have it;
    nested dicts (``metrics``, ``costs``, ...) are dicts of such arrays. Every slot has the
    budget keys of :meth:`SearchCore.budget_info` and ``evaluated``; evaluated slots also have
    the keys of :meth:`SearchCore.info`; reset infos add ``run_seed``.

    Seeds: the slots share one run, so a reset takes one run seed. ``reset(seed=s)`` seeds the
    run with ``s``; ``reset(seed=[s0, ..., s(N-1)])`` (one seed per slot, as Gymnasium's vector
    envs take them) seeds it with the whole list: the list ``[s, s+1, ..., s+N-1]``, which is
    what Gymnasium makes of ``seed=s``, is the same run as ``seed=s``; any other list is another
    run, reproducible from the list. ``None`` (or a list of ``None``) continues the env's
    generator.
    """

    metadata: dict[str, Any] = {"render_modes": [], "autoreset_mode": AutoresetMode.NEXT_STEP}

    #: The search core this env wraps (tabular envs answer from a table; synapse envs keep a
    #: lineage).
    core_class: type[SearchCore] = SearchCore

    def __init__(self, num_envs: int = 8, **kwargs: Any) -> None:
        self.core = self.core_class(**kwargs)
        self.num_envs = int(num_envs)
        self.single_action_space = self.core.space.action_space
        self.single_observation_space = observation_box()
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self._best: float | None = None
        self._needs_reset = True
        self._run_rng: np.random.Generator | None = None

    def _entropy(self, seed: Seed) -> int | list[int] | None:
        """The run's seed entropy from a reset seed (see the class docstring).

        Raises:
            ValueError: for a negative seed, a list not of ``num_envs`` seeds, or a list mixing
                ``None`` and integers.
        """
        n = self.num_envs
        if seed is None or isinstance(seed, (int, np.integer)):
            if seed is not None and (isinstance(seed, bool) or seed < 0):
                raise ValueError(f"seed must be a non-negative integer; got {seed!r}")
            return None if seed is None else int(seed)
        if isinstance(seed, (str, bytes)) or not isinstance(seed, Sequence) or len(seed) != n:
            raise ValueError(
                f"seed must be an integer, None, or a list of num_envs ({n}) seeds; got {seed!r}"
            )
        if all(s is None for s in seed):
            return None
        if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in seed):
            raise ValueError(
                "seed list must hold integers only (the slots share one run, so one slot cannot "
                f"continue while another is seeded) or None only; got {list(seed)!r}"
            )
        seeds = [int(s) for s in seed]  # type: ignore[arg-type]
        if min(seeds) < 0:
            raise ValueError(f"seeds must be non-negative integers; got {seeds!r}")
        return seeds[0] if seeds == list(range(seeds[0], seeds[0] + n)) else seeds

    def _start(self, entropy: int | list[int] | None) -> tuple[np.ndarray, dict[str, Any]]:
        if entropy is not None or self._run_rng is None:
            self._run_rng = np.random.default_rng(entropy)
        self.core.start_run(int(self._run_rng.integers(2**31 - 1)))
        self._best = None
        self._needs_reset = False
        obs = np.zeros((self.num_envs, 4), dtype=np.float32)
        slot = {**self.core.budget_info(), "run_seed": self.core.run_seed}
        return obs, self._batch([slot] * self.num_envs)

    def _batch(self, slots: list[dict[str, Any]]) -> dict[str, Any]:
        """Per-slot info dicts -> one dict of arrays with ``_key`` masks (Gymnasium's rule)."""
        infos: dict[str, Any] = {}
        for i, slot in enumerate(slots):
            infos = self._add_info(infos, slot, i)
        return infos

    def reset(
        self, *, seed: Seed = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start a new run (every slot: they share it).

        Raises:
            ValueError: for a bad ``seed`` (see :meth:`_entropy`) or an
                ``options["reset_mask"]`` that would reset only some slots of the shared run.
        """
        mask = (options or {}).get("reset_mask")
        if mask is not None and not np.all(mask):
            raise ValueError(
                "options['reset_mask'] must select every slot: the slots share one run, so a "
                f"reset restarts all of them; got {mask!r}"
            )
        return self._start(self._entropy(seed))

    def step(
        self, actions: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        n = self.num_envs
        if self._run_rng is None:
            raise RuntimeError("call reset() before step()")
        if self._needs_reset:  # NEXT_STEP autoreset: this step starts the next run
            obs, info = self._start(None)
            info.update(self._batch([{"evaluated": False}] * n))
            return obs, np.zeros(n), np.zeros(n, dtype=bool), np.zeros(n, dtype=bool), info
        actions = np.asarray(actions)
        if actions.shape[0] != n:
            raise ValueError(f"actions must have {n} rows (num_envs); got shape {actions.shape}")
        evaluations = self.core.evaluate(list(actions), partial=True)
        k = len(evaluations)
        rewards = np.zeros(n, dtype=np.float64)
        obs = np.zeros((n, 4), dtype=np.float32)
        for i, evaluation in enumerate(evaluations):
            rewards[i] = float(evaluation.reward if evaluation.reward is not None else 0.0)
        if evaluations:
            top = float(rewards[:k].max())
            self._best = top if self._best is None else max(self._best, top)
        for i, evaluation in enumerate(evaluations):
            obs[i] = self.core.observation(evaluation, self._best or 0.0)
        truncated = np.full(n, self.core.budget_exhausted)
        self._needs_reset = bool(truncated[0])
        slots = [{**self.core.info(e), "evaluated": True} for e in evaluations]
        slots += [{**self.core.budget_info(), "evaluated": False}] * (n - k)
        return obs, rewards, np.zeros(n, dtype=bool), truncated, self._batch(slots)

    def close_extras(self, **kwargs: Any) -> None:
        """Release the core's worker processes and cache connection."""
        self.core.close()
