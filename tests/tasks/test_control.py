"""ControlTask: PPO-trained policy networks on Gymnasium envs, scored by mean return on
validation episodes and reported on held-out test episodes."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces

from darwin_bench.architecture import Architecture
from darwin_bench.models import build_model
from darwin_bench.spaces import make_space
from darwin_bench.tasks.control import TUNED_PPO, ControlTask, PPOConfig


def mlp(task: ControlTask, *widths: int, activation: str = "tanh") -> Architecture:
    layers = [{"type": "dense", "units": w, "activation": activation} for w in widths]
    layers.append({"type": "dense", "units": task.num_outputs, "activation": None})
    return Architecture("mlp", task.input_shape, task.num_outputs, tuple(layers))


@pytest.fixture(scope="module")
def cartpole() -> ControlTask:
    return ControlTask("CartPole-v1")


def test_cartpole_shapes_example_input_and_tuned_ppo(cartpole: ControlTask) -> None:
    assert cartpole.name == "cartpole"
    assert cartpole.input_shape == (4,) and cartpole.num_outputs == 2
    assert cartpole.fidelities == {"timesteps": 16_384}
    assert cartpole.ppo == TUNED_PPO["CartPole-v1"] and cartpole.trainer == "ppo"
    assert cartpole.return_range == (0.0, 500.0)
    batch = cartpole.example_input(7)
    assert batch.shape == (7, 4) and batch.dtype == torch.float32
    env = gym.make("CartPole-v1")
    first_obs, _ = env.reset(seed=cartpole.eval_seeds[0])
    np.testing.assert_allclose(batch[0].numpy(), first_obs)


@pytest.mark.parametrize("trainer", ["ppo", "sb3"])
def test_same_seed_same_policy_and_returns(trainer: str) -> None:
    cartpole = ControlTask("CartPole-v1", trainer=trainer, eval_episodes=3, test_episodes=3)
    arch = mlp(cartpole, 32)
    a = cartpole.fit(arch, seed=5, fidelity={"timesteps": 512})
    b = cartpole.fit(arch, seed=5, fidelity={"timesteps": 512})
    assert a.metrics == b.metrics and a.test_metrics == b.test_metrics
    for (name, pa), pb in zip(a.model.state_dict().items(), b.model.state_dict().values()):
        assert torch.equal(pa, pb), name
    c = cartpole.fit(arch, seed=6, fidelity={"timesteps": 512})
    assert not torch.equal(a.model.state_dict()["0.weight"], c.model.state_dict()["0.weight"])


def test_scored_model_is_the_architecture_and_its_returns(cartpole: ControlTask) -> None:
    arch = mlp(cartpole, 16, 16)
    result = cartpole.fit(arch, seed=1, fidelity={"timesteps": 512})
    built = build_model(arch)
    assert [k for k in result.model.state_dict()] == [k for k in built.state_dict()]
    assert result.details["timesteps"] == 512
    returns = result.details["returns"]
    assert len(returns) == len(cartpole.eval_seeds) == 10
    # Re-running the exported network greedily on the validation seeds gives the same returns.
    assert cartpole.episode_returns(result.model) == returns
    assert result.metrics["mean_return"] == pytest.approx(np.mean(returns))
    assert result.metrics["normalized_return"] == pytest.approx(np.mean(returns) / 500.0)
    assert cartpole.score(result.metrics) == result.metrics["normalized_return"]


def test_validation_selects_test_reports_on_held_out_seeds(cartpole: ControlTask) -> None:
    assert not set(cartpole.eval_seeds) & set(cartpole.test_seeds)
    assert len(cartpole.test_seeds) == 20
    result = cartpole.fit(mlp(cartpole, 16), seed=3, fidelity={"timesteps": 1024})
    assert set(result.metrics) == {"normalized_return", "mean_return", "std_return"}
    assert set(result.test_metrics) == {
        "test_normalized_return",
        "test_mean_return",
        "test_std_return",
    }
    test_returns = cartpole.episode_returns(result.model, cartpole.test_seeds)
    assert result.details["test_returns"] == test_returns
    assert result.test_metrics["test_mean_return"] == pytest.approx(np.mean(test_returns))


def test_episodes_match_one_env_stepped_by_hand(cartpole: ControlTask) -> None:
    """The vectorized evaluation plays exactly the episode ``reset(seed=s)`` starts."""
    policy = build_model(mlp(cartpole, 8))
    env = gym.make("CartPole-v1")
    seed = cartpole.test_seeds[3]
    obs, _ = env.reset(seed=seed)
    total, done = 0.0, False
    while not done:
        with torch.no_grad():
            action = int(policy(torch.as_tensor(obs)[None]).argmax())
        obs, reward, terminated, truncated, _ = env.step(action)
        total += float(reward)
        done = terminated or truncated
    assert cartpole.episode_returns(policy, [seed]) == [total]


@pytest.mark.parametrize("trainer", ["ppo", "sb3"])
def test_ppo_learns_cartpole(cartpole: ControlTask, trainer: str) -> None:
    task = ControlTask("CartPole-v1", trainer=trainer, eval_episodes=5, test_episodes=5)
    trained = task.fit(mlp(task, 64, 64), seed=0, fidelity={"timesteps": 8192})
    # A uniformly random policy keeps the pole up ~20 steps; trained policies far longer.
    assert cartpole.random_return < 40
    assert trained.metrics["mean_return"] > 3 * cartpole.random_return


@pytest.mark.parametrize("trainer", ["ppo", "sb3"])
def test_box_actions_and_raw_score(trainer: str) -> None:
    task = ControlTask(
        "Pendulum-v1", timesteps=256, eval_episodes=2, test_episodes=2, trainer=trainer
    )
    assert task.num_outputs == 1 and task.return_range is None
    result = task.fit(mlp(task, 16), seed=0, fidelity={})
    assert result.model(task.example_input(1)).shape == (1, 1)
    assert result.metrics["normalized_return"] == result.metrics["mean_return"] < 0
    assert task.worst_score == task.random_return < 0


@pytest.mark.parametrize("trainer", ["ppo", "sb3"])
def test_discrete_observations_are_one_hot(trainer: str) -> None:
    task = ControlTask(
        "FrozenLake-v1", timesteps=256, eval_episodes=2, test_episodes=2, trainer=trainer
    )
    assert task.input_shape == (16,) and task.num_outputs == 4
    assert torch.equal(task.example_input(1)[0], torch.eye(16)[0])
    result = task.fit(mlp(task, 16), seed=0, fidelity={})
    assert 0.0 <= result.metrics["normalized_return"] <= 1.0


def test_mlp_space_decodes_into_trainable_policies(cartpole: ControlTask) -> None:
    space = make_space("mlp", cartpole.input_shape, cartpole.num_outputs)
    arch = space.decode(space.sample(np.random.default_rng(3)))
    result = cartpole.fit(arch, seed=2, fidelity={"timesteps": 256})
    assert np.isfinite(result.metrics["mean_return"])


class _MultiBinaryEnv(gym.Env):
    observation_space = spaces.Box(-1, 1, shape=(2,))
    action_space = spaces.MultiBinary(3)


def test_bad_input_is_a_clear_value_error() -> None:
    with pytest.raises(ValueError, match=r"env_id 'NoSuchEnv-v0' is not an env Gymnasium"):
        ControlTask("NoSuchEnv-v0")
    gym.register("darwin_bench_test/MultiBinary-v0", entry_point=_MultiBinaryEnv)
    try:
        with pytest.raises(ValueError, match=r"action space must be Discrete or a 1-D Box"):
            ControlTask("darwin_bench_test/MultiBinary-v0")
    finally:
        del gym.registry["darwin_bench_test/MultiBinary-v0"]
    with pytest.raises(ValueError, match="trainer must be one of"):
        ControlTask("CartPole-v1", trainer="dqn")
    with pytest.raises(ValueError, match="test_episodes"):
        ControlTask("CartPole-v1", test_episodes=0)
    with pytest.raises(ValueError, match="return_range"):
        ControlTask("CartPole-v1", return_range=(1.0, 1.0))
    with pytest.raises(ValueError, match="lr_schedule"):
        PPOConfig(lr_schedule="cosine")
    with pytest.raises(
        ValueError, match=r"ppo key\(s\) \['lr'\] unknown; allowed: .*'learning_rate'"
    ):
        ControlTask("CartPole-v1", ppo={"lr": 1e-3})
    assert ControlTask("CartPole-v1", ppo={"n_epochs": 5}).ppo.n_epochs == 5
    with pytest.raises(ValueError, match="fidelity 'epochs' is not known"):
        ControlTask("CartPole-v1").check_fidelity({"epochs": 2})


def test_cartpole_env_reports_returns() -> None:
    env = gym.make("darwin_bench/CartPole-MLP-v0", fidelity={"timesteps": 256}, budget=1)
    env.reset(seed=0)
    space = env.unwrapped.search_space
    _, reward, _, truncated, info = env.step(space.sample(np.random.default_rng(0)))
    assert truncated and info["status"] == "ok"
    assert {"mean_return", "std_return", "normalized_return"} <= set(info["metrics"])
    assert not any(k.startswith("test_") for k in info["metrics"])
    assert info["fidelity"] == {"timesteps": 256}
    assert 0.0 <= float(reward) <= 1.0
