"""Pruning baselines of ``reproduce darwin`` (seed 000) and the generation rows they share.

Each pruner maps ``(masks, weights, keep, rng)`` to a subset of ``masks`` with about ``keep``
synapses. The per-synapse pruners (``random``, ``magnitude``) are the baselines of the seed
paper's synapse-level model; the whole-neuron pruners (``random-neurons``,
``magnitude-neurons``) those of the follow-up's cluster-driven variant
(:data:`LEVEL_BASELINES`). :func:`run_baseline` prunes stage by stage to evo-synthesis's
*live* synapse counts (dead neurons not counted) at its training compute.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

import darwin_bench  # noqa: F401  (registers the envs)
from darwin_bench import synaptic
from envs import framework

Masks = list[np.ndarray]
Pruner = Callable[[Masks, list[np.ndarray], int, np.random.Generator], Masks]


def generation_row(
    generation: int, info: dict[str, Any], test_metrics: dict[str, float]
) -> dict[str, Any]:
    """A generation's row from its step ``info`` and its record's test metrics.

    ``synapses`` are the live weights of the network as costed (dead neurons removed),
    ``mask_synapses`` the mask's entries, ``clusters`` its hidden neurons.
    """
    return {
        "generation": generation,
        "synapses": int(info["costs"]["synapses"]),
        "clusters": int(info["metrics"]["clusters"]),
        "test_accuracy": round(float(test_metrics["test_accuracy"]), 4),
        "latency_ms": round(float(info["costs"]["latency_ms"]), 4),
        "mask_synapses": int(info["metrics"]["mask_synapses"]),
        "val_accuracy": round(float(info["metrics"]["accuracy"]), 4),
    }


def prune_random(
    masks: Masks, weights: list[np.ndarray], keep: int, rng: np.random.Generator
) -> Masks:
    """Keep ``keep`` surviving synapses chosen uniformly at random."""
    flat = np.concatenate([m.ravel() for m in masks])
    alive = np.flatnonzero(flat)
    out = np.zeros_like(flat)
    out[rng.permutation(alive)[: min(keep, alive.size)]] = True  # nested in keep for one seed
    return _split(out, masks)


def prune_magnitude(
    masks: Masks, weights: list[np.ndarray], keep: int, rng: np.random.Generator
) -> Masks:
    """Keep the ``keep`` surviving synapses of largest ``|w|`` (global, across layers)."""
    flat = np.concatenate([m.ravel() for m in masks])
    score = np.concatenate([np.abs(w).ravel() for w in weights])
    score = np.where(flat, score, -1.0)
    out = np.zeros_like(flat)
    out[np.argsort(-score, kind="stable")[: min(keep, int(flat.sum()))]] = True
    return _split(out, masks)


def _prune_neurons(masks: Masks, keep: int, order: np.ndarray) -> Masks:
    """Remove hidden neurons in ``order`` (pairs ``(layer, index)``) until ``<= keep`` synapses
    remain, never a layer's last live neuron (that would disconnect the output)."""
    out = [m.copy() for m in masks]
    alive = [int(m.any(axis=1).sum()) for m in out[:-1]]
    for layer, index in order:
        if sum(int(m.sum()) for m in out) <= keep:
            break
        if alive[layer] <= 1 or not out[layer][index].any():
            continue
        out[layer][index, :] = False
        out[layer + 1][:, index] = False
        alive[layer] -= 1
    return out


def _neurons(masks: Masks) -> list[tuple[int, int]]:
    return [(li, int(j)) for li, m in enumerate(masks[:-1]) for j in np.flatnonzero(m.any(axis=1))]


def prune_random_neurons(
    masks: Masks, weights: list[np.ndarray], keep: int, rng: np.random.Generator
) -> Masks:
    """Remove hidden neurons chosen uniformly at random until ``keep`` synapses remain."""
    neurons = _neurons(masks)
    order = [neurons[i] for i in rng.permutation(len(neurons))]
    return _prune_neurons(masks, keep, np.array(order, dtype=int).reshape(-1, 2))


def prune_magnitude_neurons(
    masks: Masks, weights: list[np.ndarray], keep: int, rng: np.random.Generator
) -> Masks:
    """Remove the hidden neurons of smallest incoming L1 norm (relative to their layer's
    largest) until ``keep`` synapses remain."""
    neurons = _neurons(masks)
    scores = []
    for layer, index in neurons:
        sums = np.abs(weights[layer] * masks[layer]).sum(axis=1)
        scores.append(sums[index] / max(float(sums.max()), 1e-12))
    order = [neurons[i] for i in np.argsort(scores, kind="stable")]
    return _prune_neurons(masks, keep, np.array(order, dtype=int).reshape(-1, 2))


