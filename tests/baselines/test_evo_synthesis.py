"""Evolutionary synthesis: the synaptic probability model, F(E), synthesis and the agent."""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from baselines.runner import run_agent
from darwin_bench import synaptic

ENV = "darwin_bench/Digits-Synapses-v0"
FAST: dict[str, Any] = {"epochs": 1, "task_kwargs": {"ancestor_epochs": 3}}


def test_probability_exp_hand_computed() -> None:
    p = synaptic.probability(np.array([0.0, -1.0, 2.0]), "exp")  # Z = 2
    assert p == pytest.approx([math.exp(-1), math.exp(-0.5), 1.0])


def test_probability_exp_ln2_hand_computed() -> None:
    p = synaptic.probability(np.array([0.0, 1.0, -2.0]), "exp-ln2")  # Z = 2 / ln 2
    assert p == pytest.approx([0.0, math.sqrt(2) - 1, 1.0])


def test_synapse_probabilities_are_per_layer_and_zero_when_removed() -> None:
    weights = [np.array([[1.0, 4.0]]), np.array([[0.5], [1.0]])]
    masks = [np.array([[True, True]]), np.array([[False], [True]])]
    p = synaptic.synapse_probabilities(weights, masks)
    assert p[0] == pytest.approx(np.array([[math.exp(0.25 - 1), 1.0]]))
    assert p[1] == pytest.approx(np.array([[0.0], [1.0]]))  # Z of layer 2 is its own max


def test_cluster_probabilities_from_row_sums() -> None:
    weights = [np.array([[1.0, -1.0], [0.5, 0.5], [0.0, 0.0]]), np.ones((1, 3))]
    masks = [np.ones((3, 2), dtype=bool), np.ones((1, 3), dtype=bool)]
    (p,) = synaptic.cluster_probabilities(weights, masks)
    assert p == pytest.approx([1.0, math.exp(0.5 - 1), 0.0])  # sums 2, 1, 0; Z = 2


def _parent(rng: np.random.Generator) -> tuple[list[np.ndarray], list[np.ndarray]]:
    weights = [rng.normal(size=(40, 20)), rng.normal(size=(30, 40)), rng.normal(size=(5, 30))]
    masks = [np.ones(w.shape, dtype=bool) for w in weights]
    return weights, masks


def test_factor_scales_survival() -> None:
    rng = np.random.default_rng(0)
    weights, masks = _parent(rng)
    p = synaptic.synapse_probabilities(weights, masks)
    expected = sum(float(q.sum()) for q in p)
    for factor in (1.0, 0.5):
        kept = [
            sum(int(m.sum()) for m in synaptic.synthesize(masks, p, factor, rng)) for _ in range(40)
        ]
        assert np.mean(kept) == pytest.approx(factor * expected, rel=0.03)
    assert synaptic.expected_synapses(p, None, masks, 0.5) == pytest.approx(0.5 * expected)


def test_removed_synapses_never_come_back() -> None:
    rng = np.random.default_rng(1)
    weights, masks = _parent(rng)
    for _ in range(5):
        p = synaptic.synapse_probabilities(weights, masks)
        child = synaptic.synthesize(masks, p, 0.9, rng)
        assert all(not (c & ~m).any() for c, m in zip(child, masks))
        masks = child
        weights = [w * m for w, m in zip(weights, masks)]


def test_cluster_level_removes_whole_neurons() -> None:
    rng = np.random.default_rng(2)
    weights, masks = _parent(rng)
    sp = synaptic.synapse_probabilities(weights, masks)
    cp = synaptic.cluster_probabilities(weights, masks)
    child = synaptic.synthesize(masks, sp, 0.6, rng, level="cluster", cluster_p=cp)
    for layer in range(2):
        rows = child[layer].any(axis=1)
        assert 0 < rows.sum() < rows.size  # some neurons removed, some kept
        for j in np.flatnonzero(~rows):  # a removed neuron has no incoming or outgoing synapse
            assert not child[layer + 1][:, j].any()
        inputs = child[layer - 1].any(axis=1) if layer else np.ones(20, dtype=bool)
        for j in np.flatnonzero(rows):  # a kept neuron keeps every synapse from kept inputs
            assert np.array_equal(child[layer][j], inputs)
    assert child[2].any(axis=1).all()  # output neurons are never removed
    assert synaptic.alive_neurons(child) == [int(child[i].any(axis=1).sum()) for i in range(2)]


