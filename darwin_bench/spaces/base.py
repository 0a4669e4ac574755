"""`SearchSpace`: the genes of a family of networks and the operators on them."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import numpy as np
from gymnasium import spaces

from darwin_bench.architecture import Architecture

Genome = np.ndarray
"""A genome is a 1-D ``int64`` array: one choice index per gene."""

#: Draws :meth:`SearchSpace.sample` makes before it gives up on finding a valid genome.
SAMPLE_TRIES = 1000


class ArchitectureGuard(Protocol):
    """Refuses architectures a space must not offer (e.g. :class:`~darwin_bench.models.size.
    SizeLimits`, networks too large to train)."""

    def check(self, architecture: Architecture) -> object:
        """Raise ``ValueError`` for a refused architecture."""
        ...


@dataclass(frozen=True)
class Gene:
    """One categorical gene.

    Args:
        name: gene name, shown in errors and in ``darwin-bench list``.
        choices: the values the gene can take; the genome stores an index into this tuple.
        ordered: True when neighbouring choices are "close" (widths, kernel sizes), so that
            mutation steps to a neighbour instead of resampling.
    """

    name: str
    choices: tuple[Any, ...]
    ordered: bool = False

    @property
    def size(self) -> int:
        """Number of choices."""
        return len(self.choices)


class SearchSpace(ABC):
    """A discrete search space over architectures.

    Subclasses define :attr:`genes`, :meth:`decode` and :meth:`encode`; everything else
    (validation, canonical form, sampling, masks for builder envs) is derived from those.

    Contract for builder envs: whether gene ``k`` matters (see :meth:`active_genes`) and
    which of its choices are feasible may only depend on genes ``0..k-1``.
    """

    name: ClassVar[str] = "abstract"
    #: Refuses decoded architectures (set by the env from its size limits); ``None``: none.
    guard: ArchitectureGuard | None = None

    def __init__(self, input_shape: Sequence[int], num_outputs: int) -> None:
        self.input_shape = tuple(int(d) for d in input_shape)
        self.num_outputs = int(num_outputs)

    # ----------------------------------------------------------------- definition
    @property
    @abstractmethod
    def genes(self) -> tuple[Gene, ...]:
        """The genes, in genome order."""

    @abstractmethod
    def _decode(self, genome: Genome) -> Architecture:
        """Decode an already validated genome."""

    @abstractmethod
    def encode(self, architecture: Architecture) -> Genome:
        """Return the canonical genome of ``architecture``.

        Raises:
            ValueError: when the architecture is not in this space.
        """

    def _check_constraints(self, genome: Genome) -> None:  # noqa: B027 - optional hook
        """Raise ``ValueError`` when an in-range genome breaks a structural constraint."""

    def active_genes(self, genome: Genome) -> np.ndarray:
        """Return a boolean mask of the genes that affect the architecture."""
        return np.ones(len(self.genes), dtype=bool)

    # ------------------------------------------------------------------- derived
    @property
    def nvec(self) -> np.ndarray:
        """Number of choices of each gene."""
        return np.array([g.size for g in self.genes], dtype=np.int64)

    @property
    def action_space(self) -> spaces.MultiDiscrete:
        """The Gymnasium action space of a genome."""
        return spaces.MultiDiscrete(self.nvec)

    def validate(self, genome: Any) -> Genome:
        """Check a genome and return it as an ``int64`` array.

        Raises:
            ValueError: naming the offending gene and its allowed range.
        """
        arr = np.asarray(genome)
        if arr.ndim != 1 or arr.shape[0] != len(self.genes):
            names = [g.name for g in self.genes[:12]] + (["..."] if len(self.genes) > 12 else [])
            raise ValueError(
                f"genome must be a flat sequence of {len(self.genes)} integers "
                f"({', '.join(names)}); got shape {arr.shape}"
            )
        if arr.dtype.kind not in "iu":
            whole = (
                arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr))
            )
            if whole and np.all(np.abs(arr) < 2**62):
                arr = arr.astype(np.int64)
            else:
                raise ValueError(f"genome must contain integers; got dtype {arr.dtype}")
        arr = arr.astype(np.int64)
        for i, (gene, value) in enumerate(zip(self.genes, arr)):
            if not 0 <= value < gene.size:
                raise ValueError(
                    f"genome[{i}] ({gene.name}) must be in 0..{gene.size - 1} "
                    f"(choices {list(gene.choices)}); got {int(value)}"
                )
        self._check_constraints(arr)
        if self.guard is not None:
            try:
                self.guard.check(self._decode(arr))
            except ValueError as exc:
                shown = arr.tolist() if len(arr) <= 12 else f"{arr.tolist()[:12]}"[:-1] + ", ...]"
                raise ValueError(f"genome {shown}: {exc}") from None
        return arr

    def is_valid(self, genome: Any) -> bool:
        """Return True when :meth:`validate` accepts ``genome``."""
        try:
            self.validate(genome)
        except ValueError:
            return False
        return True

    def decode(self, genome: Any) -> Architecture:
        """Validate a genome and return its architecture."""
        return self._decode(self.validate(genome))

    def canonical(self, genome: Any) -> Genome:
        """Return the canonical genome: the one :meth:`encode` gives for its architecture."""
        return self.encode(self.decode(genome))

    def sample(self, rng: np.random.Generator) -> Genome:
        """Draw a valid genome (uniform over each gene, then canonicalized)."""
        return self.first_valid(
            lambda: np.array([rng.integers(g.size) for g in self.genes], dtype=np.int64)
        )

    def first_valid(self, draw: Callable[[], Genome]) -> Genome:
        """The canonical form of the first of up to :data:`SAMPLE_TRIES` draws that is valid.

        Raises:
            RuntimeError: when none is (e.g. a size limit below every network of the space).
        """
        for _ in range(SAMPLE_TRIES):
            genome = draw()
            if self.is_valid(genome):
                return self.canonical(genome)
        raise RuntimeError(
            f"could not sample a valid genome from space {self.name!r} in {SAMPLE_TRIES} draws"
        )

    def mutate(self, genome: Any, rng: np.random.Generator) -> Genome:
        """Return a copy with one active gene changed (ordered genes step to a neighbour)."""
        base = self.canonical(genome)
        active = np.flatnonzero(self.active_genes(base))
        for _ in range(100):
            child = base.copy()
            k = int(rng.choice(active))
            gene = self.genes[k]
            if gene.size < 2:
                continue
            if gene.ordered:
                step = int(rng.choice([-1, 1]))
                child[k] = int(np.clip(child[k] + step, 0, gene.size - 1))
            else:
                child[k] = int(rng.choice([c for c in range(gene.size) if c != base[k]]))
            if self.is_valid(child) and not np.array_equal(self.canonical(child), base):
                return self.canonical(child)
        return base

    def crossover(self, a: Any, b: Any, rng: np.random.Generator) -> Genome:
        """Uniform crossover gene by gene (layered spaces override with one-point crossover)."""
        ga, gb = self.validate(a), self.validate(b)
        for _ in range(100):
            pick = rng.random(len(ga)) < 0.5
            child = np.where(pick, ga, gb)
            if self.is_valid(child):
                return self.canonical(child)
        return self.canonical(ga)

    def neighbours(self, genome: Any) -> list[Genome]:
        """All valid genomes one gene change away, canonical and without duplicates."""
        base = self.canonical(genome)
        seen = {base.tobytes()}
        out: list[Genome] = []
        for k in np.flatnonzero(self.active_genes(base)):
            for c in range(self.genes[k].size):
                child = base.copy()
                child[k] = c
                if not self.is_valid(child):
                    continue
                child = self.canonical(child)
                if child.tobytes() not in seen:
                    seen.add(child.tobytes())
                    out.append(child)
        return out

    def all_genomes(self, limit: int = 100_000) -> list[Genome]:
        """Every distinct network of the space, as canonical genomes in a fixed order.

        Walks the genes in order with :meth:`choice_mask` (the builder envs' masks), so genes
        that do not matter are not multiplied out; networks reached twice are kept once.

        Raises:
            ValueError: when the space has more than ``limit`` genomes to walk (bound it first,
                e.g. with ``max_layers`` or, on layered spaces, ``choices``).
        """
        out: dict[str, Genome] = {}
        stack: list[list[int]] = [[]]
        visited = 0
        while stack:
            prefix = stack.pop()
            if len(prefix) == len(self.genes):
                visited += 1
                if visited > limit:
                    raise ValueError(
                        f"space {self.name!r} has more than {limit} genomes; bound it first"
                    )
                genome = self.canonical(np.asarray(prefix, dtype=np.int64))
                out.setdefault(self.decode(genome).hash, genome)
                continue
            for choice in reversed(np.flatnonzero(self.choice_mask(prefix)).tolist()):
                stack.append([*prefix, choice])
        return list(out.values())

    # ---------------------------------------------------------- builder support
    def completion(self, prefix: Sequence[int]) -> Genome:
        """Complete a prefix with choice 0 for every remaining gene."""
        genome = np.zeros(len(self.genes), dtype=np.int64)
        genome[: len(prefix)] = np.asarray(prefix, dtype=np.int64)
        return genome

    def feasible(self, prefix: Sequence[int]) -> bool:
        """Return True when some valid genome starts with ``prefix``.

        The default completes the prefix with zeros; spaces where a zero completion can be
        invalid although another completion is valid must override this.
        """
        return self.is_valid(self.completion(prefix))

    def choice_mask(self, prefix: Sequence[int]) -> np.ndarray:
        """Boolean mask over ``max(nvec)`` choices for the gene after ``prefix``.

        Choices beyond the gene's size, choices that make the prefix infeasible, and every
        choice but 0 of a gene that does not matter given the prefix, are masked out.
        """
        k = len(prefix)
        if k >= len(self.genes):
            raise ValueError(f"prefix already has all {len(self.genes)} genes")
        mask = np.zeros(int(self.nvec.max()), dtype=bool)
        if not self.active_genes(self.completion(prefix))[k]:
            mask[0] = True
            return mask
        for c in range(self.genes[k].size):
            mask[c] = self.feasible([*prefix, c])
        return mask

    def describe(self) -> dict[str, Any]:
        """A JSON-serializable summary of the space (for ``darwin-bench list`` and run logs)."""
        return {
            "space": self.name,
            "input_shape": list(self.input_shape),
            "num_outputs": self.num_outputs,
            "genes": [{"name": g.name, "choices": list(g.choices)} for g in self.genes],
            "genomes": _count(math.prod(int(n) for n in self.nvec)),
        }


def _count(n: int) -> float | str:
    """A genome count for JSON: a float, or ``"10^<exponent>"`` past the float range."""
    try:
        return float(n)
    except OverflowError:
        return f"10^{math.log10(n):.1f}"
