"""The builder for ``rnn`` architectures: stacked recurrent cells with delayed connections.

The network is unrolled step by step in Python over ``torch.nn.RNNCell`` / ``GRUCell`` /
``LSTMCell`` (not the fused ``nn.LSTM``): every delayed connection needs the state of another
layer at an earlier step, and the cells' matrix products are visible to
``torch.utils.flop_counter`` (whose count of the fused oneDNN LSTM is 0), so FLOPs scale with
the sequence length.

At time ``t`` layer ``j`` reads ``x_j(t) = below_j(t) + sum W_c h_i(t - d)`` over the
connections ``c = (i -> j, delay d)``, where ``below_j`` is the embedding (``j = 0``) or layer
``j - 1``'s output, ``h_i`` layer ``i``'s output and ``W_c`` a learned bias-free projection.
Outputs before the first step of a sequence are zero, or come from the carried state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from darwin_bench.architecture import Architecture

CELL_TYPES: dict[str, type[nn.Module]] = {
    "rnn": nn.RNNCell,
    "gru": nn.GRUCell,
    "lstm": nn.LSTMCell,
}

CellState = torch.Tensor | tuple[torch.Tensor, torch.Tensor]


@dataclass
class RecurrentState:
    """What carries over between consecutive windows (truncated BPTT).

    Attributes:
        cells: each layer's cell state: ``h``, or ``(h, c)`` for an LSTM.
        history: per layer, its last outputs ``h(t - L) ... h(t - 1)`` (``L`` = the longest
            delay of a connection leaving the layer; empty for other layers).
    """

    cells: list[CellState]
    history: list[list[torch.Tensor]]

    def detach(self) -> RecurrentState:
        """The same values, cut from the autograd graph."""
        cells: list[CellState] = [
            (s[0].detach(), s[1].detach()) if isinstance(s, tuple) else s.detach()
            for s in self.cells
        ]
        return RecurrentState(cells, [[h.detach() for h in hs] for hs in self.history])


class RecurrentLM(nn.Module):
    """A language model: embedding, recurrent stack with delayed connections, linear decoder.

    Args:
        vocab: vocabulary size (inputs and outputs).
        embedding: embedding size.
        layers: ``(cell, units)`` of each recurrent layer, bottom first.
        connections: ``(source, target, delay)`` of each delayed connection, ``target <=
            source``, ``delay >= 1``.
        dropout: dropout rate on the embedding, between layers and before the decoder.
    """

    def __init__(
        self,
        vocab: int,
        embedding: int,
        layers: list[tuple[str, int]],
        connections: list[tuple[int, int, int]],
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.vocab = vocab
        self.layer_specs = list(layers)
        self.connection_specs = list(connections)
        self.dropout = float(dropout)
        self.embedding = nn.Embedding(vocab, embedding)
        inputs = [embedding] + [units for _, units in layers[:-1]]
        self.cells = nn.ModuleList(
            CELL_TYPES[cell](size, units) for (cell, units), size in zip(layers, inputs)
        )
        self.projections = nn.ModuleList(
            nn.Linear(layers[src][1], inputs[dst], bias=False) for src, dst, _ in connections
        )
        self.decoder = nn.Linear(layers[-1][1], vocab)
        self.history_len = [
            max((d for s, _, d in connections if s == i), default=0) for i in range(len(layers))
        ]

    def initial_state(self, batch_size: int) -> RecurrentState:
        """Zero cell states and zero outputs before the first step."""
        param = self.decoder.weight
        cells: list[CellState] = []
        history: list[list[torch.Tensor]] = []
        for i, (cell, units) in enumerate(self.layer_specs):
            zero = param.new_zeros(batch_size, units)
            cells.append((zero, zero) if cell == "lstm" else zero)
            history.append([zero] * self.history_len[i])
        return RecurrentState(cells, history)

    def run(
        self, tokens: torch.Tensor, state: RecurrentState | None = None
    ) -> tuple[torch.Tensor, RecurrentState]:
        """Unroll over ``tokens`` of shape ``(batch, time)``.

        Returns:
            ``(logits of shape (batch, time, vocab), the state after the last step)``.
        """
        batch, steps = tokens.shape
        state = state or self.initial_state(batch)
        cells = list(state.cells)
        # outputs[i]: carried history of layer i followed by this window's outputs.
        outputs = [list(hs) for hs in state.history]
        incoming: list[list[tuple[int, int, nn.Module]]] = [[] for _ in self.layer_specs]
        for (src, dst, delay), proj in zip(self.connection_specs, self.projections):
            incoming[dst].append((src, delay, proj))
        x_all = F.dropout(self.embedding(tokens), self.dropout, self.training)
        top: list[torch.Tensor] = []
        for t in range(steps):
            x = x_all[:, t]
            for j, cell in enumerate(self.cells):
                if j > 0:
                    x = F.dropout(x, self.dropout, self.training)
                for src, delay, proj in incoming[j]:
                    past = outputs[src][self.history_len[src] + t - delay]
                    x = x + proj(past)
                new: CellState = cell(x, cells[j])
                cells[j] = new
                h: torch.Tensor = new[0] if isinstance(new, tuple) else new
                if self.history_len[j]:
                    outputs[j].append(h)
                x = h
            top.append(x)
        hidden = F.dropout(torch.stack(top, dim=1), self.dropout, self.training)
        history = [out[len(out) - n :] if n else [] for out, n in zip(outputs, self.history_len)]
        return self.decoder(hidden), RecurrentState(cells, history)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Logits ``(batch, time, vocab)`` for ``tokens`` ``(batch, time)`` from a zero state."""
        return self.run(tokens)[0]


