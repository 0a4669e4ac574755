"""The population env follows Gymnasium's vector conventions (issue 12): ``_key`` masked array
infos at reset and step, seed lists, ``DictInfoToList`` and ``RecordEpisodeStatistics``."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.wrappers.vector import DictInfoToList, RecordEpisodeStatistics

MLP = "darwin_bench/Digits-MLP-v0"
FAST = {"epochs": 1, "measure_latency": False}


def make(num_envs: int = 3, budget: int = 5) -> gym.vector.VectorEnv:
    return gym.make_vec(
        MLP, num_envs=num_envs, vectorization_mode="vector_entry_point", budget=budget, **FAST
    )


def genomes(env: gym.vector.VectorEnv, rng: np.random.Generator) -> np.ndarray:
    space = env.unwrapped.search_space
    return np.stack([space.sample(rng) for _ in range(env.num_envs)])


def assert_vector_info(info: dict[str, Any], n: int) -> None:
    """Every key is an array of ``n`` entries (or a dict of them) beside a bool ``_key`` mask."""
    for key, value in info.items():
        if key.startswith("_"):
            continue
        mask = info[f"_{key}"]
        assert mask.dtype == np.bool_ and mask.shape == (n,), key
        if isinstance(value, dict):
            assert_vector_info(value, n)
        else:
            assert isinstance(value, np.ndarray) and len(value) == n, key


def test_infos_are_masked_arrays_at_reset_and_step() -> None:
    env = make(num_envs=3, budget=5)
    _, info = env.reset(seed=0)
    assert_vector_info(info, 3)
    assert info["budget"].tolist() == [5] * 3 and info["_run_seed"].all()
    assert info["budget_exhausted"].tolist() == [False] * 3
    rng = np.random.default_rng(0)
    _, _, _, _, info = env.step(genomes(env, rng))
    assert_vector_info(info, 3)
    assert info["evaluated"].tolist() == [True] * 3 and info["budget_used"].tolist() == [1, 2, 3]
    assert info["metrics"]["_accuracy"].all() and info["metrics"]["accuracy"].dtype == float
    _, rewards, _, truncated, info = env.step(genomes(env, rng))  # 2 units left for 3 slots
    assert_vector_info(info, 3)
    assert truncated.all() and info["budget_exhausted"].all()
    assert info["evaluated"].tolist() == [True, True, False]
    assert info["_metrics"].tolist() == [True, True, False]  # the unevaluated slot has none
    assert info["_evaluation_id"].tolist() == [True, True, False] and rewards[2] == 0.0
    # The next step is the NEXT_STEP autoreset: a new run, nothing evaluated.
    _, rewards, _, truncated, info = env.step(genomes(env, rng))
    assert_vector_info(info, 3)
    assert not info["evaluated"].any() and not truncated.any() and not rewards.any()
    assert env.unwrapped.budget_left == 5 and info["budget_used"].tolist() == [0] * 3


def test_seed_lists_are_honoured() -> None:
    env = make(num_envs=3)

    def run_seed(seed: Any) -> int:
        return int(env.reset(seed=seed)[1]["run_seed"][0])

    # Gymnasium expands seed=s to [s, s+1, ..., s+N-1]: that list is the same run as s.
    assert run_seed([5, 6, 7]) == run_seed(5) == run_seed(5)
    other = run_seed([5, 9, 2])
    assert other == run_seed([5, 9, 2]) != run_seed(5)  # reproducible, and another run
    # Every entry matters, not only the first.
    assert len({other, run_seed([5, 9, 3]), run_seed([6, 9, 2]), run_seed([5, 8, 2])}) == 4
    first = run_seed(None)
    assert run_seed([None, None, None]) != first  # None continues the env's generator


@pytest.mark.parametrize(
    "seed, message",
    [
        ([1, 2], r"a list of num_envs \(3\) seeds"),
        ([1, None, 2], "integers only"),
        ([1, -2, 3], "non-negative"),
        (-1, "non-negative"),
        ("123", "a list of num_envs"),
    ],
)
def test_bad_seeds_are_named(seed: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make(num_envs=3).reset(seed=seed)


def test_partial_reset_of_the_shared_run_is_refused() -> None:
    env = make(num_envs=2)
    env.reset(seed=0, options={"reset_mask": np.array([True, True])})
    with pytest.raises(ValueError, match="reset_mask'\\] must select every slot"):
        env.reset(options={"reset_mask": np.array([True, False])})


def test_dict_info_to_list() -> None:
    env = DictInfoToList(make(num_envs=3, budget=5))
    _, infos = env.reset(seed=0)
    assert isinstance(infos, list) and len(infos) == 3
    assert all(i["budget"] == 5 and i["run_seed"] == infos[0]["run_seed"] for i in infos)
    rng = np.random.default_rng(0)
    env.step(genomes(env, rng))
    _, rewards, _, _, infos = env.step(genomes(env, rng))
    assert [i["evaluated"] for i in infos] == [True, True, False]
    assert "metrics" in infos[1] and "metrics" not in infos[2]
    assert infos[1]["evaluation"].reward == rewards[1]
    assert infos[0]["metrics"]["accuracy"] == infos[0]["evaluation"].metrics["accuracy"]


def test_record_episode_statistics() -> None:
    """Wrapped as Gymnasium documents it; an episode is the run."""
    env = DictInfoToList(RecordEpisodeStatistics(make(num_envs=2, budget=4)))
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    total = np.zeros(2)
    for _ in range(2):
        _, rewards, _, truncated, infos = env.step(genomes(env, rng))
        total += rewards
    assert truncated.all()
    assert [i["episode"]["l"] for i in infos] == [2, 2]
    assert [i["episode"]["r"] for i in infos] == pytest.approx(total.tolist())
    env.step(genomes(env, rng))  # autoreset step
    _, rewards, _, _, infos = env.step(genomes(env, rng))
    assert "episode" not in infos[0] and rewards.all()
    recorder = env.env
    assert isinstance(recorder, RecordEpisodeStatistics) and len(recorder.return_queue) == 2
