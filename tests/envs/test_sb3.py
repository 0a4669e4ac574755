"""stable-baselines3 runs unchanged on darwin_bench envs, as a user writes it (issue 12).

``learn()`` with any ``total_timesteps`` and ``evaluate_policy`` finish; evaluations stop exactly
at the budget; after it, episodes are truncated with no evaluation; ``StopTrainingOnBudget``
ends ``learn()`` on the step that spends the budget. Fidelities are tiny (env kwargs) so the
SB3 calls themselves stay exactly what a user types.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from sb3_contrib import MaskablePPO
from sb3_contrib.common.maskable.evaluation import evaluate_policy as maskable_evaluate_policy
from stable_baselines3 import PPO
from stable_baselines3.common.evaluation import evaluate_policy

from darwin_bench.sb3 import StopTrainingOnBudget
from envs.registration import ENVS, EnvEntry

BUILDER = "darwin_bench/Digits-MLP-Builder-v0"
FAST = {"epochs": 1, "measure_latency": False}
BUILDERS = [pytest.param(e, id=e.id) for e in ENVS if e.form == "builder"]


def builder_env(entry: EnvEntry, budget: int) -> gym.Env:
    return gym.make(entry.id, **{**entry.test_kwargs, "measure_latency": False, "budget": budget})


def count_evaluations(env: gym.Env) -> list[object]:
    """Every evaluation the env makes, through its public listener hook."""
    seen: list[object] = []
    env.unwrapped.add_listener(seen.append)
    return seen


def test_the_issue_script_runs() -> None:
    """The script of issue 12, which crashed with ``RuntimeError: budget exhausted``."""
    env = gym.make(BUILDER, budget=12, **FAST)
    evaluations = count_evaluations(env)
    MaskablePPO("MlpPolicy", env).learn(200)
    assert len(evaluations) == 12 and env.unwrapped.budget_left == 0


@pytest.mark.parametrize("entry", BUILDERS)
def test_plain_learn_finishes_on_every_builder_env(entry: EnvEntry) -> None:
    env = builder_env(entry, budget=2)
    evaluations = count_evaluations(env)
    MaskablePPO("MlpPolicy", env, n_steps=64, batch_size=32).learn(200)
    assert len(evaluations) == 2  # exactly the budget, though 200 steps build more networks


@pytest.mark.parametrize("total_timesteps", [1, 37, 1_000])
def test_learn_finishes_with_any_total_timesteps(total_timesteps: int) -> None:
    env = gym.make(BUILDER, budget=3, **FAST)
    evaluations = count_evaluations(env)
    model = PPO("MlpPolicy", env, n_steps=32, batch_size=32, n_epochs=1)  # unmasked: repaired
    model.learn(total_timesteps)
    assert model.num_timesteps >= total_timesteps
    assert len(evaluations) == 3


@pytest.mark.parametrize("evaluate", [evaluate_policy, maskable_evaluate_policy])
def test_evaluate_policy_finishes_and_stops_at_the_budget(evaluate) -> None:
    env = gym.make(BUILDER, budget=2, **FAST)
    evaluations = count_evaluations(env)
    model = MaskablePPO("MlpPolicy", env)
    with pytest.warns(UserWarning, match="Monitor"):  # SB3's advice; not ours to silence
        rewards, lengths = evaluate(model, env, n_eval_episodes=5, return_episode_rewards=True)
    assert len(evaluations) == 2
    assert [r != 0 for r in rewards].count(True) == 2  # then three truncated, unevaluated
    assert sorted(lengths) == [1, 1, 1, 10, 10]
    # A spent env: every episode ends at once with reward 0; a new seed renews the budget.
    with pytest.warns(UserWarning, match="Monitor"):
        assert evaluate(model, env, n_eval_episodes=3) == (0.0, 0.0)
    env.reset(seed=1)
    assert env.unwrapped.budget_left == 2


def test_callback_stops_learning_when_the_budget_is_spent() -> None:
    env = gym.make(BUILDER, budget=4, **FAST)
    evaluations = count_evaluations(env)
    model = MaskablePPO("MlpPolicy", env, n_steps=64, batch_size=32)
    model.learn(100_000, callback=StopTrainingOnBudget())
    genes = len(env.unwrapped.search_space.genes)
    assert model.num_timesteps == 4 * genes and len(evaluations) == 4
    # Learning again on the spent run stops at once; the documented way to a new run works.
    model.learn(100_000, callback=StopTrainingOnBudget())
    assert model.num_timesteps == 1 and len(evaluations) == 4
    model.get_env().seed(7)
    model.learn(100_000, callback=StopTrainingOnBudget())
    assert model.num_timesteps == 4 * genes and len(evaluations) == 8


def test_callback_on_a_proposal_env_stops_at_the_end_of_the_run() -> None:
    env = gym.make("darwin_bench/Digits-MLP-v0", budget=3, **FAST)
    evaluations = count_evaluations(env)
    model = PPO("MlpPolicy", env, n_steps=16, batch_size=16)
    model.learn(1_000, callback=StopTrainingOnBudget())
    assert model.num_timesteps == 3 and len(evaluations) == 3


def test_callback_refuses_an_env_without_a_budget() -> None:
    model = PPO("MlpPolicy", "CartPole-v1", n_steps=16, batch_size=16)
    with pytest.raises(ValueError, match="StopTrainingOnBudget needs darwin_bench envs"):
        model.learn(16, callback=StopTrainingOnBudget())


# ------------------------------------------------------------------ after the budget, by hand


def build(env: gym.Env) -> tuple[float, bool, bool, dict]:
    """Build one network with valid choices; the last step's reward, flags and info."""
    unwrapped = env.unwrapped
    while True:
        choice = int(np.flatnonzero(unwrapped.action_masks())[0])
        _, reward, terminated, truncated, info = env.step(choice)
        if terminated or truncated:
            return float(reward), terminated, truncated, info


