"""The ``rnn`` space: stacked recurrent language models with delayed recurrent connections.

Seed 004's recurrent variant: besides each cell's own one-step recurrence, a network may have
extra **recurrent connections of varying depth and length**. A connection
``{"from": i, "to": j, "delay": d}`` feeds the output of recurrent layer ``i`` at time ``t - d``
into the input of layer ``j`` at time ``t`` (through a learned projection, added to the input).
Layers are numbered from the bottom, ``0`` reading the embedding. Constraints:

* ``j <= i``: a connection feeds the same layer or reaches *down* the stack; its **depth** is
  ``i - j`` (0 = a skip through time within one layer);
* its **length** is the delay ``d >= 1`` (a choice of :attr:`RNNSpace.delays`);
* both ends are existing layers (``i < depth``).

Every genome decodes to a valid network, so any ``MultiDiscrete`` action is a network (as
Gymnasium's checker and RL agents need): an out-of-range end is clipped, ``from`` to
``depth - 1`` and then ``to`` to ``from``, and the canonical genome holds the clipped values.
Builder envs mask the out-of-range choices instead (:meth:`RNNSpace.feasible`).

Genome: ``[depth, (cell, width) per layer slot, embedding, dropout, (conn, from, to, delay)
per connection slot]``. A connection slot matters only when its ``conn`` gene is on. Decoding
drops duplicate connections and sorts them, so the canonical genome lists the distinct
connections first, in order, and zeros the unused slots.

Decoded architecture: ``layers = [embedding, recurrent * depth, dense]``, the connections in
``Architecture.connections`` and the dropout rate in ``extra["dropout"]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from darwin_bench.architecture import Architecture
from darwin_bench.spaces.base import Gene, Genome
from darwin_bench.spaces.layered import Layer, LayeredSpace

CELLS = ("rnn", "gru", "lstm")
Connection = tuple[int, int, int]
"""A connection as gene indices: (source layer, target layer, delay choice index)."""


class RNNSpace(LayeredSpace):
    """Stacked RNN/GRU/LSTM layers, an embedding, dropout and delayed recurrent connections.

    Args:
        input_shape: ``(seq_len,)`` of one example (token ids).
        num_outputs: vocabulary size (the embedding's input and the output layer's size).
        max_layers: the deepest stack (default 3).
        min_layers: the shallowest stack (default 1).
        max_connections: connection slots in the genome (default 2).
        delays: the allowed connection lengths (time delays, each >= 1).
    """

    name = "rnn"
    slot_genes = (
        Gene("cell", CELLS),
        Gene("width", (32, 64, 128), ordered=True),
    )

    def __init__(
        self,
        input_shape: Sequence[int],
        num_outputs: int,
        *,
        max_layers: int = 3,
        min_layers: int = 1,
        max_connections: int = 2,
        delays: Sequence[int] = (1, 2, 4, 8),
    ) -> None:
        super().__init__(input_shape, num_outputs, max_layers=max_layers, min_layers=min_layers)
        if isinstance(max_connections, bool) or not isinstance(max_connections, int):
            raise ValueError(f"max_connections must be an integer >= 0; got {max_connections!r}")
        if max_connections < 0:
            raise ValueError(f"max_connections must be an integer >= 0; got {max_connections!r}")
        delays = tuple(delays)
        if (
            not delays
            or any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in delays)
            or list(delays) != sorted(set(delays))
        ):
            raise ValueError(
                f"delays must be a non-empty increasing sequence of integers >= 1; got {delays!r}"
            )
        self.max_connections = max_connections
        self.delays = delays
        layer_ids = tuple(range(self.max_layers))
        conn_genes = []
        for k in range(max_connections):
            conn_genes += [
                Gene(f"conn{k}", (False, True)),
                Gene(f"conn{k}_from", layer_ids, ordered=True),
                Gene(f"conn{k}_to", layer_ids, ordered=True),
                Gene(f"conn{k}_delay", delays, ordered=True),
            ]
        self.base_globals = (
            Gene("embedding", (16, 32, 64), ordered=True),
            Gene("dropout", (0.0, 0.1, 0.2), ordered=True),
        )
        self.global_genes = (*self.base_globals, *conn_genes)

    # ------------------------------------------------------------- genome parts
    def unpack(self, genome: Genome) -> tuple[list[Layer], list[int], list[Connection]]:
        """Split a genome into (layers, base globals, enabled connections as gene indices)."""
        layers, globals_ = self.split(genome)
        nb = len(self.base_globals)
        conns = []
        for k in range(self.max_connections):
            on, src, dst, delay = globals_[nb + 4 * k : nb + 4 * k + 4]
            if on:
                conns.append((src, dst, delay))
        return layers, list(globals_[:nb]), conns

    def pack(
        self, layers: Sequence[Layer], base: Sequence[int], conns: Sequence[Connection]
    ) -> Genome:
        """Inverse of :meth:`unpack` (distinct connections, sorted; unused slots zero).

        Raises:
            ValueError: when there are more distinct connections than slots.
        """
        distinct = sorted(set(conns))
        if len(distinct) > self.max_connections:
            raise ValueError(
                f"connections must number at most max_connections={self.max_connections}; "
                f"got {len(distinct)}"
            )
        slots: list[int] = []
        for src, dst, delay in distinct:
            slots += [1, src, dst, delay]
        slots += [0] * (4 * self.max_connections - len(slots))
        return self.join(layers, [*base, *slots])

    def feasible(self, prefix: Sequence[int]) -> bool:
        """True when the prefix's connection ends are in range (no clipping needed).

        Every genome decodes (out-of-range ends are clipped), but builder envs only offer the
        choices that mean what they say: ``from < depth`` and ``to <= from``.
        """
        if not super().feasible(prefix):
            return False
        genome = self.completion(prefix)
        depth = self.min_layers + int(genome[0])
        start = 1 + self.max_layers * self._slot_width + len(self.base_globals)
        for k, (src, dst, _delay) in enumerate(self._slots(genome)):
            given = len(prefix) - (start + 4 * k)  # how many of this slot's genes the prefix set
            if src is None or given < 2:
                continue
            if src >= depth or (given >= 3 and dst > src):
                return False
        return True

    def _slots(self, genome: Genome) -> list[tuple[int | None, int, int]]:
        """(source or None when off, target, delay index) of every connection slot."""
        start = 1 + self.max_layers * self._slot_width + len(self.base_globals)
        out: list[tuple[int | None, int, int]] = []
        for k in range(self.max_connections):
            on, src, dst, delay = (int(v) for v in genome[start + 4 * k : start + 4 * k + 4])
            out.append((src if on else None, dst, delay))
        return out

    def active_genes(self, genome: Genome) -> np.ndarray:
        mask = super().active_genes(genome)
        start = 1 + self.max_layers * self._slot_width + len(self.base_globals)
        for k in range(self.max_connections):
            if not int(genome[start + 4 * k]):
                mask[start + 4 * k + 1 : start + 4 * k + 4] = False
        return mask

    # ----------------------------------------------------------- decode/encode
    def build_architecture(
        self, layers: list[dict[str, Any]], globals_: dict[str, Any]
    ) -> Architecture:
        out: list[dict[str, Any]] = [
            {"type": "embedding", "vocab": self.num_outputs, "dim": globals_["embedding"]}
        ]
        out += [{"type": "recurrent", "cell": la["cell"], "units": la["width"]} for la in layers]
        out.append({"type": "dense", "units": self.num_outputs, "activation": None})
        conns = set()
        for k in range(self.max_connections):
            if globals_[f"conn{k}"]:
                src = min(globals_[f"conn{k}_from"], len(layers) - 1)
                conns.add((src, min(globals_[f"conn{k}_to"], src), globals_[f"conn{k}_delay"]))
        connections = [{"from": s, "to": t, "delay": d} for s, t, d in sorted(conns)]
        return Architecture(
            self.name,
            self.input_shape,
            self.num_outputs,
            tuple(out),
            tuple(connections),
            {"dropout": globals_["dropout"]},
        )

    def parse_architecture(
        self, architecture: Architecture
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        layers = list(architecture.layers)
        if (
            len(layers) < 2
            or layers[0].get("type") != "embedding"
            or layers[-1].get("type") != "dense"
            or layers[-1].get("units") != self.num_outputs
            or layers[0].get("vocab") != self.num_outputs
        ):
            raise ValueError(
                f"an rnn architecture must be [embedding(vocab={self.num_outputs}), "
                f"recurrent..., dense({self.num_outputs})]"
            )
        values = []
        for i, layer in enumerate(layers[1:-1]):
            if layer.get("type") != "recurrent":
                raise ValueError(f"layers[{i + 1}].type must be 'recurrent'; got {layer!r}")
            values.append({"cell": layer.get("cell"), "width": layer.get("units")})
        conns = sorted(
            {(c.get("from"), c.get("to"), c.get("delay")) for c in architecture.connections}
        )
        for src, dst, _ in conns:
            if not (
                isinstance(src, int) and isinstance(dst, int) and 0 <= dst <= src < len(values)
            ):
                raise ValueError(
                    f"connections must satisfy 0 <= to <= from < depth ({len(values)}); "
                    f"got from={src!r}, to={dst!r}"
                )
        if len(conns) > self.max_connections:
            raise ValueError(
                f"connections must number at most max_connections={self.max_connections}; "
                f"got {len(conns)}"
            )
        globals_: dict[str, Any] = {
            "embedding": architecture.layers[0].get("dim"),
            "dropout": architecture.extra.get("dropout", 0.0),
        }
        for k in range(self.max_connections):
            src, dst, delay = conns[k] if k < len(conns) else (0, 0, self.delays[0])
            globals_.update(
                {
                    f"conn{k}": k < len(conns),
                    f"conn{k}_from": src,
                    f"conn{k}_to": dst,
                    f"conn{k}_delay": delay,
                }
            )
        return values, globals_

    # --------------------------------------------------------------- operators
    def random_connection(self, depth: int, rng: np.random.Generator) -> Connection:
        """Draw a valid connection for a stack of ``depth`` layers."""
        src = int(rng.integers(depth))
        return src, int(rng.integers(src + 1)), int(rng.integers(len(self.delays)))

    def sample(self, rng: np.random.Generator) -> Genome:
        def draw() -> Genome:
            depth = int(rng.integers(self.min_layers, self.max_layers + 1))
            layers = [self.random_layer(rng) for _ in range(depth)]
            base = [int(rng.integers(g.size)) for g in self.base_globals]
            n_conns = int(rng.integers(self.max_connections + 1))
            conns = [self.random_connection(depth, rng) for _ in range(n_conns)]
            return self.pack(layers, base, conns)

        return self.first_valid(draw)

    def mutate(self, genome: Any, rng: np.random.Generator) -> Genome:
        """Apply one operator; the result differs from the input.

        Operators: add a layer, remove a layer (connections touching it are dropped, the
        others keep their layers), change one layer or global gene (ordered genes step to a
        neighbour), add a recurrent connection, remove one, or retarget one (move its source,
        its target or its delay).
        """
        base = self.canonical(genome)
        layers, globals_, conns = self.unpack(base)
        for _ in range(100):
            ops = ["change"]
            if len(layers) < self.max_layers:
                ops.append("add_layer")
            if len(layers) > self.min_layers:
                ops.append("remove_layer")
            if len(conns) < self.max_connections:
                ops.append("add_connection")
            if conns:
                ops += ["remove_connection", "retarget_connection"]
            op = ops[int(rng.integers(len(ops)))]
            new_layers, new_globals, new_conns = list(layers), list(globals_), list(conns)
            if op == "add_layer":
                at = int(rng.integers(len(layers) + 1))
                new_layers.insert(at, self.random_layer(rng))
                new_conns = [(s + (s >= at), t + (t >= at), d) for s, t, d in conns]
            elif op == "remove_layer":
                at = int(rng.integers(len(layers)))
                del new_layers[at]
                new_conns = [
                    (s - (s > at), t - (t > at), d) for s, t, d in conns if at not in (s, t)
                ]
            elif op == "change":
                self.change_one_gene(new_layers, new_globals, rng, self.base_globals)
            elif op == "add_connection":
                new_conns.append(self.random_connection(len(layers), rng))
            elif op == "remove_connection":
                del new_conns[int(rng.integers(len(conns)))]
            else:
                i = int(rng.integers(len(conns)))
                new_conns[i] = self._retarget(conns[i], len(layers), rng)
            child = self.pack(new_layers, new_globals, new_conns)
            if self.is_valid(child):
                child = self.canonical(child)
                if not np.array_equal(child, base):
                    return child
        return base

    def _retarget(self, conn: Connection, depth: int, rng: np.random.Generator) -> Connection:
        src, dst, delay = conn
        field = int(rng.integers(3))
        if field == 0:
            options = [s for s in range(dst, depth) if s != src]
            return (int(rng.choice(options)), dst, delay) if options else conn
        if field == 1:
            options = [t for t in range(src + 1) if t != dst]
            return (src, int(rng.choice(options)), delay) if options else conn
        options = [d for d in range(len(self.delays)) if d != delay]
        return (src, dst, int(rng.choice(options))) if options else conn

    def crossover(self, a: Any, b: Any, rng: np.random.Generator) -> Genome:
        """One-point crossover on the layer lists, ``a[:i] + b[j:]``, connections following.

        The child keeps ``a``'s connections within its first ``i`` layers and ``b``'s
        connections within its layers from ``j`` on (renumbered); if they exceed the slots, a
        random subset is kept. Embedding and dropout come from either parent, gene by gene.
        """
        la, ga, ca = self.unpack(self.validate(a))
        lb, gb, cb = self.unpack(self.validate(b))
        for _ in range(100):
            i = int(rng.integers(len(la) + 1))
            j = int(rng.integers(len(lb) + 1))
            layers = (la[:i] + lb[j:])[: self.max_layers]
            if len(layers) < self.min_layers:
                continue
            conns = {c for c in ca if c[0] < i}
            conns |= {(s - j + i, t - j + i, d) for s, t, d in cb if t >= j}
            kept = sorted(c for c in conns if c[0] < len(layers))
            if len(kept) > self.max_connections:
                pick = rng.choice(len(kept), size=self.max_connections, replace=False)
                kept = [kept[int(p)] for p in sorted(pick)]
            globals_ = [x if rng.random() < 0.5 else y for x, y in zip(ga, gb)]
            child = self.pack(layers, globals_, kept)
            if self.is_valid(child):
                return self.canonical(child)
        return self.canonical(a)
