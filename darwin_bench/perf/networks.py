"""The networks the perf commands time and cost: a reference MLP, random samples, pruning."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from darwin_bench.architecture import Architecture
from darwin_bench.costs import synapse_tensors
from darwin_bench.seeding import derive_seed, torch_determinism
from darwin_bench.spaces.base import SearchSpace
from darwin_bench.tasks.base import Task

#: The hidden widths of the reference network (the Digits ancestor of seed 000).
REFERENCE_HIDDEN = (256, 256)


def reference_mlp(task: Task) -> Architecture:
    """A ReLU MLP with :data:`REFERENCE_HIDDEN` hidden units for ``task``'s inputs and outputs."""
    layers: list[dict[str, Any]] = [{"type": "flatten"}] if len(task.input_shape) > 1 else []
    layers += [{"type": "dense", "units": u, "activation": "relu"} for u in REFERENCE_HIDDEN]
    layers.append({"type": "dense", "units": task.num_outputs, "activation": None})
    return Architecture("mlp", task.input_shape, task.num_outputs, tuple(layers))


def build(task: Task, architecture: Architecture, seed: int = 0) -> nn.Module:
    """The untrained network, initialised from a seed derived from ``seed`` and its hash.

    The caller's global torch generator is left as it was.
    """
    with torch_determinism(derive_seed(seed, architecture.hash)):
        return task.build(architecture)


@dataclass
class Network:
    """One sampled network, built untrained (latency does not depend on weight values).

    Attributes:
        source: ``<task>/<space>`` it was sampled from.
        arch_hash: its architecture's hash.
        model: the module.
        example: one input at batch size 1.
    """

    source: str
    arch_hash: str
    model: nn.Module
    example: torch.Tensor


def sample_networks(
    problems: Sequence[tuple[str, Task, SearchSpace]],
    n: int,
    seed: int,
    exclude: Collection[str] = (),
) -> list[Network]:
    """``n`` distinct random networks drawn round-robin from named (task, space) pairs.

    Args:
        problems: ``(name, task, space)`` triples.
        n: networks to draw.
        seed: sampling and initialisation seed.
        exclude: architecture hashes never to return (e.g. a calibration set).
    """
    rng = np.random.default_rng(seed)
    out: list[Network] = []
    seen: set[str] = set(exclude)
    attempts = 0
    while len(out) < n and attempts < 50 * n:
        name, task, space = problems[attempts % len(problems)]
        attempts += 1
        architecture = space.decode(space.sample(rng))
        if architecture.hash in seen:
            continue
        seen.add(architecture.hash)
        model = build(task, architecture, seed)
        out.append(Network(name, architecture.hash, model, task.example_input(1)))
    return out


#: The kinds of ``prune`` specs.
PRUNE_KINDS = ("unstructured", "clusters")


def prune(model: nn.Module, spec: str, seed: int = 0) -> None:
    """Zero weights of ``model`` in place.

    Args:
        model: the network.
        spec: ``"unstructured:<share>"`` zeroes that share of every weight at random;
            ``"clusters:<share>"`` zeroes that share of the output neurons / filters of every
            layer but the output layer.
        seed: seed of the random choice.

    Raises:
        ValueError: for a spec of another form, or a share outside [0, 1).
    """
    kind, _, amount_text = spec.partition(":")
    try:
        amount = float(amount_text)
    except ValueError:
        amount = -1.0
    if kind not in PRUNE_KINDS or not 0.0 <= amount < 1.0:
        raise ValueError(
            f"prune must be 'unstructured:<share>' or 'clusters:<share>' with a share in "
            f"[0, 1); got {spec!r}"
        )
    gen = torch.Generator().manual_seed(seed)
    tensors = [t for _, t in synapse_tensors(model)]
    with torch.no_grad():
        for i, weight in enumerate(tensors):
            if kind == "unstructured":
                weight.mul_((torch.rand(weight.shape, generator=gen) >= amount).to(weight.dtype))
            elif i < len(tensors) - 1:
                weight[round(weight.shape[0] * (1 - amount)) :] = 0.0
