"""``perf control``: a control task's evaluation with its trainer vs stable-baselines3's PPO at
its default settings, side by side on the same policy architecture and held-out test episodes:
at equal steps (:func:`control_benchmark`) or each at the smallest budget of a grid where its
mean held-out return reaches 475 (:func:`equal_return_benchmark`).

Per seed, the SB3 side trains ``PPO`` with SB3's defaults (one env, 2,048 steps per rollout,
minibatches of 64, 10 epochs, learning rate 3e-4, ...; the policy architecture as its actor and
a copy as its critic, which for a 64-64 tanh MLP is SB3's default ``MlpPolicy``) for
``sb3_timesteps``; the task side runs the task's own evaluation (:meth:`ControlTask.fit`: its
trainer at its default fidelity, then the validation and test episodes). Both policies are
scored on the task's held-out test episodes; each side's time covers training and scoring.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from darwin_bench.architecture import Architecture
from darwin_bench.perf.machine import Timing, conditions, timed
from darwin_bench.seeding import torch_determinism
from darwin_bench.tasks.control import ControlTask
from darwin_bench.tasks.ppo_config import PPOConfig

#: stable-baselines3's ``PPO`` defaults (``make_vec_env`` makes one env by default).
SB3_DEFAULTS = replace(PPOConfig(), n_envs=1, n_steps=2048, batch_size=64)


def reference_policy(task: ControlTask, widths: tuple[int, ...] = (64, 64)) -> Architecture:
    """An MLP policy with tanh hidden layers (SB3's default ``MlpPolicy`` is 64-64 tanh)."""
    layers = [{"type": "dense", "units": w, "activation": "tanh"} for w in widths]
    layers.append({"type": "dense", "units": task.num_outputs, "activation": None})
    return Architecture("mlp", task.input_shape, task.num_outputs, tuple(layers))


def sb3_default_returns(
    task: ControlTask, architecture: Architecture, *, timesteps: int, seed: int
) -> list[float]:
    """Train with SB3's default PPO settings; return the test-episode returns."""
    from darwin_bench.tasks.ppo import export_policy, train_ppo

    with torch_determinism(seed, task.threads):
        agent = train_ppo(
            task.env_id,
            architecture,
            timesteps=timesteps,
            seed=seed,
            hyperparameters=SB3_DEFAULTS.sb3_kwargs(),
            n_envs=SB3_DEFAULTS.n_envs,
            env_kwargs=task.env_kwargs,
        )
        policy = export_policy(agent, architecture)
        return task.episode_returns(policy, task.test_seeds)


def control_benchmark(
    task: ControlTask,
    architecture: Architecture | None = None,
    *,
    sb3_timesteps: int | None = None,
    timesteps: int | None = None,
    seeds: tuple[int, ...] = (0,),
) -> dict[str, Any]:
    """Time both sides on every seed (SB3 first, then the task at ``timesteps``, default its
    own fidelity); return the figures as JSON.

    ``sb3_timesteps`` defaults to the task side's steps: SB3's defaults reach a mean return of
    499 on CartPole's held-out episodes at the task's 16,384 steps (seeds 0-2), so more steps
    would only flatter the task side.

    Raises:
        ValueError: for an empty ``seeds`` or a non-positive ``sb3_timesteps``.
    """
    architecture = architecture or reference_policy(task)
    fidelity = task.check_fidelity({} if timesteps is None else {"timesteps": timesteps})
    sb3_timesteps = fidelity["timesteps"] if sb3_timesteps is None else sb3_timesteps
    if not seeds or sb3_timesteps < 1:
        raise ValueError("seeds must not be empty and sb3_timesteps must be >= 1")
    start = conditions()
    sb3_time, task_time = Timing(), Timing()
    sb3_returns, task_returns = [], []
    for seed in seeds:
        with timed() as t:
            sb3_returns.append(
                sb3_default_returns(task, architecture, timesteps=sb3_timesteps, seed=seed)
            )
        sb3_time = Timing(sb3_time.wall + t.wall, sb3_time.cpu + t.cpu)
        with timed() as t:
            result = task.fit(architecture, seed=seed, fidelity=fidelity)
        task_time = Timing(task_time.wall + t.wall, task_time.cpu + t.cpu)
        task_returns.append(result.details["test_returns"])
    sb3_mean = float(np.mean(sb3_returns))
    task_mean = float(np.mean(task_returns))
    speedup = sb3_time.wall / task_time.wall
    return {
        "env_id": task.env_id,
        "architecture": architecture.to_dict(),
        "seeds": list(seeds),
        "test_episodes": len(task.test_seeds),
        "sb3_default": {
            "trainer": "stable-baselines3 PPO, default settings",
            "ppo": SB3_DEFAULTS.to_dict(),
            "timesteps": sb3_timesteps,
            **sb3_time.to_dict(),
            "mean_test_return": round(sb3_mean, 2),
            "mean_test_return_per_seed": [round(float(np.mean(r)), 2) for r in sb3_returns],
        },
        "task": {
            "trainer": task.trainer,
            "ppo": task.ppo.to_dict(),
            "timesteps": fidelity["timesteps"],
            **task_time.to_dict(),
            "mean_test_return": round(task_mean, 2),
            "mean_test_return_per_seed": [round(float(np.mean(r)), 2) for r in task_returns],
        },
        "speedup": round(speedup, 2),
        "cpu_speedup": round(sb3_time.cpu / task_time.cpu, 2),
        "target": {"speedup": 5.0, "min_mean_test_return": 475.0},
        "meets_target": bool(speedup >= 5.0 and min(sb3_mean, task_mean) >= 475.0),
        "conditions_before": start,
        "conditions_after": conditions(),
    }


def _trained_steps(timesteps: int, rollout: int) -> int:
    """Steps a PPO trainer actually takes for ``timesteps``: whole rollouts, rounded up."""
    return -(-timesteps // rollout) * rollout


def _run_side(
    side: str, task: ControlTask, architecture: Architecture, timesteps: int, seed: int
) -> tuple[Timing, list[float]]:
    """Time one side's training and scoring at ``timesteps``; its test-episode returns."""
    with timed() as t:
        if side == "sb3_default":
            returns = sb3_default_returns(task, architecture, timesteps=timesteps, seed=seed)
        else:
            fidelity = task.check_fidelity({"timesteps": timesteps})
            returns = task.fit(architecture, seed=seed, fidelity=fidelity).details["test_returns"]
    return t, returns


def equal_return_benchmark(
    task: ControlTask,
    architecture: Architecture | None = None,
    *,
    budgets: tuple[int, ...],
    seeds: tuple[int, ...] = (0,),
    min_return: float = 475.0,
) -> dict[str, Any]:
    """For each side, the smallest of ``budgets`` (steps, tried in increasing order) at which
    the mean held-out test return over ``seeds`` reaches ``min_return``; the speed-up compares
    the two sides' times at their own smallest budgets.

    The sides are interleaved (per budget and seed, SB3 then the task) and each budget is a
    fresh training run; a side stops at its first budget that reaches ``min_return``.

    Raises:
        ValueError: for empty ``seeds`` or ``budgets``, or a non-positive budget.
    """
    architecture = architecture or reference_policy(task)
    if not seeds or not budgets or min(budgets) < 1:
        raise ValueError("seeds and budgets must not be empty and budgets must be >= 1")
    rollouts = {
        "sb3_default": SB3_DEFAULTS.n_envs * SB3_DEFAULTS.n_steps,
        "task": task.ppo.n_envs * task.ppo.n_steps,
    }
    tried: dict[str, list[dict[str, Any]]] = {side: [] for side in rollouts}
    reached: dict[str, dict[str, Any] | None] = {side: None for side in rollouts}
    start = conditions()
    for budget in sorted(set(budgets)):
        searching = [side for side in rollouts if reached[side] is None]
        if not searching:
            break
        times = {side: Timing() for side in searching}
        returns: dict[str, list[list[float]]] = {side: [] for side in searching}
        for seed in seeds:
            for side in searching:
                t, r = _run_side(side, task, architecture, budget, seed)
                times[side] = Timing(times[side].wall + t.wall, times[side].cpu + t.cpu)
                returns[side].append(r)
        for side in searching:
            mean = float(np.mean(returns[side]))
            row: dict[str, Any] = {
                "timesteps": budget,
                "trained_steps": _trained_steps(budget, rollouts[side]),
                **times[side].to_dict(),
                "mean_test_return": round(mean, 2),
                "mean_test_return_per_seed": [round(float(np.mean(r)), 2) for r in returns[side]],
            }
            tried[side].append(row)
            if mean >= min_return:
                reached[side] = row
    sb3, ours = reached["sb3_default"], reached["task"]
    speedup = sb3["wall_seconds"] / ours["wall_seconds"] if sb3 and ours else None
    return {
        "env_id": task.env_id,
        "architecture": architecture.to_dict(),
        "seeds": list(seeds),
        "test_episodes": len(task.test_seeds),
        "budgets": sorted(set(budgets)),
        "min_return": min_return,
        "sb3_default": {
            "ppo": SB3_DEFAULTS.to_dict(),
            "tried": tried["sb3_default"],
            "reached": sb3,
        },
        "task": {"ppo": task.ppo.to_dict(), "tried": tried["task"], "reached": ours},
        "speedup": None if speedup is None else round(speedup, 2),
        "cpu_speedup": (
            round(sb3["cpu_seconds"] / ours["cpu_seconds"], 2) if sb3 and ours else None
        ),
        "meets_target": bool(speedup is not None and speedup >= 5.0),
        "conditions_before": start,
        "conditions_after": conditions(),
    }