def build_recurrent(architecture: Architecture) -> RecurrentLM:
    """Build a :class:`RecurrentLM` from an ``rnn`` architecture.

    Raises:
        ValueError: naming the field when the architecture is not an rnn language model.
    """
    layers = list(architecture.layers)
    if len(layers) < 3 or layers[0]["type"] != "embedding" or layers[-1]["type"] != "dense":
        raise ValueError(
            "layers must be [embedding, recurrent..., dense] for an rnn architecture; "
            f"got types {architecture.layer_types()}"
        )
    vocab = _int(layers[0], "vocab", 0)
    if _int(layers[-1], "units", len(layers) - 1) != vocab:
        raise ValueError(f"layers[-1].units must equal the embedding vocab {vocab}")
    specs: list[tuple[str, int]] = []
    for i, layer in enumerate(layers[1:-1], start=1):
        if layer["type"] != "recurrent":
            raise ValueError(f"layers[{i}].type must be 'recurrent'; got {layer['type']!r}")
        if layer.get("cell") not in CELL_TYPES:
            raise ValueError(
                f"layers[{i}].cell must be one of {sorted(CELL_TYPES)}; got {layer.get('cell')!r}"
            )
        specs.append((str(layer["cell"]), _int(layer, "units", i)))
    conns: list[tuple[int, int, int]] = []
    for k, c in enumerate(architecture.connections):
        src, dst, delay = (c.get(key) for key in ("from", "to", "delay"))
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (src, dst, delay)):
            raise ValueError(f"connections[{k}] needs integer 'from', 'to', 'delay'; got {c!r}")
        assert isinstance(src, int) and isinstance(dst, int) and isinstance(delay, int)
        if not 0 <= dst <= src < len(specs) or delay < 1:
            raise ValueError(
                f"connections[{k}] must satisfy 0 <= to <= from < {len(specs)} and delay >= 1; "
                f"got {c!r}"
            )
        conns.append((src, dst, delay))
    dropout = float(architecture.extra.get("dropout", 0.0))
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"extra.dropout must be in [0, 1); got {dropout}")
    return RecurrentLM(vocab, _int(layers[0], "dim", 0), specs, conns, dropout)


def _int(layer: dict[str, Any], key: str, index: int) -> int:
    value = layer.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"layers[{index}].{key} must be a positive integer; got {value!r}")
    return value
