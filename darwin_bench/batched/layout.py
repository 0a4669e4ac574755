"""How a population of dense networks is laid out for batched training.

The networks' layers are grouped by position (first layer, second layer, ...) and shape
``(in, out)``: a group's weights are one ``(G, out, in)`` view and it runs as one batched matmul.
All weights and biases live in one flat buffer (so the optimizer is one fused call), each
network's chunk aligned to :data:`ALIGN` floats, so that element-wise kernels treat every
network's numbers the same way whatever its neighbours.

Activations of the hidden layers at one position and of one width share a buffer of rows
(one row = one network's ``(batch, width)`` block), ordered by activation function so that
each activation is one call. Every row's batch is padded to a multiple of :data:`ALIGN_ROWS`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from darwin_bench.batched.dense import ACTIVATIONS, DenseNet

#: Alignment, in floats, of every network's chunk of the parameter buffers.
ALIGN = 64

#: Batches are padded to a multiple of this many rows.
ALIGN_ROWS = 32

Rows = slice | torch.Tensor
"""Rows of a buffer: a contiguous ``slice`` or an index tensor."""


def round_up(value: int, multiple: int) -> int:
    """The smallest multiple of ``multiple`` that is >= ``value``."""
    return -(-value // multiple) * multiple


def as_rows(indices: Sequence[int]) -> Rows:
    """A ``slice`` for consecutive ascending indices, else a ``LongTensor`` of them."""
    if list(indices) == list(range(indices[0], indices[0] + len(indices))):
        return slice(indices[0], indices[0] + len(indices))
    return torch.tensor(list(indices), dtype=torch.long)


@dataclass(eq=False)
class Group:
    """The layers at one position with one shape, trained as one batched matmul.

    Attributes:
        position: layer index (0 = the first layer).
        fin: input width.
        fout: output width.
        output: whether these are the networks' output layers.
        members: network indices, in order.
        weight: ``(G, out, in)`` view of the parameter buffer (``grad_weight`` of the gradients).
        bias: ``(G, 1, out)`` view (``grad_bias`` of the gradients).
        mask: ``(G, out, in)`` gradient mask, or ``None``.
        src: rows of the input buffer (position 0: the input batch; else the hidden buffer of
            position - 1 and width ``fin``).
        dst: rows of the output buffer (the logits for output layers, else the hidden buffer of
            this position and width ``fout``).
    """

    position: int
    fin: int
    fout: int
    output: bool
    members: list[int]
    weight: torch.Tensor = field(init=False)
    bias: torch.Tensor = field(init=False)
    grad_weight: torch.Tensor = field(init=False)
    grad_bias: torch.Tensor = field(init=False)
    mask: torch.Tensor | None = None
    src: Rows = field(default_factory=lambda: slice(0, 0))
    dst: Rows = field(default_factory=lambda: slice(0, 0))
    members_index: torch.Tensor = field(init=False)


@dataclass
class Hidden:
    """The hidden activations of one position and width: one row per network.

    Attributes:
        position: layer index.
        width: the layer width.
        members: network index of each row.
        runs: ``(activation, rows)`` for each activation function used, rows contiguous.
        rates: each row's dropout rate.
    """

    position: int
    width: int
    members: list[int]
    runs: list[tuple[str | None, slice]]
    rates: list[float]

    @property
    def dropout(self) -> bool:
        """Whether any row uses dropout."""
        return any(p > 0 for p in self.rates)


class Layout:
    """Groups, buffer rows and the flat parameter buffers of a population.

    Args:
        nets: the networks (all with the same input and output size).

    Raises:
        ValueError: for an empty population or networks with different input/output sizes.
    """

    def __init__(self, nets: Sequence[DenseNet]) -> None:
        if not nets:
            raise ValueError("nets must not be empty")
        if len({(n.dims[0], n.dims[-1]) for n in nets}) != 1:
            raise ValueError("all nets must have the same input and output size")
        self.nets = list(nets)
        self.depth = max(n.depth for n in nets)
        self.groups: list[list[Group]] = [self._groups(p) for p in range(self.depth)]
        self.input_order = [i for g in self.groups[0] for i in g.members]
        for g, rows in zip(self.groups[0], _consecutive(self.groups[0])):
            g.src = rows
        outputs = [g for gs in self.groups for g in gs if g.output]
        self.logit_order = [i for g in outputs for i in g.members]
        for g, rows in zip(outputs, _consecutive(outputs)):
            g.dst = rows
        self.hidden: dict[tuple[int, int], Hidden] = {}
        for position in range(self.depth - 1):
            self._hidden(position)
        self.size = self._place()

    def _groups(self, position: int) -> list[Group]:
        by_shape: dict[tuple[int, int, bool], list[int]] = defaultdict(list)
        for i, net in enumerate(self.nets):
            if position < net.depth:
                key = (net.dims[position], net.dims[position + 1], position == net.depth - 1)
                by_shape[key].append(i)
        return [
            Group(position, fin, fout, out, m) for (fin, fout, out), m in sorted(by_shape.items())
        ]

    def _hidden(self, position: int) -> None:
        """Rows of the hidden buffers of ``position``, and the groups' ``dst``/next ``src``."""
        rank = {a: k for k, a in enumerate((None, *ACTIVATIONS))}
        by_width: dict[int, list[tuple[int, int]]] = defaultdict(list)  # width -> (rank, net)
        for g in self.groups[position]:
            if not g.output:
                for i in g.members:
                    by_width[g.fout].append((rank[self.nets[i].activations[position]], i))
        row_of: dict[tuple[int, int], int] = {}
        for width, entries in sorted(by_width.items()):
            entries.sort(key=lambda e: e[0])  # stable: group order within an activation
            members = [i for _, i in entries]
            runs: list[tuple[str | None, slice]] = []
            for k, (_, i) in enumerate(entries):
                act = self.nets[i].activations[position]
                if runs and runs[-1][0] == act:
                    runs[-1] = (act, slice(runs[-1][1].start, k + 1))
                else:
                    runs.append((act, slice(k, k + 1)))
            rates = [self.nets[i].dropouts[position] for i in members]
            self.hidden[(position, width)] = Hidden(position, width, members, runs, rates)
            row_of.update({(width, i): k for k, i in enumerate(members)})
        for g in self.groups[position]:
            if not g.output:
                g.dst = as_rows([row_of[(g.fout, i)] for i in g.members])
        for g in self.groups[position + 1]:
            g.src = as_rows([row_of[(g.fin, i)] for i in g.members])

    def _place(self) -> int:
        """Give every group its offsets in the flat buffers; return the buffer size."""
        offset = 0
        self._offsets: list[tuple[Group, int, int, int, int]] = []
        for g in (g for gs in self.groups for g in gs):
            count = len(g.members)
            w_stride = round_up(g.fin * g.fout, ALIGN)
            b_stride = round_up(g.fout, ALIGN)
            self._offsets.append((g, offset, w_stride, offset + count * w_stride, b_stride))
            offset += count * (w_stride + b_stride)
        return offset

    def views(self, flat: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """``(weight (G, out, in), bias (G, 1, out))`` views of ``flat`` for every group."""
        out = []
        for g, w_off, w_stride, b_off, b_stride in self._offsets:
            count = len(g.members)
            w = flat.as_strided((count, g.fout, g.fin), (w_stride, g.fin, 1), w_off)
            b = flat.as_strided((count, 1, g.fout), (b_stride, g.fout, 1), b_off)
            out.append((w, b))
        return out

    def bind(self, params: torch.Tensor, grads: torch.Tensor) -> None:
        """Point every group at its views of ``params`` and ``grads``, and fill in the initial
        weights and masks."""
        all_groups = [g for gs in self.groups for g in gs]
        for g, (w, b), (gw, gb) in zip(all_groups, self.views(params), self.views(grads)):
            g.weight, g.bias, g.grad_weight, g.grad_bias = w, b, gw, gb
            g.members_index = torch.tensor(g.members, dtype=torch.long)
            with torch.no_grad():
                for k, i in enumerate(g.members):
                    weight, bias = self.nets[i].init[g.position]
                    w[k].copy_(weight)
                    b[k, 0].copy_(bias)
            masks = [self.nets[i].mask(g.position) for i in g.members]
            if any(m is not None for m in masks):
                g.mask = torch.stack(
                    [torch.ones(g.fout, g.fin) if m is None else m.to(torch.float32) for m in masks]
                )
                with torch.no_grad():
                    w.mul_(g.mask)

    def all_groups(self) -> list[Group]:
        """Every group, position by position."""
        return [g for gs in self.groups for g in gs]


def _consecutive(groups: Sequence[Group]) -> list[slice]:
    """Slices that place the groups' members one after the other."""
    out, start = [], 0
    for g in groups:
        out.append(slice(start, start + len(g.members)))
        start += len(g.members)
    return out
