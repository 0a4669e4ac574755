"""The ``synapses`` space: a mask over the synapses of a fixed MLP (seed 000's search space).

A genome is one bit per connection weight of an MLP ``input - hidden... - outputs`` (by default
64-256-256-10 on Digits: 16,384 + 65,536 + 2,560 = 84,480 synapses): 1 keeps the synapse,
0 removes it. The layers are laid out one after the other, each in PyTorch's
``Linear.weight`` order ``(out_features, in_features)``, row-major. The Gymnasium action space
is ``MultiBinary(n)`` (``int8`` entries).

The decoded :class:`Architecture` stores the mask packed (``np.packbits``, base64) in
``extra["mask"]`` with its SHA-256 and synapse count, so the content hash, the evaluation cache
and run logs all see it; ``extra["init"]`` says where the offspring's starting weights come from
(``{"from": "ancestor"}`` as decoded; environments may point it to a parent evaluation).
"""

from __future__ import annotations

import base64
import itertools
from collections.abc import Sequence
from functools import cached_property
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces

from darwin_bench.architecture import Architecture
from darwin_bench.hashing import data_hash
from darwin_bench.spaces.base import Gene, Genome, SearchSpace

DEFAULT_HIDDEN: tuple[int, ...] = (256, 256)


def pack_mask(mask: np.ndarray) -> str:
    """Pack a 0/1 vector into base64 text (8 synapses per byte)."""
    return base64.b64encode(np.packbits(np.asarray(mask, dtype=np.uint8)).tobytes()).decode()


def unpack_mask(text: str, size: int) -> np.ndarray:
    """Inverse of :func:`pack_mask`: an ``int8`` vector of ``size`` bits."""
    raw = np.frombuffer(base64.b64decode(text.encode()), dtype=np.uint8)
    return np.unpackbits(raw)[:size].astype(np.int8)


