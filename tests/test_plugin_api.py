"""The plug-in API: the issue's worked example, agents on plug-in envs, and bad input."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from sklearn.datasets import load_wine

import darwin_bench
from baselines import AGENTS
from baselines.runner import run_agent
from envs.plugins import PLUGIN_IDS, builder_id
from envs.registration import ENVS, get_entry


@pytest.fixture
def cleanup() -> Iterator[None]:
    """Unregister every plug-in env a test registered."""
    before = set(PLUGIN_IDS)
    yield
    for env_id in set(PLUGIN_IDS) - before:
        darwin_bench.unregister(env_id)


def test_the_issue_example_runs(cleanup: None) -> None:
    X, y = load_wine(return_X_y=True)
    task = darwin_bench.tasks.from_arrays(X, y, name="wine")  # any arrays -> a classification task
    env_id = darwin_bench.register(task, space="mlp")
    assert env_id == "darwin_bench/Wine-MLP-v0"
    env = gymnasium.make(env_id)
    env.reset(seed=0)
    space = env.unwrapped.search_space
    _, reward, _, _, info = env.step(space.sample(np.random.default_rng(0)))
    assert info["status"] == "ok" and np.isfinite(float(reward))
    assert info["metrics"]["accuracy"] > 0.85  # standardized wine is easy for an MLP

    task = darwin_bench.tasks.from_gym("Acrobot-v1")  # any Gymnasium env id -> a control task
    env_id = darwin_bench.register(task, space="mlp")
    assert env_id == "darwin_bench/Acrobot-MLP-v0"
    env = gymnasium.make(env_id, fidelity={"timesteps": 512})
    env.reset(seed=0)
    _, reward, _, _, info = env.step(env.unwrapped.search_space.sample(np.random.default_rng(0)))
    assert info["status"] == "ok" and -500 <= info["metrics"]["mean_return"] <= 0
    assert 0.0 <= float(reward) <= 1.0


@pytest.fixture
def wine_env(cleanup: None) -> str:
    X, y = load_wine(return_X_y=True)
    return darwin_bench.register(darwin_bench.tasks.from_arrays(X, y, name="wine"), epochs=2)


def test_plugin_env_is_a_registry_entry_and_passes_the_checkers(wine_env: str) -> None:
    entry = get_entry(wine_env)
    assert entry.form == "proposal" and entry.test_kwargs == {"fidelity": {"epochs": 1}}
    assert get_entry(builder_id(wine_env)).form == "builder"
    from darwin_bench.cli.list_envs import catalogue

    assert wine_env in [e["id"] for e in catalogue()["envs"]]
    env = gymnasium.make(wine_env, budget=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        check_env(env.unwrapped, skip_render_check=True)

    def rollout() -> list[float]:
        env = gymnasium.make(wine_env, budget=3)
        env.reset(seed=3)
        rng = np.random.default_rng(3)
        space = env.unwrapped.search_space
        return [float(env.step(space.sample(rng))[1]) for _ in range(3)]

    assert rollout() == rollout()


PLUGIN_FORMS = ("proposal", "builder")  # the forms register() creates


@pytest.mark.parametrize("agent", sorted(AGENTS))
def test_every_agent_runs_unchanged_on_a_plugin_env(
    agent: str, wine_env: str, tmp_path: Path
) -> None:
    forms = AGENTS[agent].forms
    if not set(forms) & set(PLUGIN_FORMS):
        # Agents of other forms (evo-synthesis: masks over a trained ancestor) need an env of
        # their form; on a plug-in env they get the runner's clear error, not a crash.
        with pytest.raises(ValueError, match=f"agent {agent!r} does not work on"):
            run_agent(agent, wine_env, budget=2, seed=0, out_dir=tmp_path)
        return
    env_id = wine_env if "proposal" in forms else builder_id(wine_env)
    result = run_agent(
        agent,
        env_id,
        budget=4,
        seed=0,
        out_dir=tmp_path,
        env_kwargs={"epochs": 1, "measure_latency": False},
    )
    assert len(result.record.evaluations) == 4
    assert result.record.header["env_id"] == env_id
    assert all(e.status == "ok" for e in result.record.evaluations)


def test_reregistering_replaces_and_unregister_removes(cleanup: None) -> None:
    X, y = load_wine(return_X_y=True)
    first = darwin_bench.register(darwin_bench.tasks.from_arrays(X, y, name="wine"))
    again = darwin_bench.register(darwin_bench.tasks.from_arrays(X[:, :5], y, name="wine"))
    assert first == again
    assert [e.id for e in ENVS].count(first) == 1
    assert gymnasium.make(first).unwrapped.search_space.input_shape == (5,)
    other = darwin_bench.register(
        darwin_bench.tasks.from_arrays(X, y, name="wine"), space="mlp", name="WineFull", version=2
    )
    assert other == "darwin_bench/WineFull-MLP-v2"
    darwin_bench.unregister(first)
    assert first not in [e.id for e in ENVS] and first not in gymnasium.registry
    with pytest.raises(ValueError, match="must be one of"):
        get_entry(first)


def test_string_labels_and_images() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 1, 4, 4))
    y = np.array(["cat", "dog", "emu"] * 20)
    task = darwin_bench.tasks.from_arrays(X, y, name="pets")
    assert task.classes == ["cat", "dog", "emu"] and task.num_outputs == 3
    assert task.input_shape == (1, 4, 4)
    assert task.x_train.shape[0] + task.x_val.shape[0] + task.x_test.shape[0] == 60


@pytest.mark.parametrize(
    ("X", "y", "match"),
    [
        (np.zeros(10), np.zeros(10), r"X must have shape \(n_samples, n_features\)"),
        (np.array([["a", "b"]] * 10), np.arange(10) % 2, "X must hold numbers"),
        (np.full((10, 2), np.nan), np.arange(10) % 2, "X must be finite; found NaN or inf"),
        (np.zeros((10, 2)), np.arange(9) % 2, "same length; got 10 samples and 9 labels"),
        (np.zeros((10, 2)), np.zeros((10, 2)), "y must be a 1-D array"),
        (np.zeros((10, 2)), np.linspace(0, 1, 10), "non-integer floats"),
        (np.zeros((10, 2)), np.zeros(10), "at least 2 classes"),
        (np.zeros((10, 2)), np.array([0] * 9 + [1]), "class 1 has 1"),
    ],
)
def test_from_arrays_bad_input(X: np.ndarray, y: np.ndarray, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        darwin_bench.tasks.from_arrays(X, y, name="bad")


def test_other_bad_input(cleanup: None) -> None:
    X, y = load_wine(return_X_y=True)
    with pytest.raises(ValueError, match="name must start with a letter"):
        darwin_bench.tasks.from_arrays(X, y, name="my wine!")
    with pytest.raises(ValueError, match="val_fraction"):
        darwin_bench.tasks.from_arrays(X, y, name="wine", val_fraction=1.5)
    with pytest.raises(ValueError, match="'NoSuchEnv-v9' is not an env Gymnasium can make"):
        darwin_bench.tasks.from_gym("NoSuchEnv-v9")
    task = darwin_bench.tasks.from_arrays(X, y, name="digits")
    with pytest.raises(ValueError, match="built-in darwin_bench env"):
        darwin_bench.register(task)  # would shadow darwin_bench/Digits-MLP-v0
    with pytest.raises(ValueError, match="space must be one of"):
        darwin_bench.register(task, space="transformer", name="wine")
    with pytest.raises(ValueError, match="reward must be one of"):
        darwin_bench.register(task, name="wine", reward="speed")
    with pytest.raises(ValueError, match="task must be a darwin_bench Task"):
        darwin_bench.register((X, y))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="registered by darwin_bench.register"):
        darwin_bench.unregister("darwin_bench/Digits-MLP-v0")
    assert not [i for i in PLUGIN_IDS if "Wine" in i]
