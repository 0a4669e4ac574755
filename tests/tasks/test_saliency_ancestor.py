"""Saliency-Synapses-v0: kernel masks over a trained chain FCN, and evo-synthesis on it."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import darwin_bench  # noqa: F401  (registers the envs)
from baselines.base import EnvFactory
from baselines.evo_synthesis import EvoSynthesis, EvoSynthesisConfig
from baselines.runner import run_agent
from darwin_bench import synaptic
from darwin_bench.costs import count_clusters, count_params, count_synapses
from darwin_bench.tasks.saliency_ancestor import SaliencyAncestorTask

ENV = "darwin_bench/Saliency-Synapses-v0"
FAST = {"epochs": 1, "measure_latency": False, "task_kwargs": {"scenes": 60, "ancestor_epochs": 2}}
WEIGHTS = 16 * 3 * 9 + 32 * 16 * 9 + 16 * 32 * 9 + 16 * 16 * 9 + 16  # 11,968


@pytest.fixture(scope="module")
def task() -> SaliencyAncestorTask:
    return SaliencyAncestorTask(scenes=60, ancestor_epochs=2, epochs=1)


def test_kernel_masks_form_a_chain_and_count_weights(task: SaliencyAncestorTask) -> None:
    space = task.space
    assert space.shapes == ((16, 3), (32, 16), (16, 32), (16, 16), (1, 16))
    assert space.entry_weights == (9, 9, 9, 9, 1)
    for (_, cols), (rows, _) in zip(space.shapes[1:], space.shapes[:-1]):
        assert cols == rows  # a layer's inputs are the previous layer's outputs
    genome = space.full()
    genome[5 * 3 : 5 * 3 + 3] = 0  # kernels from the 3 colours into channel 5 of conv 1
    assert count_synapses(task.build(space.decode(genome))) == WEIGHTS - 3 * 9 - 32 * 9
    result = task.fit(space.decode(genome), seed=0, fidelity={"epochs": 1})
    # Channel 5 lost its inputs, so its outgoing kernels are dead too; the rest stay.
    assert count_synapses(result.model) == WEIGHTS - 3 * 9 - 32 * 9
    assert result.metrics["mask_synapses"] == space.size - 3
    assert count_clusters(result.model) == (16 + 32 + 16 + 16 + 1 - 1,) * 2  # compact: 15 there


def test_removing_channels_lowers_params_and_flops(tmp_path) -> None:
    env = gym.make(ENV, budget=2, **FAST)
    env.reset(seed=0)
    space = env.unwrapped.search_space  # type: ignore[attr-defined]
    _, _, _, _, full = env.step(space.full())
    masks = space.masks(space.full())
    masks[1][:8] = False  # 8 of the 32 channels of conv 2 lose every input kernel
    _, _, _, _, info = env.step(space.flatten(masks))
    assert info["status"] == "ok"
    assert info["costs"]["clusters"] == full["costs"]["clusters"] - 8
    # The compact FCN has 24 channels there: conv 2 loses 8 filters, conv 3 their inputs.
    lost = 8 * 16 * 9 + 8 + 16 * 8 * 9
    assert info["costs"]["params"] == full["costs"]["params"] - lost
    assert info["costs"]["flops"] < full["costs"]["flops"]
    assert info["costs"]["synapses"] == full["costs"]["synapses"] - 8 * 16 * 9 - 16 * 8 * 9


def test_all_zero_mask_is_a_failed_evaluation_with_costs(task: SaliencyAncestorTask) -> None:
    env = gym.make(ENV, budget=2, **FAST)
    env.reset(seed=0)
    space = env.unwrapped.search_space  # type: ignore[attr-defined]
    _, reward, _, _, info = env.step(np.zeros(space.size, dtype=np.int8))
    assert info["status"] == "failed"
    assert info["reason"].startswith("EmptyLayerError: hidden layer 1 has no live neuron")
    assert info["costs"]["synapses"] == 0 and info["costs"]["params"] > 0  # measured anyway
    assert reward == 0.0
    _, _, _, _, info = env.step(space.full())  # the search goes on
    assert info["status"] == "ok"


def test_ancestor_and_trained_weights_are_kernel_strengths(task: SaliencyAncestorTask) -> None:
    weights = task.ancestor_weights()
    assert [w.shape for w, _ in weights] == list(task.space.shapes)
    assert all((w >= 0).all() and (w > 0).any() for w, _ in weights)
    assert 0.0 <= task.ancestor_metrics()["f_beta"] <= 1.0
    rng = np.random.default_rng(0)
    genome = (rng.random(task.space.size) < 0.5).astype(np.int8)
    arch = task.space.decode(genome)
    trained = task.trained_weights(arch, 3, {"epochs": 1})
    live = synaptic.live_masks(task.space.masks(genome))  # dead channels' kernels are gone
    assert all(((w != 0) == m).all() for (w, _), m in zip(trained, live))
    assert task.trained_weights(arch, 3, {"epochs": 1})[1][0] == pytest.approx(trained[1][0])


def test_env_offspring_inherit_from_their_parent() -> None:
    env = gym.make(ENV, budget=3, **FAST)
    env.reset(seed=0)
    unwrapped = env.unwrapped
    genome = unwrapped.search_space.full()  # type: ignore[attr-defined]
    genome[100:200] = 0
    _, _, _, _, info = env.step(genome)
    assert info["architecture"]["extra"]["init"] == {"from": "ancestor"}
    assert {"f_beta", "mae", "mask_synapses"} <= set(info["metrics"])
    child = genome.copy()
    child[300:400] = 0
    _, _, _, _, info2 = env.step(child)
    assert info2["architecture"]["extra"]["init"]["from"] == "parent"
    assert info2["costs"]["synapses"] < info["costs"]["synapses"]
    assert unwrapped.cost_target == ("synapses", pytest.approx(WEIGHTS / 48))  # type: ignore[attr-defined]


@pytest.mark.parametrize("level", ["synapse", "cluster"])
def test_generation_4_reaches_the_target_in_weights(level: str) -> None:
    agent = EvoSynthesis(EvoSynthesisConfig(offspring=2, selection="path", draws=30, level=level))
    # Budget for 4 generations of 2 and retries: a generation whose children are all degenerate
    # (constant maps after 1 epoch) is synthesized again; the run stops at generation 4.
    agent.run(EnvFactory(ENV, {"budget": 16, **FAST}, []), seed=3)
    last = agent.generations[4]
    assert all(g.info["metrics"]["f_beta"] > 0 for g in agent.generations[1:])
    target = WEIGHTS / 48
    # Path, cap and target are all counted in weights: generation 4 is at 48x or beyond, and
    # not far beyond (the path's last step aims just under the target).
    assert target / 3 < last.info["costs"]["synapses"] <= target
    assert last.synapses == last.info["costs"]["synapses"]


def test_cluster_synthesis_at_a_small_factor_fails_evaluations_not_the_search(tmp_path) -> None:
    result = run_agent(
        "evo-synthesis",
        ENV,
        budget=4,
        seed=5,
        out_dir=tmp_path,
        env_kwargs=FAST,
        agent_config={"offspring": 2, "level": "cluster", "factor": 0.02},
        resume=False,
    )
    evaluations = result.record.evaluations
    assert len(evaluations) == 4
    failed = [e for e in evaluations if e.status == "failed"]
    assert failed and all("EmptyLayerError" in e.reason for e in failed)
    assert all("synapses" in e.costs for e in failed)


@pytest.mark.parametrize("level", ["synapse", "cluster"])
def test_evo_synthesis_runs_unchanged_and_shrinks(tmp_path, level: str) -> None:
    def run(name: str) -> list:
        return run_agent(
            "evo-synthesis",
            ENV,
            budget=3,
            seed=5,
            out_dir=tmp_path / name,
            env_kwargs=FAST,
            agent_config={"offspring": 1, "level": level},
            resume=False,
        ).record.evaluations

    first, second = run("a"), run("b")
    assert [e.reward for e in first] == [e.reward for e in second]
    # Every child is a subset of its parent; a generation of degenerate children is synthesized
    # again from the same parent, so counts shrink along the lineage, not evaluation by evaluation.
    counts = {e.architecture["extra"].get("mask", ""): e.metrics["mask_synapses"] for e in first}
    for e in first[1:]:
        parent = e.architecture["extra"]["init"]
        assert parent["from"] == "parent"
    assert max(counts.values()) < 1344 and min(counts.values()) < max(counts.values())


def test_compact_network_is_smaller_than_the_masked_ancestor(task: SaliencyAncestorTask) -> None:
    genome = task.space.full()
    masks = task.space.masks(genome)
    masks[0][:4] = False  # 4 channels of conv 1 lose their inputs
    model = task.build(task.space.decode(task.space.flatten(masks)))
    assert count_params(model) < count_params(task.build(task.space.decode(genome)))