class SynapseSpace(SearchSpace):
    """Masks over the synapses of an MLP with ReLU hidden layers.

    Args:
        input_shape: the task's input shape (flattened to a vector).
        num_outputs: the output layer's size.
        hidden: hidden layer widths of the ancestor MLP.
    """

    name = "synapses"
    #: What :meth:`describe` calls the ancestor's hidden widths and one mask entry.
    widths_name: ClassVar[str] = "hidden"
    entry_name: ClassVar[str] = "synapse"

    def __init__(
        self,
        input_shape: Sequence[int],
        num_outputs: int,
        hidden: Sequence[int] = DEFAULT_HIDDEN,
    ) -> None:
        super().__init__(input_shape, num_outputs)
        widths = [int(w) for w in hidden]
        if not widths or any(w < 1 for w in widths):
            raise ValueError(f"hidden must be a non-empty list of positive widths; got {hidden!r}")
        self.hidden = tuple(widths)
        sizes = [int(np.prod(self.input_shape)), *widths, self.num_outputs]
        self.shapes: tuple[tuple[int, int], ...] = tuple(
            (out, inp) for inp, out in itertools.pairwise(sizes)
        )
        self.size = int(sum(o * i for o, i in self.shapes))
        #: Connection weights one mask entry stands for, per layer (1: a mask entry is a weight).
        self.entry_weights: tuple[int, ...] = (1,) * len(self.shapes)

    # ----------------------------------------------------------------- layout
    def masks(self, genome: Any) -> list[np.ndarray]:
        """Split a genome into per-layer boolean masks shaped ``(out, in)``."""
        flat = self.validate(genome).astype(bool)
        out, start = [], 0
        for o, i in self.shapes:
            out.append(flat[start : start + o * i].reshape(o, i))
            start += o * i
        return out

    def flatten(self, masks: Sequence[np.ndarray]) -> Genome:
        """Join per-layer masks into a genome (inverse of :meth:`masks`).

        Raises:
            ValueError: when the masks do not have the layers' shapes.
        """
        shapes = [tuple(np.shape(m)) for m in masks]
        if shapes != [tuple(s) for s in self.shapes]:
            raise ValueError(f"masks must have shapes {list(self.shapes)}; got {shapes}")
        return np.concatenate([np.asarray(m, dtype=np.int8).ravel() for m in masks])

    def full(self) -> Genome:
        """The ancestor's genome: every synapse kept."""
        return np.ones(self.size, dtype=np.int8)

    # ------------------------------------------------------------- definition
    @cached_property
    def _genes(self) -> tuple[Gene, ...]:
        return tuple(
            Gene(f"w{layer}[{o},{i}]", (0, 1))
            for layer, (rows, cols) in enumerate(self.shapes)
            for o in range(rows)
            for i in range(cols)
        )

    @property
    def genes(self) -> tuple[Gene, ...]:
        """One binary gene per synapse (built on first use: there are many)."""
        return self._genes

    @property
    def nvec(self) -> np.ndarray:
        return np.full(self.size, 2, dtype=np.int64)

    @property
    def action_space(self) -> spaces.MultiBinary:  # type: ignore[override]
        """``MultiBinary(n)``: one bit per synapse."""
        return spaces.MultiBinary(self.size)

    def active_genes(self, genome: Genome) -> np.ndarray:
        return np.ones(self.size, dtype=bool)

    def validate(self, genome: Any) -> Genome:
        """Check a mask and return it as an ``int8`` 0/1 vector.

        Raises:
            ValueError: for a wrong length or entries other than 0 and 1.
        """
        arr = np.asarray(genome)
        if arr.ndim != 1 or arr.shape[0] != self.size:
            raise ValueError(
                f"genome must be a flat 0/1 mask of {self.size} synapses "
                f"(layers {list(self.shapes)}); got shape {arr.shape}"
            )
        if arr.dtype.kind not in "biuf" or not np.all((arr == 0) | (arr == 1)):
            raise ValueError("genome entries must be 0 (synapse removed) or 1 (kept)")
        return arr.astype(np.int8)

    def _decode(self, genome: Genome) -> Architecture:
        layers: list[dict[str, Any]] = []
        if len(self.input_shape) > 1:
            layers.append({"type": "flatten"})
        layers += [{"type": "dense", "units": w, "activation": "relu"} for w in self.hidden]
        layers.append({"type": "dense", "units": self.num_outputs, "activation": None})
        extra = self._mask_extra(genome)
        return Architecture(self.name, self.input_shape, self.num_outputs, tuple(layers), (), extra)

    @staticmethod
    def _mask_extra(genome: Genome) -> dict[str, Any]:
        """``Architecture.extra`` of a mask: packed, its hash, its count, init from the ancestor."""
        packed = pack_mask(genome)
        return {
            "mask": packed,
            "mask_sha256": data_hash(packed),
            "synapses": int(genome.sum()),
            "init": {"from": "ancestor"},
        }

    def encode(self, architecture: Architecture) -> Genome:
        """The mask stored in ``architecture.extra["mask"]``.

        Raises:
            ValueError: when the architecture is not a mask over this space's MLP.
        """
        if architecture.space != self.name or "mask" not in architecture.extra:
            raise ValueError("architecture is not in the synapses space (no extra['mask'])")
        dense = [la["units"] for la in architecture.layers if la["type"] == "dense"]
        if dense != [*self.hidden, self.num_outputs]:
            raise ValueError(
                f"architecture layers {dense} do not match this space's MLP "
                f"{[*self.hidden, self.num_outputs]}"
            )
        return unpack_mask(str(architecture.extra["mask"]), self.size)

    def canonical(self, genome: Any) -> Genome:
        """Masks are their own canonical form."""
        return self.validate(genome)

    def with_init(self, architecture: Architecture, init: dict[str, Any]) -> Architecture:
        """A copy of ``architecture`` whose starting weights come from ``init``."""
        data = architecture.to_dict()
        data["extra"] = {**data["extra"], "init": dict(init)}
        return Architecture.from_dict(data)

    # -------------------------------------------------------------- operators
    def sample(self, rng: np.random.Generator) -> Genome:
        """A random mask: a keep fraction drawn from U(0.01, 1), then one coin per synapse."""
        keep = rng.uniform(0.01, 1.0)
        return (rng.random(self.size) < keep).astype(np.int8)

    def mutate(self, genome: Any, rng: np.random.Generator) -> Genome:
        """Flip 1% of the bits (at least one), chosen uniformly."""
        child = self.validate(genome).copy()
        idx = rng.choice(self.size, size=max(1, self.size // 100), replace=False)
        child[idx] = 1 - child[idx]
        return child

    def crossover(self, a: Any, b: Any, rng: np.random.Generator) -> Genome:
        """Uniform crossover, bit by bit."""
        ga, gb = self.validate(a), self.validate(b)
        return np.where(rng.random(self.size) < 0.5, ga, gb).astype(np.int8)

    def neighbours(self, genome: Any) -> list[Genome]:
        """Not offered: a mask has one neighbour per synapse (use :meth:`mutate`).

        Raises:
            ValueError: always.
        """
        raise ValueError(
            f"the synapses space has {self.size} neighbours per genome; use mutate instead"
        )

    def feasible(self, prefix: Sequence[int]) -> bool:
        return len(prefix) <= self.size

    def describe(self) -> dict[str, Any]:
        return {
            "space": self.name,
            "input_shape": list(self.input_shape),
            "num_outputs": self.num_outputs,
            self.widths_name: list(self.hidden),
            "layers": [list(s) for s in self.shapes],
            "genes": f"{self.size} binary (one per {self.entry_name})",
            "genomes": f"2^{self.size}",
        }
