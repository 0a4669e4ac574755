"""Masked MLPs: an MLP whose connection weights are gated by fixed 0/1 masks.

Used by the ``synapses`` space (seed 000). Layers are ``(weight, bias, mask)`` triples with
``weight`` and ``mask`` shaped ``(out_features, in_features)`` as in ``nn.Linear``; hidden
layers use ReLU. :func:`compact` removes dead hidden neurons exactly, so that the dense network
that is trained, costed and timed has only the neurons that matter ("clusters"); it also
compacts chains of convolutions (dead channels), see :mod:`darwin_bench.models.masked_fcn`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

Layer = tuple[np.ndarray, np.ndarray]
"""One layer's ``(weight (out, in), bias (out,))`` as float arrays."""


class MaskedLinear(nn.Module):
    """A linear layer whose weight is multiplied by a fixed 0/1 ``weight_mask`` buffer."""

    def __init__(self, weight: np.ndarray, bias: np.ndarray, mask: np.ndarray) -> None:
        super().__init__()
        self.weight_mask: torch.Tensor
        self.register_buffer("weight_mask", torch.as_tensor(np.asarray(mask, dtype=np.float32)))
        w = torch.as_tensor(np.asarray(weight, dtype=np.float32)) * self.weight_mask
        self.weight = nn.Parameter(w.clone())
        self.bias = nn.Parameter(torch.as_tensor(np.asarray(bias, dtype=np.float32)).clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.linear(x, self.weight * self.weight_mask, self.bias)


class MaskedMLP(nn.Module):
    """An MLP with ReLU hidden layers whose weights are multiplied by fixed masks.

    Args:
        layers: ``(weight, bias)`` per layer, output layer last.
        masks: boolean masks shaped like the weights; masked weights are zeroed and get no
            gradient, so :func:`darwin_bench.costs.count_synapses` counts surviving synapses.
    """

    def __init__(self, layers: Sequence[Layer], masks: Sequence[np.ndarray]) -> None:
        super().__init__()
        self.linears = nn.ModuleList(MaskedLinear(w, b, m) for (w, b), m in zip(layers, masks))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(1)
        last = len(self.linears) - 1
        for i, linear in enumerate(self._masked()):
            x = linear(x)
            if i < last:
                x = torch.relu(x)
        return x

    def layers(self) -> list[Layer]:
        """The current ``(masked weight, bias)`` of every layer, as numpy arrays."""
        return [
            (
                (lin.weight * lin.weight_mask).detach().numpy().copy(),
                lin.bias.detach().numpy().copy(),
            )
            for lin in self._masked()
        ]

    def _masked(self) -> list[MaskedLinear]:
        return [m for m in self.linears if isinstance(m, MaskedLinear)]


class EmptyLayerError(ValueError):
    """A mask leaves a hidden layer without any live neuron (the output ignores the input)."""


def _rows(weight: np.ndarray) -> np.ndarray:
    """``weight`` as ``(out, in, taps)`` (a dense layer has one tap per synapse)."""
    return weight.reshape(weight.shape[0], weight.shape[1], -1)


def compact(
    layers: Sequence[Layer],
    masks: Sequence[np.ndarray],
    fold: Sequence[float] | None = None,
) -> tuple[list[Layer], list[np.ndarray], list[np.ndarray]]:
    """Remove dead hidden neurons (or channels) of a chain of layers.

    Weights are ``(out, in)`` (dense) or ``(out, in, *kernel)`` (a convolution's kernels, in
    ``Conv2d`` layout); masks are ``(out, in)``, one entry per synapse or kernel. A hidden
    neuron without outgoing synapses is dropped. One without incoming synapses outputs the
    constant ``relu(bias)``; that constant times the sum of its outgoing kernel taps (times
    ``fold[i]`` of the next layer, default 1) is folded into the next layer's bias before it is
    dropped: exact for dense layers, and for padded convolutions away from the image border.
    Repeats until nothing changes.

    Returns:
        ``(layers, masks, kept)``: the smaller layers and masks, and for each hidden layer the
        indices of the kept neurons in the original layer.

    Raises:
        EmptyLayerError: when a hidden layer has no live neuron left.
    """
    ms = [np.asarray(m, dtype=bool).copy() for m in masks]
    ws = [
        np.asarray(w, dtype=np.float64) * m.reshape(m.shape + (1,) * (np.ndim(w) - 2))
        for (w, _), m in zip(layers, ms)
    ]
    bs = [np.asarray(b, dtype=np.float64).copy() for _, b in layers]
    scale = [1.0] * len(ws) if fold is None else [float(f) for f in fold]
    kept = [np.arange(w.shape[0]) for w in ws[:-1]]
    changed = True
    while changed:
        changed = False
        for i in range(len(ws) - 1):
            has_in = ms[i].any(axis=1)
            has_out = ms[i + 1].any(axis=0)
            dead = ~(has_in & has_out)
            if not dead.any():
                continue
            constant = np.maximum(bs[i], 0.0) * (~has_in & has_out)
            bs[i + 1] = bs[i + 1] + scale[i + 1] * (_rows(ws[i + 1]).sum(axis=2) @ constant)
            alive = ~dead
            ws[i], bs[i], ms[i] = ws[i][alive], bs[i][alive], ms[i][alive]
            ws[i + 1], ms[i + 1] = ws[i + 1][:, alive], ms[i + 1][:, alive]
            kept[i] = kept[i][alive]
            if not alive.any():
                raise EmptyLayerError(
                    f"hidden layer {i + 1} has no live neuron (no neuron with both an incoming "
                    "and an outgoing synapse): the output would not depend on the input"
                )
            changed = True
    out = [(w.astype(np.float32), b.astype(np.float32)) for w, b in zip(ws, bs)]
    return out, ms, kept


def expand(
    layers: Sequence[Layer], kept: Sequence[np.ndarray], shapes: Sequence[tuple[int, int]]
) -> list[Layer]:
    """Place compact layers back into the full layout (removed neurons get zero weights).

    ``shapes`` are the full layers' ``(out, in)``; kernel dimensions, if any, are kept.
    """
    out: list[Layer] = []
    for i, ((w, b), (rows, cols)) in enumerate(zip(layers, shapes)):
        row_idx = kept[i] if i < len(kept) else np.arange(rows)
        col_idx = kept[i - 1] if i > 0 else np.arange(cols)
        full_w = np.zeros((rows, cols, *np.shape(w)[2:]), dtype=np.float32)
        full_w[np.ix_(row_idx, col_idx)] = w
        full_b = np.zeros(rows, dtype=np.float32)
        full_b[row_idx] = b
        out.append((full_w, full_b))
    return out
