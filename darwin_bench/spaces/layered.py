"""`LayeredSpace`: variable-length lists of layer genes, the shape of the GA's genomes (seed 004).

Genome layout: ``[depth, slot_0 genes..., slot_1 genes..., ..., global genes...]``. Slot ``i``
matters only when ``i < depth``; inactive slots are zero in the canonical genome.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any

import numpy as np

from darwin_bench.architecture import Architecture
from darwin_bench.spaces.base import Gene, Genome, SearchSpace

Layer = tuple[int, ...]
"""The choice indices of one layer's slot genes."""


class LayeredSpace(SearchSpace):
    """A space whose genome is a variable-length list of layers plus global genes.

    Subclasses set :attr:`slot_genes` and :attr:`global_genes` and implement
    :meth:`build_architecture` and :meth:`parse_architecture`.

    Args:
        input_shape: shape of one input example.
        num_outputs: size of the output layer.
        max_layers: the longest layer list.
        min_layers: the shortest layer list.
        choices: a bounded sub-space: gene name (a slot gene such as ``"width"`` or a global
            gene such as ``"dropout"``) -> the subset of its choices to keep, e.g.
            ``{"width": [16, 64], "activation": ["relu"]}``. Genomes index the kept choices
            (in the gene's own order); architectures are those of the full space.
    """

    slot_genes: tuple[Gene, ...] = ()
    global_genes: tuple[Gene, ...] = ()

    def __init__(
        self,
        input_shape: Sequence[int],
        num_outputs: int,
        *,
        max_layers: int = 4,
        min_layers: int = 1,
        choices: Mapping[str, Sequence[Any]] | None = None,
    ) -> None:
        super().__init__(input_shape, num_outputs)
        if not 1 <= min_layers <= max_layers:
            raise ValueError(
                f"min_layers and max_layers must satisfy 1 <= min_layers <= max_layers; "
                f"got {min_layers}, {max_layers}"
            )
        self.max_layers = int(max_layers)
        self.min_layers = int(min_layers)
        if choices:
            self.slot_genes, self.global_genes = self._restrict(dict(choices))

    def _restrict(
        self, choices: dict[str, Sequence[Any]]
    ) -> tuple[tuple[Gene, ...], tuple[Gene, ...]]:
        """The slot and global genes with only ``choices`` kept (see the class docstring).

        Raises:
            ValueError: for an unknown gene name, or a value that is not one of the gene's.
        """
        genes = {g.name: g for g in (*self.slot_genes, *self.global_genes)}
        unknown = sorted(set(choices) - set(genes))
        if unknown:
            raise ValueError(f"choices: unknown gene(s) {unknown}; allowed: {sorted(genes)}")
        kept: dict[str, Gene] = {}
        for name, values in choices.items():
            gene = genes[name]
            if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
                raise ValueError(f"choices[{name!r}] must be a non-empty list; got {values!r}")
            stray = [v for v in values if v not in gene.choices]
            if stray:
                raise ValueError(
                    f"choices[{name!r}]: {stray} not among the gene's choices {list(gene.choices)}"
                )
            subset = tuple(c for c in gene.choices if c in values)
            kept[name] = Gene(gene.name, subset, gene.ordered)
        return (
            tuple(kept.get(g.name, g) for g in self.slot_genes),
            tuple(kept.get(g.name, g) for g in self.global_genes),
        )

    # --------------------------------------------------------------- subclasses
    @abstractmethod
    def build_architecture(
        self, layers: list[dict[str, Any]], globals_: dict[str, Any]
    ) -> Architecture:
        """Turn decoded slot values (one dict per layer) and global values into a network."""

    @abstractmethod
    def parse_architecture(
        self, architecture: Architecture
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Inverse of :meth:`build_architecture`.

        Raises:
            ValueError: when the architecture does not come from this space.
        """

    def _classifier(self, layers: list[dict[str, Any]]) -> Architecture:
        """``layers`` followed by the linear output layer of ``num_outputs`` units."""
        output = {"type": "dense", "units": self.num_outputs, "activation": None}
        return Architecture(self.name, self.input_shape, self.num_outputs, (*layers, output))

    def _hidden(self, layers: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """The layers before the output layer :meth:`_classifier` appends.

        Raises:
            ValueError: when the last layer is not that output layer.
        """
        if not layers or layers[-1]["type"] != "dense" or layers[-1]["units"] != self.num_outputs:
            raise ValueError(
                f"architecture must end with a dense layer of {self.num_outputs} units"
            )
        return list(layers[:-1])

    # ------------------------------------------------------------------- layout
    @cached_property
    def genes(self) -> tuple[Gene, ...]:
        depth = Gene("depth", tuple(range(self.min_layers, self.max_layers + 1)), ordered=True)
        slots = [
            Gene(f"{g.name}_{i}", g.choices, g.ordered)
            for i in range(self.max_layers)
            for g in self.slot_genes
        ]
        return (depth, *slots, *self.global_genes)

    @property
    def _slot_width(self) -> int:
        return len(self.slot_genes)

    def split(self, genome: Genome) -> tuple[list[Layer], Layer]:
        """Return (active layers, global genes) of a validated genome."""
        depth = self.min_layers + int(genome[0])
        w = self._slot_width
        layers = [tuple(int(v) for v in genome[1 + i * w : 1 + (i + 1) * w]) for i in range(depth)]
        start = 1 + self.max_layers * w
        return layers, tuple(int(v) for v in genome[start:])

    def join(self, layers: Sequence[Layer], globals_: Sequence[int]) -> Genome:
        """Inverse of :meth:`split`."""
        if not self.min_layers <= len(layers) <= self.max_layers:
            raise ValueError(
                f"depth must be in {self.min_layers}..{self.max_layers}; got {len(layers)}"
            )
        genome = np.zeros(len(self.genes), dtype=np.int64)
        genome[0] = len(layers) - self.min_layers
        w = self._slot_width
        for i, layer in enumerate(layers):
            genome[1 + i * w : 1 + (i + 1) * w] = layer
        genome[1 + self.max_layers * w :] = globals_
        return genome

    def active_genes(self, genome: Genome) -> np.ndarray:
        depth = self.min_layers + int(genome[0])
        mask = np.ones(len(self.genes), dtype=bool)
        mask[1 + depth * self._slot_width : 1 + self.max_layers * self._slot_width] = False
        return mask

    # ------------------------------------------------------------ decode/encode
    def _decode(self, genome: Genome) -> Architecture:
        layers, globals_ = self.split(genome)
        layer_values = [
            {g.name: g.choices[c] for g, c in zip(self.slot_genes, layer)} for layer in layers
        ]
        global_values = {g.name: g.choices[c] for g, c in zip(self.global_genes, globals_)}
        return self.build_architecture(layer_values, global_values)

    def encode(self, architecture: Architecture) -> Genome:
        if architecture.space != self.name:
            raise ValueError(
                f"architecture.space must be {self.name!r}; got {architecture.space!r}"
            )
        layer_values, global_values = self.parse_architecture(architecture)
        layers = [
            tuple(self._index(g, values[g.name]) for g in self.slot_genes)
            for values in layer_values
        ]
        globals_ = tuple(self._index(g, global_values[g.name]) for g in self.global_genes)
        return self.validate(self.join(layers, globals_))

    @staticmethod
    def _index(gene: Gene, value: Any) -> int:
        try:
            return gene.choices.index(value)
        except ValueError:
            raise ValueError(
                f"{gene.name} must be one of {list(gene.choices)}; got {value!r}"
            ) from None

    # ---------------------------------------------------------------- operators
    def random_layer(self, rng: np.random.Generator) -> Layer:
        """Draw one layer's slot genes uniformly."""
        return tuple(int(rng.integers(g.size)) for g in self.slot_genes)

    def sample(self, rng: np.random.Generator) -> Genome:
        def draw() -> Genome:
            depth = int(rng.integers(self.min_layers, self.max_layers + 1))
            layers = [self.random_layer(rng) for _ in range(depth)]
            globals_ = tuple(int(rng.integers(g.size)) for g in self.global_genes)
            return self.join(layers, globals_)

        return self.first_valid(draw)

    def mutate(self, genome: Any, rng: np.random.Generator) -> Genome:
        """Apply one of: add a layer, remove a layer, or change one gene of a layer or a global.

        Ordered genes (widths, kernels) step to a neighbouring choice ("scale width"); the
        others are resampled ("change activation"). The result differs from the input.
        """
        base = self.canonical(genome)
        layers, globals_ = self.split(base)
        for _ in range(100):
            ops = ["change"]
            if len(layers) < self.max_layers:
                ops.append("add")
            if len(layers) > self.min_layers:
                ops.append("remove")
            op = ops[int(rng.integers(len(ops)))]
            new_layers, new_globals = list(layers), list(globals_)
            if op == "add":
                new_layers.insert(int(rng.integers(len(layers) + 1)), self.random_layer(rng))
            elif op == "remove":
                del new_layers[int(rng.integers(len(layers)))]
            else:
                self.change_one_gene(new_layers, new_globals, rng, self.global_genes)
            child = self.join(new_layers, new_globals)
            if self.is_valid(child):
                child = self.canonical(child)
                if not np.array_equal(child, base):
                    return child
        return base

    def change_one_gene(
        self,
        layers: list[Layer],
        globals_: list[int],
        rng: np.random.Generator,
        global_genes: Sequence[Gene],
    ) -> None:
        """Change one uniformly chosen gene of the active layers or of ``globals_``, in place.

        Ordered genes step to a neighbouring choice; the others are resampled.
        """
        n_slot = len(layers) * self._slot_width
        k = int(rng.integers(n_slot + len(globals_)))
        if k < n_slot:
            i, j = divmod(k, self._slot_width)
            layer = list(layers[i])
            layer[j] = self._step(self.slot_genes[j], layer[j], rng)
            layers[i] = tuple(layer)
        else:
            j = k - n_slot
            globals_[j] = self._step(global_genes[j], globals_[j], rng)

    @staticmethod
    def _step(gene: Gene, value: int, rng: np.random.Generator) -> int:
        if gene.size < 2:
            return value
        if gene.ordered:
            options = [v for v in (value - 1, value + 1) if 0 <= v < gene.size]
        else:
            options = [v for v in range(gene.size) if v != value]
        return int(options[int(rng.integers(len(options)))])

    def crossover(self, a: Any, b: Any, rng: np.random.Generator) -> Genome:
        """One-point crossover on the layer lists: ``a[:i] + b[j:]``; globals gene by gene."""
        la, ga = self.split(self.validate(a))
        lb, gb = self.split(self.validate(b))
        for _ in range(100):
            i = int(rng.integers(len(la) + 1))
            j = int(rng.integers(len(lb) + 1))
            layers = (la[:i] + lb[j:])[: self.max_layers]
            if len(layers) < self.min_layers:
                continue
            globals_ = [x if rng.random() < 0.5 else y for x, y in zip(ga, gb)]
            child = self.join(layers, globals_)
            if self.is_valid(child):
                return self.canonical(child)
        return self.canonical(a)

    def neighbours(self, genome: Any) -> list[Genome]:
        """Single-gene changes, plus every single layer removal and duplication."""
        base = self.canonical(genome)
        out = super().neighbours(base)
        seen = {g.tobytes() for g in out} | {base.tobytes()}
        layers, globals_ = self.split(base)
        variants: list[list[Layer]] = []
        if len(layers) > self.min_layers:
            variants += [layers[:i] + layers[i + 1 :] for i in range(len(layers))]
        if len(layers) < self.max_layers:
            variants += [layers[: i + 1] + layers[i:] for i in range(len(layers))]
        for new_layers in variants:
            child = self.join(new_layers, globals_)
            if self.is_valid(child):
                child = self.canonical(child)
                if child.tobytes() not in seen:
                    seen.add(child.tobytes())
                    out.append(child)
        return out
