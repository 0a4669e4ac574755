"""The ``squeeze`` space: how much of each hidden layer of a trained base MLP survives (seed 004).

Seed 004's specialization squeezes an existing trained network with genetic operators that
inherit weights. Here a genome says, for every hidden layer of the base network, which fraction
of its neurons survives (``0`` removes the layer). The task that trains these networks
(:class:`darwin_bench.tasks.specialization.SpecializationTask`) keeps the surviving neurons'
trained weights, refits the output layer and fine-tunes briefly.

Mutation steps one layer's fraction to a neighbouring choice (narrow or widen a layer; a step
to ``0`` removes the layer); crossover is one-point on the list of layers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from darwin_bench.architecture import Architecture
from darwin_bench.spaces.base import Gene, Genome, SearchSpace

#: Fractions of a layer's neurons that can survive (0 removes the layer).
KEEP_FRACTIONS = (0.0, 0.03125, 0.0625, 0.125, 0.25, 0.5, 0.75, 1.0)


def kept_units(width: int, fraction: float) -> int:
    """Neurons of a ``width``-wide layer that survive ``fraction`` (at least 1 unless 0)."""
    return 0 if fraction <= 0 else max(1, round(width * fraction))


class SqueezeSpace(SearchSpace):
    """Per-hidden-layer survival fractions of a base MLP.

    Args:
        input_shape: shape of one input example (flattened by the network).
        num_outputs: classes of the target task.
        base_hidden: hidden widths of the base network, e.g. ``(256, 256, 256)``.
        activation: the base network's hidden activation.
        keep: the survival fractions a gene can choose from (ascending, containing 1.0).
    """

    name = "squeeze"

    def __init__(
        self,
        input_shape: Sequence[int],
        num_outputs: int,
        *,
        base_hidden: Sequence[int] = (256, 256, 256),
        activation: str = "relu",
        keep: Sequence[float] = KEEP_FRACTIONS,
    ) -> None:
        super().__init__(input_shape, num_outputs)
        self.base_hidden = tuple(int(w) for w in base_hidden)
        if not self.base_hidden or min(self.base_hidden) < 1:
            raise ValueError(f"base_hidden must be positive widths; got {list(base_hidden)}")
        self.keep = tuple(float(f) for f in keep)
        if list(self.keep) != sorted(set(self.keep)) or self.keep[-1] != 1.0 or self.keep[0] < 0:
            raise ValueError(
                f"keep must be ascending fractions in [0, 1] ending in 1.0; got {keep}"
            )
        self.activation = activation
        self._genes = tuple(
            Gene(f"keep_{i}", self.keep, ordered=True) for i in range(len(self.base_hidden))
        )

    @property
    def genes(self) -> tuple[Gene, ...]:
        return self._genes

    def base_genome(self) -> Genome:
        """The genome of the unsqueezed base network (every neuron of every layer survives)."""
        return np.full(len(self.base_hidden), len(self.keep) - 1, dtype=np.int64)

    def _check_constraints(self, genome: Genome) -> None:
        if all(self.keep[int(c)] == 0 for c in genome):
            raise ValueError("at least one hidden layer must survive (every keep_i is 0)")

    def _decode(self, genome: Genome) -> Architecture:
        fractions = [self.keep[int(c)] for c in genome]
        layers: list[dict[str, Any]] = []
        if len(self.input_shape) > 1:
            layers.append({"type": "flatten"})
        for width, fraction in zip(self.base_hidden, fractions):
            units = kept_units(width, fraction)
            if units:
                layers.append({"type": "dense", "units": units, "activation": self.activation})
        layers.append({"type": "dense", "units": self.num_outputs, "activation": None})
        extra = {"base_hidden": list(self.base_hidden), "keep": fractions}
        return Architecture(self.name, self.input_shape, self.num_outputs, tuple(layers), (), extra)

    def encode(self, architecture: Architecture) -> Genome:
        if architecture.space != self.name:
            raise ValueError(
                f"architecture.space must be {self.name!r}; got {architecture.space!r}"
            )
        if list(architecture.extra.get("base_hidden", [])) != list(self.base_hidden):
            raise ValueError(
                f"architecture.extra.base_hidden must be {list(self.base_hidden)}; "
                f"got {architecture.extra.get('base_hidden')!r}"
            )
        fractions = architecture.extra.get("keep", [])
        bad = [f for f in fractions if f not in self.keep]
        if len(fractions) != len(self.base_hidden) or bad:
            raise ValueError(
                f"architecture.extra.keep must be {len(self.base_hidden)} of {self.keep}"
            )
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