def test_factor_for_target_follows_a_geometric_path() -> None:
    rng = np.random.default_rng(3)
    weights, masks = _parent(rng)
    sp = synaptic.synapse_probabilities(weights, masks)
    current = float(sum(m.sum() for m in masks))
    factor = synaptic.factor_for_target(
        lambda f: synaptic.expected_synapses(sp, None, masks, f), current, current / 64, 3
    )
    assert 0 < factor < 1
    assert synaptic.expected_synapses(sp, None, masks, factor) == pytest.approx(
        current / 4, rel=1e-3
    )
    with pytest.raises(ValueError, match="factor"):
        synaptic.synthesize(masks, sp, 1.5, rng)


def test_env_exposes_ancestor_and_trained_weights() -> None:
    env = gym.make(ENV, budget=2, **FAST)
    unwrapped: Any = env.unwrapped
    env.reset(seed=0)
    ancestor = unwrapped.ancestor_weights()
    assert [w.shape for w, _ in ancestor] == [(256, 64), (256, 256), (10, 256)]
    space = unwrapped.search_space
    genome = space.sample(np.random.default_rng(0))
    _, _, _, _, info = env.step(genome)
    trained = unwrapped.trained_weights(info["evaluation_id"])
    masks = space.masks(genome)
    assert all(not w[~m].any() for (w, _), m in zip(trained, masks))  # removed stay zero
    assert info["costs"]["synapses"] == sum(int((w != 0).sum()) for w, _ in trained)
    assert info["architecture"]["extra"]["init"] == {"from": "ancestor"}
    child = genome.copy()
    child[np.flatnonzero(child)[:100]] = 0
    _, _, _, _, info2 = env.step(child)
    assert info2["architecture"]["extra"]["init"]["from"] == "parent"  # inherits from genome
    with pytest.raises(ValueError, match="evaluation_id"):
        unwrapped.trained_weights("nope")


def _run(tmp_path, name: str, budget: int = 3, **config):
    return run_agent(
        "evo-synthesis",
        ENV,
        budget=budget,
        seed=5,
        out_dir=tmp_path / name,
        env_kwargs=FAST,
        agent_config={"offspring": 1, **config},
        resume=False,
    ).record.evaluations


def test_agent_spends_the_budget_deterministically_and_shrinks(tmp_path) -> None:
    first = _run(tmp_path, "a", level="synapse")
    second = _run(tmp_path, "b", level="synapse")
    assert len(first) == 3
    assert [e.reward for e in first] == [e.reward for e in second]
    counts = [e.metrics["mask_synapses"] for e in first]
    assert counts == sorted(counts, reverse=True) and counts[-1] < 84_480
    assert all(e.architecture["extra"]["init"]["from"] == "parent" for e in first[1:])


def test_agent_group_variant_with_constant_factor(tmp_path) -> None:
    evaluations = _run(tmp_path, "g", budget=4, offspring=2, factor=0.5, level="cluster")
    assert len(evaluations) == 4
    assert all(e.metrics["clusters"] < 512 for e in evaluations)


def test_agent_on_a_space_without_masks_fails_with_one_line(tmp_path) -> None:
    with pytest.raises(ValueError) as info:
        run_agent("evo-synthesis", "darwin_bench/Digits-MLP-v0", budget=2, seed=0, out_dir=tmp_path)
    message = str(info.value)
    assert "\n" not in message and "Digits-Synapses-v0" in message


def test_bad_config_names_the_field() -> None:
    from baselines import make_agent

    with pytest.raises(ValueError, match="level"):
        make_agent("evo-synthesis", {"level": "neuron"})
    with pytest.raises(ValueError, match="factor"):
        make_agent("evo-synthesis", {"factor": 0.0})


def test_path_goal_is_an_equal_ratio_step() -> None:
    assert synaptic.path_goal(1000.0, 10.0, 2) == pytest.approx(100.0)
    assert synaptic.path_goal(1000.0, 10.0, 1) == pytest.approx(10.0)
    assert synaptic.path_goal(5.0, 10.0, 3) == pytest.approx(5.0)  # already under the target


