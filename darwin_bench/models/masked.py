"""Masked MLPs: an MLP whose connection weights are gated by fixed 0/1 masks.

Used by the ``synapses`` space (seed 000). Layers are ``(weight, bias, mask)`` triples with
``weight`` and ``mask`` shaped ``(out_features, in_features)`` as in ``nn.Linear``; hidden
layers use ReLU. :func:`compact` removes dead hidden neurons exactly, so that the dense network
that is trained, costed and timed has only the neurons that matter ("clusters").
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


def compact(
    layers: Sequence[Layer], masks: Sequence[np.ndarray]
) -> tuple[list[Layer], list[np.ndarray], list[np.ndarray]]:
    """Remove dead hidden neurons without changing the network's function.

    A hidden neuron without outgoing synapses is dropped. A hidden neuron without incoming
    synapses outputs the constant ``relu(bias)``; that constant times its outgoing weights is
    folded into the next layer's bias before it is dropped. Repeats until nothing changes.

    Returns:
        ``(layers, masks, kept)``: the smaller layers and masks, and for each hidden layer the
        indices of the kept neurons in the original layer.
    """
    ws = [
        np.asarray(w, dtype=np.float64) * np.asarray(m, dtype=bool)
        for (w, _), m in zip(layers, masks)
    ]
    bs = [np.asarray(b, dtype=np.float64).copy() for _, b in layers]
    ms = [np.asarray(m, dtype=bool).copy() for m in masks]
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
            bs[i + 1] = bs[i + 1] + ws[i + 1] @ constant
            alive = ~dead
            ws[i], bs[i], ms[i] = ws[i][alive], bs[i][alive], ms[i][alive]
            ws[i + 1], ms[i + 1] = ws[i + 1][:, alive], ms[i + 1][:, alive]
            kept[i] = kept[i][alive]
            changed = True
    out = [(w.astype(np.float32), b.astype(np.float32)) for w, b in zip(ws, bs)]
    return out, ms, kept


def expand(
    layers: Sequence[Layer], kept: Sequence[np.ndarray], shapes: Sequence[tuple[int, int]]
) -> list[Layer]:
    """Place compact layers back into the full layout (removed neurons get zero weights)."""
    out: list[Layer] = []
    for i, ((w, b), (rows, cols)) in enumerate(zip(layers, shapes)):
        row_idx = kept[i] if i < len(kept) else np.arange(rows)
        col_idx = kept[i - 1] if i > 0 else np.arange(cols)
        full_w = np.zeros((rows, cols), dtype=np.float32)
        full_w[np.ix_(row_idx, col_idx)] = w
        full_b = np.zeros(rows, dtype=np.float32)
        full_b[row_idx] = b
        out.append((full_w, full_b))
    return out