def test_builder_after_the_budget_truncates_without_evaluating() -> None:
    env = gym.make(BUILDER, budget=1, **FAST)
    _, info = env.reset(seed=0)
    assert info["budget_exhausted"] is False
    _, terminated, truncated, info = build(env)
    assert terminated and not truncated and info["budget_exhausted"] is True
    trained = env.unwrapped.core.evaluator.stats["trained"]
    obs, info = env.reset()  # no seed: the same, spent run
    assert info == {
        "budget": 1,
        "budget_kind": "evaluations",
        "budget_used": 1,
        "budget_exhausted": True,
    }
    after = env.step(int(np.flatnonzero(env.unwrapped.action_masks())[0]))
    assert after[1:4] == (0.0, False, True) and (after[0] == obs).all()
    assert after[4] == {
        "budget": 1,
        "budget_kind": "evaluations",
        "budget_used": 1,
        "budget_exhausted": True,
    }
    assert env.unwrapped.core.evaluator.stats["trained"] == trained
    with pytest.raises(RuntimeError, match=r"reset\(seed=\.\.\.\) starts a new run"):
        env.unwrapped.core.evaluate([env.unwrapped.search_space.sample(np.random.default_rng())])
    env.reset(seed=1)  # a seed starts a new run
    assert build(env)[1] and env.unwrapped.budget_left == 0


def test_proposal_after_the_budget_truncates_without_evaluating() -> None:
    env = gym.make("darwin_bench/Digits-MLP-v0", budget=2, **FAST)
    env.reset(seed=0)
    genome = env.unwrapped.search_space.sample(np.random.default_rng(0))
    flags = [env.step(genome)[3:] for _ in range(2)]
    assert [f[0] for f in flags] == [False, True]
    assert [f[1]["budget_exhausted"] for f in flags] == [False, True]
    _, reward, terminated, truncated, info = env.step(genome)
    assert (reward, terminated, truncated) == (0.0, False, True)
    assert info == {
        "budget": 2,
        "budget_kind": "evaluations",
        "budget_used": 2,
        "budget_exhausted": True,
    }
    with pytest.raises(ValueError, match="genome"):
        env.step(genome[:3])
    _, info = env.reset()  # a proposal env's episode is a run: reset() starts the next one
    assert info["budget_exhausted"] is False and env.unwrapped.budget_left == 2