def test_live_synapses_drops_dead_neurons() -> None:
    masks = [np.ones((3, 2), dtype=bool), np.ones((2, 3), dtype=bool)]
    assert synaptic.live_synapses(masks) == 12
    masks[1][:, 0] = False  # hidden neuron 0 has no outgoing synapse: its 2 inputs are dead too
    assert synaptic.live_synapses(masks) == 8
    masks[0][1] = False  # hidden neuron 1 has no incoming synapse: its 2 outputs are dead too
    assert synaptic.live_synapses(masks) == 4


def test_expected_live_synapses_hand_computed() -> None:
    # input -> 1 hidden neuron -> output: both synapses are live only when both are kept.
    masks = [np.ones((1, 1), dtype=bool), np.ones((1, 1), dtype=bool)]
    sp = [np.array([[0.5]]), np.array([[0.8]])]
    assert synaptic.expected_synapses(sp, None, masks, 1.0) == pytest.approx(1.3)
    assert synaptic.expected_live_synapses(sp, None, masks, 1.0) == pytest.approx(2 * 0.4)
    # Counted in weights: each entry of the first layer stands for 9.
    assert synaptic.expected_live_synapses(sp, None, masks, 1.0, entry_weights=[9, 1]) == (
        pytest.approx(10 * 0.4)
    )


@pytest.mark.parametrize("level", synaptic.LEVELS)
def test_expected_live_synapses_match_synthesized_offspring(level: str) -> None:
    """The F(E) path aims with this: it must predict live_synapses of real draws, also where
    unstructured removal kills neurons (where expected_synapses over-counts), at the sizes of
    one path step (keeping at least a tenth; the Digits path keeps ~38% per generation)."""
    rng = np.random.default_rng(5)
    weights, masks = _parent(rng)
    sp = synaptic.synapse_probabilities(weights, masks)
    cp = synaptic.cluster_probabilities(weights, masks)
    total = synaptic.count_weights(masks)
    checked = 0
    for factor in (0.8, 0.5, 0.3):
        predicted = synaptic.expected_live_synapses(sp, cp, masks, factor, level)
        assert predicted <= synaptic.expected_synapses(sp, cp, masks, factor, level) + 1e-9
        if predicted < total / 10:
            continue
        drawn = [
            synaptic.live_synapses(
                synaptic.synthesize(masks, sp, factor, rng, level=level, cluster_p=cp)
            )
            for _ in range(300)
        ]
        assert predicted == pytest.approx(np.mean(drawn), rel=0.06)
        checked += 1
    assert checked >= 1


def test_synthesize_within_keeps_the_largest_draw_under_the_cap() -> None:
    rng = np.random.default_rng(4)
    weights, masks = _parent(rng)
    sp = synaptic.synapse_probabilities(weights, masks)
    cp = synaptic.cluster_probabilities(weights, masks)
    args = (masks, sp, 0.7)
    kwargs: dict[str, Any] = {"level": "cluster", "cluster_p": cp}
    plain = [synaptic.live_synapses(synaptic.synthesize(*args, rng, **kwargs)) for _ in range(30)]
    cap = float(np.median(plain))
    for _ in range(5):
        child = synaptic.synthesize_within(
            *args,
            rng,
            cap=cap,
            draws=30,
            **kwargs,
        )
        count = synaptic.live_synapses(child)
        assert count <= cap and count >= np.percentile(plain, 25)
        assert all(not (c & ~m).any() for c, m in zip(child, masks))
    one = synaptic.synthesize_within(*args, np.random.default_rng(9), cap=cap, **kwargs)
    same = synaptic.synthesize(*args, np.random.default_rng(9), **kwargs)
    assert all(np.array_equal(a, b) for a, b in zip(one, same))  # draws=1 is plain synthesis
    with pytest.raises(ValueError, match="draws"):
        synaptic.synthesize_within(*args, rng, cap=cap, draws=0, **kwargs)


