"""Synaptic probability models, the environmental factor model, and offspring synthesis.

Seed 000 (Shafiee, Mishra & Wong, "Deep Learning with Darwin") encodes a trained network's
architecture as the probability that each synapse survives into an offspring (its "DNA"):

- ``"exp"`` (default): ``P(s_k | w_k) = exp(|w_k| / Z - 1)`` with ``Z = max |w|`` of the layer,
  so ``P`` lies in ``[1/e, 1]``.
- ``"exp-ln2"``: ``P(s_k | w_k) = exp(|w_k| / Z) - 1`` with ``Z = max |w| / ln 2``, so ``P``
  lies in ``[0, 1]`` (much more aggressive: small weights almost never survive).

The environmental factor ``F(E)`` in ``(0, 1]`` scales the model: an offspring keeps synapse
``k`` with probability ``F(E) * P(s_k | w_k)``; a removed synapse never comes back.

The cluster-level model (synaptic cluster-driven encoding, arXiv 1609.01360) treats each hidden
neuron as a cluster: its strength is the sum of ``|w|`` over its incoming synapses (its weight
row), turned into a survival probability by the same formula with ``Z`` the largest strength of
the layer. A neuron that does not survive loses its incoming and outgoing synapses.

Weights and masks are per-layer arrays shaped like PyTorch's ``Linear.weight``:
``(out_features, in_features)``, the output layer last.

**Units.** Counts are in connection weights, the unit of ``costs["synapses"]`` and of a
synapse target. A mask entry may stand for several weights: one for a dense layer, ``k*k`` for
a convolution kernel (the ``fcn-synapses`` space masks whole kernels). Functions that count
take ``entry_weights``, the weights one mask entry stands for, per layer (``None``: 1 each);
a space gives it as ``space.entry_weights``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from darwin_bench.validation import check_choice

#: Probability model forms (see the module docstring).
FORMS: tuple[str, ...] = ("exp", "exp-ln2")
#: Synthesis levels: synapses only, whole clusters only, or clusters then synapses inside.
LEVELS: tuple[str, ...] = ("synapse", "cluster", "cluster+synapse")

Masks = list[np.ndarray]


def _entry_weights(masks: Sequence[np.ndarray], entry_weights: Sequence[int] | None) -> list[int]:
    if entry_weights is None:
        return [1] * len(masks)
    if len(entry_weights) != len(masks):
        raise ValueError(
            f"entry_weights must give one count per layer ({len(masks)}); got {list(entry_weights)}"
        )
    return [int(u) for u in entry_weights]


def count_weights(masks: Sequence[np.ndarray], entry_weights: Sequence[int] | None = None) -> int:
    """Connection weights that ``masks`` keep (every kept entry times its layer's weights)."""
    units = _entry_weights(masks, entry_weights)
    return int(sum(int(np.count_nonzero(m)) * u for m, u in zip(masks, units)))


def probability(strength: np.ndarray, form: str = "exp") -> np.ndarray:
    """Survival probability of each entry of ``strength`` (``|w|`` or a cluster's sum of ``|w|``).

    ``Z`` is the largest strength; entries with zero strength that are the only ones
    (an all-zero array) get probability 0. Callers zero out removed entries afterwards.

    Raises:
        ValueError: for an unknown ``form``.
    """
    check_choice("form", form, FORMS)
    strength = np.abs(np.asarray(strength, dtype=np.float64))
    z = float(strength.max()) if strength.size else 0.0
    if z <= 0.0:
        return np.zeros_like(strength)
    if form == "exp":
        return np.exp(strength / z - 1.0)
    return np.exp(strength / (z / math.log(2.0))) - 1.0


def synapse_probabilities(
    weights: Sequence[np.ndarray], masks: Sequence[np.ndarray], form: str = "exp"
) -> list[np.ndarray]:
    """``P(s_k | w_k)`` for every synapse, per layer (``Z`` per layer); removed synapses get 0."""
    out = []
    for w, m in zip(weights, masks):
        alive = np.asarray(m, dtype=bool)
        p = probability(np.where(alive, np.abs(w), 0.0), form)
        out.append(np.where(alive, p, 0.0))
    return out


def cluster_probabilities(
    weights: Sequence[np.ndarray], masks: Sequence[np.ndarray], form: str = "exp"
) -> list[np.ndarray]:
    """Survival probability of every hidden neuron, per hidden layer (the output layer has none).

    A neuron's strength is the sum of ``|w|`` over its surviving incoming synapses; ``Z`` is the
    largest strength of its layer. Dead neurons (no incoming synapse) get 0.
    """
    out = []
    for w, m in zip(weights[:-1], masks[:-1]):
        strength = np.where(np.asarray(m, dtype=bool), np.abs(w), 0.0).sum(axis=1)
        p = probability(strength, form)
        out.append(np.where(strength > 0, p, 0.0))
    return out


def _keep_probabilities(
    synapse_p: Sequence[np.ndarray],
    cluster_p: Sequence[np.ndarray] | None,
    masks: Sequence[np.ndarray],
    factor: float,
    level: str,
) -> tuple[list[np.ndarray], list[np.ndarray] | None]:
    """Per-synapse keep probabilities (inside surviving clusters) and per-neuron ones."""
    scale_synapses = level in ("synapse", "cluster+synapse")
    syn = [
        np.minimum(1.0, factor * p) if scale_synapses else np.asarray(m, dtype=np.float64)
        for p, m in zip(synapse_p, masks)
    ]
    if level == "synapse" or cluster_p is None:
        return syn, None
    return syn, [np.minimum(1.0, factor * p) for p in cluster_p]


def _synapse_keep(
    p: np.ndarray, mask: np.ndarray, clusters: Sequence[np.ndarray] | None, i: int
) -> np.ndarray:
    """Keep probability of each synapse of layer ``i``: its own draw, its mask and the cluster
    draws of the neurons at both ends."""
    q = p * np.asarray(mask, dtype=bool)
    if clusters is not None:
        if i < len(clusters):
            q = q * clusters[i][:, None]
        if i > 0:
            q = q * clusters[i - 1][None, :]
    return q


def expected_synapses(
    synapse_p: Sequence[np.ndarray],
    cluster_p: Sequence[np.ndarray] | None,
    masks: Sequence[np.ndarray],
    factor: float,
    level: str = "synapse",
    entry_weights: Sequence[int] | None = None,
) -> float:
    """Expected number of surviving weights of an offspring synthesized with ``factor``."""
    syn, clusters = _keep_probabilities(synapse_p, cluster_p, masks, factor, level)
    units = _entry_weights(masks, entry_weights)
    total = 0.0
    for i, (p, m, unit) in enumerate(zip(syn, masks, units)):
        q = _synapse_keep(p, m, clusters, i)
        total += unit * float(q.sum())
    return total


def _any_kept(p: np.ndarray, axis: int) -> np.ndarray:
    """Probability that at least one entry along ``axis`` is kept (independent entries)."""
    return 1.0 - np.prod(1.0 - np.clip(p, 0.0, 1.0), axis=axis)


def expected_live_synapses(
    synapse_p: Sequence[np.ndarray],
    cluster_p: Sequence[np.ndarray] | None,
    masks: Sequence[np.ndarray],
    factor: float,
    level: str = "synapse",
    entry_weights: Sequence[int] | None = None,
) -> float:
    """Expected number of *live* weights of an offspring (:func:`live_synapses`'s count).

    A kept synapse is live when its source neuron (if hidden) keeps an incoming synapse and its
    destination neuron (if hidden) keeps an outgoing one. Given that both neurons survive as
    clusters, these events involve disjoint synapses, so for synapse ``(l, j)`` of layer ``i``:
    ``E = q[l, j] * P(j has an input) * P(l has an output)``, with ``q`` the synapse's keep
    probability (:func:`expected_synapses`'s term). Second-order deaths (a neuron whose only
    inputs come from neurons that died) are ignored, so this slightly over-counts when many
    neurons die. At the ``synapse`` level, where unstructured removal leaves dead neurons, this
    is what a path in live synapses must aim with; without dead neurons it equals
    :func:`expected_synapses`.
    """
    syn, clusters = _keep_probabilities(synapse_p, cluster_p, masks, factor, level)
    units = _entry_weights(masks, entry_weights)
    # Per layer, the keep probability of each synapse given that its own neurons survive as
    # clusters (the cluster draws of the neurons at both ends are factored out).
    inner = []
    for i, (p, m) in enumerate(zip(syn, masks)):
        q = p * np.asarray(m, dtype=bool)
        if clusters is not None and i > 0:
            q = q * clusters[i - 1][None, :]  # the source's cluster, seen from the destination
        inner.append(q)
    total = 0.0
    for i, (p, m, unit) in enumerate(zip(syn, masks, units)):
        q = _synapse_keep(p, m, clusters, i)
        if i > 0:  # the source is a hidden neuron: it needs a kept input
            q = q * _any_kept(inner[i - 1], axis=1)[None, :]
        if i < len(masks) - 1:  # the destination is hidden: it needs a kept output
            out = syn[i + 1] * np.asarray(masks[i + 1], dtype=bool)
            if clusters is not None and i + 1 < len(clusters):
                out = out * clusters[i + 1][:, None]
            q = q * _any_kept(out, axis=0)[:, None]
        total += unit * float(q.sum())
    return total


def path_goal(current: float, target: float, generations_left: int) -> float:
    """The next step of the geometric path from ``current`` to ``target`` synapses.

    ``current * (target / current) ** (1 / generations_left)``: equal reduction factors per
    generation, reaching ``target`` after ``generations_left`` generations (``current`` when it
    is already at or under ``target``).
    """
    if current <= 0:
        return 0.0
    return current * (min(target, current) / current) ** (1.0 / max(1, generations_left))


def factor_for_target(
    expected: Callable[[float], float],
    current: float,
    target: float,
    generations_left: int,
) -> float:
    """The environmental factor ``F(E)`` derived from a cost target.

    Picks ``F`` in ``(0, 1]`` so that the expected synapse count of the next offspring is
    ``current * (target / current) ** (1 / generations_left)``: a geometric path that reaches
    ``target`` after ``generations_left`` generations. ``expected(F)`` must increase with ``F``.
    When even ``F = 1`` removes too much, ``F = 1`` is returned.
    """
    goal = path_goal(current, target, generations_left)
    if expected(1.0) <= goal:
        return 1.0
    lo, hi = 0.0, 1.0
    for _ in range(50):
        mid = (lo + hi) / 2
        if expected(mid) > goal:
            hi = mid
        else:
            lo = mid
    return max(lo, 1e-6)


def synthesize(
    masks: Sequence[np.ndarray],
    synapse_p: Sequence[np.ndarray],
    factor: float,
    rng: np.random.Generator,
    *,
    level: str = "synapse",
    cluster_p: Sequence[np.ndarray] | None = None,
) -> Masks:
    """Draw one offspring's masks from a parent's masks and synaptic probability model.

    Args:
        masks: the parent's boolean masks, one per layer.
        synapse_p: :func:`synapse_probabilities` of the parent.
        factor: the environmental factor ``F(E)`` in ``(0, 1]``.
        rng: the random generator (the only source of randomness).
        level: ``"synapse"`` keeps synapse ``k`` with ``F * P(s_k)``; ``"cluster"`` keeps each
            hidden neuron with ``F * P(c)`` and all synapses of surviving neurons;
            ``"cluster+synapse"`` keeps neurons with ``F * P(c)``, then synapses inside them with
            ``F * P(s_k)``.
        cluster_p: :func:`cluster_probabilities` of the parent (required for cluster levels).

    Returns:
        The offspring's masks; each is a subset of the parent's (removed synapses stay removed).

    Raises:
        ValueError: for an unknown level, a factor outside ``(0, 1]``, or missing ``cluster_p``.
    """
    check_choice("level", level, LEVELS)
    if not 0.0 < factor <= 1.0:
        raise ValueError(f"factor (F(E)) must be in (0, 1]; got {factor!r}")
    if level != "synapse" and cluster_p is None:
        raise ValueError(f"cluster_p is required for level {level!r}")
    syn, clusters = _keep_probabilities(synapse_p, cluster_p, masks, factor, level)
    keep_neurons = [rng.random(p.shape) < p for p in clusters] if clusters is not None else None
    out: Masks = []
    for i, (p, m) in enumerate(zip(syn, masks)):
        child = np.asarray(m, dtype=bool) & (rng.random(p.shape) < p)
        if keep_neurons is not None:
            if i < len(keep_neurons):
                child &= keep_neurons[i][:, None]
            if i > 0:
                child &= keep_neurons[i - 1][None, :]
        out.append(child)
    return out


def alive_neurons(masks: Sequence[np.ndarray]) -> list[int]:
    """Hidden neurons per hidden layer with at least one incoming and one outgoing synapse."""
    counts = []
    for i in range(len(masks) - 1):
        has_in = np.asarray(masks[i], dtype=bool).any(axis=1)
        has_out = np.asarray(masks[i + 1], dtype=bool).any(axis=0)
        counts.append(int((has_in & has_out).sum()))
    return counts


def live_masks(masks: Sequence[np.ndarray]) -> Masks:
    """``masks`` without the synapses of dead hidden neurons (no incoming or no outgoing synapse),
    repeated until nothing changes: the synapses of the compact network an env trains."""
    ms = [np.asarray(m, dtype=bool).copy() for m in masks]
    changed = True
    while changed:
        changed = False
        for i in range(len(ms) - 1):
            dead = ~(ms[i].any(axis=1) & ms[i + 1].any(axis=0))
            if dead.any() and (ms[i][dead].any() or ms[i + 1][:, dead].any()):
                ms[i][dead] = False
                ms[i + 1][:, dead] = False
                changed = True
    return ms


def live_synapses(masks: Sequence[np.ndarray], entry_weights: Sequence[int] | None = None) -> int:
    """Weights left once dead hidden neurons are removed (:func:`live_masks`).

    This is ``costs["synapses"]`` of the compact network an env trains and costs (up to trained
    weights that happen to be exactly 0).
    """
    return count_weights(live_masks(masks), entry_weights)


def synthesize_within(
    masks: Sequence[np.ndarray],
    synapse_p: Sequence[np.ndarray],
    factor: float,
    rng: np.random.Generator,
    *,
    cap: float,
    draws: int = 1,
    level: str = "synapse",
    cluster_p: Sequence[np.ndarray] | None = None,
    entry_weights: Sequence[int] | None = None,
) -> Masks:
    """One offspring whose size the environment bounds: the best of ``draws`` syntheses.

    Draws ``draws`` offspring with :func:`synthesize` and returns the one with the most
    :func:`live_synapses` (in weights) among those with at most ``cap`` (the fewest when none
    fits). With ``draws=1`` (or an infinite ``cap``) this is exactly one :func:`synthesize`
    call.

    Raises:
        ValueError: for ``draws < 1`` and the errors of :func:`synthesize`.
    """
    if int(draws) < 1:
        raise ValueError(f"draws must be a positive integer; got {draws!r}")
    best: tuple[tuple[bool, int], Masks] | None = None
    for _ in range(int(draws) if math.isfinite(cap) else 1):
        child = synthesize(masks, synapse_p, factor, rng, level=level, cluster_p=cluster_p)
        count = live_synapses(child, entry_weights)
        key = (count <= cap, count if count <= cap else -count)
        if best is None or key > best[0]:
            best = (key, child)
    assert best is not None
    return best[1]