BASELINES: dict[str, Pruner] = {
    "random": prune_random,
    "magnitude": prune_magnitude,
    "random-neurons": prune_random_neurons,
    "magnitude-neurons": prune_magnitude_neurons,
}


#: Pruners that draw at random (the others are deterministic given the weights).
STOCHASTIC: tuple[Pruner, ...] = (prune_random, prune_random_neurons)


def _split(flat: np.ndarray, like: Masks) -> Masks:
    out, start = [], 0
    for m in like:
        out.append(flat[start : start + m.size].reshape(m.shape).astype(bool))
        start += m.size
    return out


#: Per evo-synthesis level, the pruners it is compared with.
LEVEL_BASELINES: dict[str, tuple[str, ...]] = {
    "synapse": ("random", "magnitude"),
    "cluster": ("random-neurons", "magnitude-neurons"),
    "cluster+synapse": tuple(BASELINES),
}


def _prune_to_live(
    pruner: Pruner, parent: Masks, weights: list[np.ndarray], count: int, rng: np.random.Generator
) -> Masks:
    """``pruner`` asked for ``count`` synapses; when that leaves dead neurons (fewer than
    ``count`` live synapses), the largest request whose *live* synapses are at most ``count``
    (bisection; a random pruner redraws from one derived generator per request, so its
    prunings are nested and the live count grows with the request)."""
    child = pruner(parent, weights, count, rng)
    if synaptic.live_synapses(child) >= count:
        return child
    seed = int(rng.integers(2**63))
    lo, hi = count, synaptic.count_weights(parent)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        trial = pruner(parent, weights, mid, np.random.default_rng(seed))
        if synaptic.live_synapses(trial) <= count:
            lo, child = mid, trial
        else:
            hi = mid - 1
    return child


def run_baseline(
    pruner: Pruner,
    counts: list[int],
    *,
    env_id: str,
    env_kwargs: dict[str, Any],
    epochs: int,
    seed: int,
    candidates: int = 1,
) -> list[dict[str, Any]]:
    """Prune stage by stage to ``counts`` live synapses, retraining each stage like an offspring.

    Each stage starts from the previous stage's trained weights and gets the training compute
    of one evo-synthesis generation (``candidates`` offspring of ``epochs`` epochs): a random
    pruner draws ``candidates`` prunings and keeps the one with the highest validation accuracy
    (as evo-synthesis selects); a deterministic pruner (magnitude) has one pruning and trains
    it ``candidates * epochs`` epochs. Prunings count live synapses (those of neurons the
    parent still uses); when unstructured pruning leaves dead neurons, the pruner is asked for
    more synapses until the live count is the largest at most the stage's count. A pruning that
    fails (e.g. empties a layer) is never kept; when every pruning of a stage fails, the
    series ends with a row ``{"generation", "failed": reason}``.
    """
    draws = candidates if pruner in STOCHASTIC else 1
    stage_epochs = epochs if pruner in STOCHASTIC else epochs * candidates
    kwargs = {**env_kwargs, "budget": len(counts) * draws, "epochs": stage_epochs}
    env = gym.make(env_id, **kwargs)
    unwrapped: Any = env.unwrapped
    records: dict[str, Any] = {}
    framework.add_recorder(env, lambda e: records.setdefault(e.evaluation_id, e))
    space = unwrapped.search_space
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    masks = space.masks(space.full())
    weights = [w for w, _ in unwrapped.ancestor_weights()]
    rows = []
    for generation, count in enumerate(counts, start=1):
        parent = synaptic.live_masks([m & (w != 0) for m, w in zip(masks, weights)])
        best: tuple[tuple[float, ...], Masks, dict[str, Any]] | None = None
        for _ in range(draws):
            child = _prune_to_live(pruner, parent, weights, count, rng)
            _, _, _, _, info = env.step(space.flatten(child))
            ok = float(info["status"] == "ok")
            key = (ok, float(info["objectives"]["score"]), -float(info["costs"]["synapses"]))
            if best is None or key > best[0]:
                best = (key, child, info)
        assert best is not None
        _, masks, info = best
        if info["status"] != "ok":  # every pruning failed (e.g. an emptied layer): series ends
            rows.append({"generation": generation, "failed": info.get("reason", "failed")})
            break
        weights = [w for w, _ in unwrapped.trained_weights(info["evaluation_id"])]
        rows.append(generation_row(generation, info, records[info["evaluation_id"]].test_metrics))
    env.close()
    return rows
