"""The ``squeeze`` space: how much of each layer of a trained base network survives (seed 004).

Seed 004's specialization squeezes an existing trained network with genetic operators that
inherit weights. The base is a stack of *units*: conv blocks (``conv2d`` of some filters and
kernel, ReLU-like activation, optional 2x2 pooling), then hidden ``dense`` layers, then an
output layer. A genome says, for every unit, which fraction of its filters or neurons survives
(``0`` removes the unit; a removed conv block keeps its pooling, so the spatial layout the
dense layers read does not change). The task that trains these networks
(:class:`darwin_bench.tasks.specialization.SpecializationTask`) keeps the surviving units'
trained weights, refits the output layer and fine-tunes briefly.

Mutation steps one unit's fraction to a neighbouring choice (narrow or widen a layer; a step
to ``0`` removes it); crossover is one-point on the list of units.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from darwin_bench.architecture import Architecture
from darwin_bench.spaces.base import Gene, Genome, SearchSpace

#: Fractions of a unit's filters or neurons that can survive (0 removes the unit).
KEEP_FRACTIONS = (0.0, 0.03125, 0.0625, 0.125, 0.25, 0.5, 0.75, 1.0)

#: Pooling a conv block may end with.
BLOCK_POOLS = ("none", "max", "avg")


def kept_units(width: int, fraction: float) -> int:
    """Neurons of a ``width``-wide layer that survive ``fraction`` (at least 1 unless 0)."""
    return 0 if fraction <= 0 else max(1, round(width * fraction))


def conv_blocks(blocks: Sequence[Mapping[str, Any]]) -> tuple[dict[str, Any], ...]:
    """Validate conv block descriptions ``{"filters", "kernel", "pool"}`` (kernel default 3,
    pool default ``"max"``) and return them complete.

    Raises:
        ValueError: naming the block and field that is out of range.
    """
    out = []
    for i, block in enumerate(blocks):
        unknown = sorted(set(block) - {"filters", "kernel", "pool"})
        if unknown:
            raise ValueError(
                f"base_conv[{i}] has unknown key(s) {unknown}; allowed: filters, kernel, pool"
            )
        full = {"filters": block.get("filters"), "kernel": block.get("kernel", 3)}
        full["pool"] = block.get("pool", "max")
        for key in ("filters", "kernel"):
            value = full[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"base_conv[{i}].{key} must be an integer >= 1; got {value!r}")
        if full["kernel"] % 2 == 0:
            raise ValueError(f"base_conv[{i}].kernel must be odd; got {full['kernel']}")
        if full["pool"] not in BLOCK_POOLS:
            raise ValueError(
                f"base_conv[{i}].pool must be one of {list(BLOCK_POOLS)}; got {full['pool']!r}"
            )
        out.append(full)
    return tuple(out)


def squeezed_layers(
    input_shape: Sequence[int],
    num_outputs: int,
    blocks: Sequence[Mapping[str, Any]],
    hidden: Sequence[int],
    activation: str,
    keep: Sequence[float],
) -> list[dict[str, Any]]:
    """The layer list of a base network with a fraction ``keep[i]`` of unit ``i`` kept.

    Units are the conv ``blocks`` then the ``hidden`` dense widths; with every fraction 1.0
    this is the base network itself (with ``num_outputs`` outputs).
    """
    layers: list[dict[str, Any]] = []
    for block, fraction in zip(blocks, keep):
        filters = kept_units(block["filters"], fraction)
        if filters:
            layers.append(
                {
                    "type": "conv2d",
                    "filters": filters,
                    "kernel": block["kernel"],
                    "activation": activation,
                }
            )
        if block["pool"] != "none":
            layers.append({"type": f"{block['pool']}pool2d", "size": 2})
    if blocks or len(input_shape) > 1:
        layers.append({"type": "flatten"})
    for width, fraction in zip(hidden, keep[len(blocks) :]):
        units = kept_units(width, fraction)
        if units:
            layers.append({"type": "dense", "units": units, "activation": activation})
    layers.append({"type": "dense", "units": num_outputs, "activation": None})
    return layers


class SqueezeSpace(SearchSpace):
    """Per-unit survival fractions of a base network (conv blocks, then hidden dense layers).

    Args:
        input_shape: shape of one input example (``(C, H, W)`` when ``base_conv`` is given).
        num_outputs: outputs of the target task (e.g. classes).
        base_conv: the base's conv blocks, ``[{"filters": 32, "kernel": 3, "pool": "max"},
            ...]`` (kernel default 3, pool default ``"max"``); empty for an MLP base.
        base_hidden: hidden dense widths of the base network, e.g. ``(256, 256, 256)``.
        activation: the base network's hidden activation.
        keep: the survival fractions a gene can choose from (ascending, containing 1.0).
    """

    name = "squeeze"

    def __init__(
        self,
        input_shape: Sequence[int],
        num_outputs: int,
        *,
        base_conv: Sequence[Mapping[str, Any]] = (),
        base_hidden: Sequence[int] = (256, 256, 256),
        activation: str = "relu",
        keep: Sequence[float] = KEEP_FRACTIONS,
    ) -> None:
        super().__init__(input_shape, num_outputs)
        self.base_conv = conv_blocks(base_conv)
        self.base_hidden = tuple(int(w) for w in base_hidden)
        if any(w < 1 for w in self.base_hidden) or not (self.base_conv or self.base_hidden):
            raise ValueError(
                f"base_hidden must be positive widths (and not empty without base_conv); "
                f"got {list(base_hidden)}"
            )
        if self.base_conv and len(self.input_shape) != 3:
            raise ValueError(f"base_conv needs a (C, H, W) input; got {self.input_shape}")
        self.keep = tuple(float(f) for f in keep)
        if list(self.keep) != sorted(set(self.keep)) or self.keep[-1] != 1.0 or self.keep[0] < 0:
            raise ValueError(
                f"keep must be ascending fractions in [0, 1] ending in 1.0; got {keep}"
            )
        self.activation = activation
        units = len(self.base_conv) + len(self.base_hidden)
        self._genes = tuple(Gene(f"keep_{i}", self.keep, ordered=True) for i in range(units))

    @property
    def genes(self) -> tuple[Gene, ...]:
        return self._genes

    def base_extra(self) -> dict[str, Any]:
        """What identifies the base in ``Architecture.extra`` (MLP bases: ``base_hidden``)."""
        extra: dict[str, Any] = {"base_hidden": list(self.base_hidden)}
        if self.base_conv:
            extra["base_conv"] = [dict(b) for b in self.base_conv]
        return extra

    def base_genome(self) -> Genome:
        """The genome of the unsqueezed base network (every unit survives whole)."""
        return np.full(len(self._genes), len(self.keep) - 1, dtype=np.int64)

    def _check_constraints(self, genome: Genome) -> None:
        if all(self.keep[int(c)] == 0 for c in genome):
            raise ValueError("at least one unit must survive (every keep_i is 0)")

    def _decode(self, genome: Genome) -> Architecture:
        fractions = [self.keep[int(c)] for c in genome]
        layers = squeezed_layers(
            self.input_shape,
            self.num_outputs,
            self.base_conv,
            self.base_hidden,
            self.activation,
            fractions,
        )
        extra = {**self.base_extra(), "keep": fractions}
        return Architecture(self.name, self.input_shape, self.num_outputs, tuple(layers), (), extra)

    def encode(self, architecture: Architecture) -> Genome:
        if architecture.space != self.name:
            raise ValueError(
                f"architecture.space must be {self.name!r}; got {architecture.space!r}"
            )
        for key, value in self.base_extra().items():
            if architecture.extra.get(key) != value:
                raise ValueError(
                    f"architecture.extra.{key} must be {value}; got {architecture.extra.get(key)!r}"
                )
        fractions = architecture.extra.get("keep", [])
        bad = [f for f in fractions if f not in self.keep]
        if len(fractions) != len(self._genes) or bad:
            raise ValueError(f"architecture.extra.keep must be {len(self._genes)} of {self.keep}")
        return self.validate([self.keep.index(f) for f in fractions])

    def crossover(self, a: Any, b: Any, rng: np.random.Generator) -> Genome:
        """One-point crossover on the list of layers: ``a[:i] + b[i:]``."""
        ga, gb = self.validate(a), self.validate(b)
        for _ in range(100):
            i = int(rng.integers(len(ga) + 1))
            child = np.concatenate([ga[:i], gb[i:]])
            if self.is_valid(child):
                return child
        return ga