def test_path_selection_meets_the_target_at_the_target_generation() -> None:
    from baselines.base import EnvFactory
    from baselines.evo_synthesis import EvoSynthesis, EvoSynthesisConfig

    agent = EvoSynthesis(
        EvoSynthesisConfig(offspring=2, selection="path", draws=20, target_generation=2)
    )
    agent.run(EnvFactory(ENV, {"budget": 4, **FAST}, []), seed=3)
    counts = [g.synapses for g in agent.generations]
    assert len(counts) == 3 and counts[0] == 84_480
    assert 1760 / 2 < agent.generations[-1].info["costs"]["synapses"] <= 1760
    assert counts[1] <= 84_480 * (1760 / 84_480) ** 0.5  # generation 1 is on the path


def test_synapse_level_path_lands_at_the_target_in_live_synapses() -> None:
    """At the synapse level dead neurons make live synapses fewer than mask entries; the path
    aims in live synapses, so the last generation lands near the target, not far under it."""
    from baselines.base import EnvFactory
    from baselines.evo_synthesis import EvoSynthesis, EvoSynthesisConfig

    config = EvoSynthesisConfig(
        offspring=2, level="synapse", selection="path", draws=20, target_generation=2
    )
    agent = EvoSynthesis(config)
    agent.run(EnvFactory(ENV, {"budget": 4, **FAST}, []), seed=3)
    live = agent.generations[-1].info["costs"]["synapses"]
    assert 0.8 * 0.95 * 1760 <= live <= 1760


def test_bad_selection_or_draws_names_the_field() -> None:
    from baselines import make_agent

    with pytest.raises(ValueError, match="selection"):
        make_agent("evo-synthesis", {"selection": "best"})
    with pytest.raises(ValueError, match="draws"):
        make_agent("evo-synthesis", {"draws": 0})


def test_selection_never_keeps_a_degenerate_child() -> None:
    """A child scoring the bottom of the score range (e.g. a constant saliency map, F-beta 0)
    ranks below any informative child, on the path or not, and below nothing but failures."""
    from baselines.evo_synthesis import EvoSynthesis, EvoSynthesisConfig

    agent = EvoSynthesis(EvoSynthesisConfig(selection="path"))

    def info(score: float, spent: float, status: str = "ok") -> dict[str, Any]:
        return {"status": status, "objectives": {"score": score}, "costs": {"synapses": spent}}

    def key(i: dict[str, Any]) -> tuple[float, ...]:
        return agent._key(i, 0.0, "synapses", None, cap=100.0, floor=0.0)

    degenerate_on_path, informative_off_path = info(0.0, 90.0), info(0.4, 150.0)
    assert key(informative_off_path) > key(degenerate_on_path)
    assert key(degenerate_on_path)[0] == 0.0  # not selectable
    assert key(info(0.3, 90.0)) > key(informative_off_path)  # on the path first among usable
    reward_agent = EvoSynthesis(EvoSynthesisConfig(selection="reward"))
    assert reward_agent._key(info(0.0, 10.0), 0.9, "synapses", None, 100.0, 0.0)[0] == 0.0


class _DegenerateSecondStep(gym.Wrapper):
    """Reports the env's second evaluation as degenerate (score at the range's bottom)."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.steps = 0
        self.degenerate: list[str] = []

    def step(self, action: Any) -> Any:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.steps += 1
        if self.steps == 2:
            info = {**info, "objectives": {**info["objectives"], "score": 0.0}}
            self.degenerate.append(info["evaluation_id"])
        return obs, reward, terminated, truncated, info


def test_a_generation_of_degenerate_children_is_synthesized_again() -> None:
    from baselines.base import EnvFactory
    from baselines.evo_synthesis import EvoSynthesis, EvoSynthesisConfig
    from envs.helpers import helpers

    wrapped: list[_DegenerateSecondStep] = []

    class Factory(EnvFactory):
        def make(self) -> gym.Env:
            wrapped.append(_DegenerateSecondStep(super().make()))
            return wrapped[0]

    agent = EvoSynthesis(EvoSynthesisConfig(offspring=1, level="synapse", factor=0.5))
    agent.run(Factory(ENV, {"budget": 3, **FAST}, []), seed=1)
    assert helpers(wrapped[0], "synapses").score_range == (0.0, 1.0)
    chosen = [g.evaluation_id for g in agent.generations[1:]]
    assert len(chosen) == 2 and wrapped[0].degenerate[0] not in chosen  # generation 2 again
    assert [g.generation for g in agent.generations] == [0, 1, 2]
