"""Masked chain FCNs: kernel masks over an ancestor FCN, compacted to the channels that matter.

Used by the ``fcn-synapses`` space (seed 000). The ancestor is a chain FCN (no skips, no
normalization; see :class:`~darwin_bench.spaces.fcn_synapses.FCNSynapseSpace`), so its
convolutions form a chain like the layers of an MLP: hidden channels play the part of hidden
neurons. A :data:`State` holds every convolution's weights in ``Conv2d`` layout
``(out, in, kh, kw)`` (transposed convolutions are stored swapped to that layout too) and its
bias. :func:`masked_fcn` removes dead channels with :func:`darwin_bench.models.masked.compact`
and builds the *smaller* FCN, so the network that is trained, costed and timed has fewer
parameters and FLOPs when channels go, as the compact MLP does when neurons go.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn
from torch.nn.utils import prune

from darwin_bench.architecture import Architecture
from darwin_bench.models.fcn import build_fcn
from darwin_bench.models.masked import EmptyLayerError, compact, expand

State = list[tuple[np.ndarray, np.ndarray]]
"""Per convolution, its ``weight`` in ``(out, in, kh, kw)`` layout and its ``bias``."""

Conv = nn.Conv2d | nn.ConvTranspose2d


def conv_layers(model: nn.Module) -> list[Conv]:
    """The convolutions of an FCN in forward order (for a chain FCN)."""
    return [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]


def _to_chain(conv: Conv, weight: np.ndarray) -> np.ndarray:
    """A module's weight in ``(out, in, kh, kw)`` layout (transposed convs store ``(in, out)``)."""
    return weight.transpose(1, 0, 2, 3) if isinstance(conv, nn.ConvTranspose2d) else weight


def fcn_state(model: nn.Module) -> State:
    """Every convolution's effective (masked) weight, in chain layout, and bias (copies)."""
    return [
        (
            _to_chain(c, c.weight.detach().numpy()).copy(),
            c.bias.detach().numpy().copy(),  # type: ignore[union-attr]
        )
        for c in conv_layers(model)
    ]


def fold_scales(model: nn.Module) -> list[float]:
    """Per convolution, the factor :func:`compact` folds a constant input channel with: 1 for a
    padded convolution (the kernel's sum, exact away from the border); ``1 / (kh*kw)`` for a
    transposed convolution whose stride equals its kernel (each output pixel sees one tap, so
    the folded bias is the taps' mean)."""
    return [
        1.0 / float(np.prod(c.kernel_size)) if isinstance(c, nn.ConvTranspose2d) else 1.0
        for c in conv_layers(model)
    ]


def with_channels(ancestor: Architecture, widths: Sequence[int]) -> Architecture:
    """The ancestor chain FCN with ``widths[i]`` output channels in hidden convolution ``i``."""
    data = ancestor.to_dict()
    for layer, width in zip(data["layers"], widths):
        layer["filters"] = int(width)
    return Architecture.from_dict(data)


def _load(model: nn.Module, state: State, masks: Sequence[np.ndarray]) -> nn.Module:
    """Copy ``state`` into ``model`` and fix the kernel ``masks`` as pruning masks."""
    with torch.no_grad():
        for conv, (weight, bias), mask in zip(conv_layers(model), state, masks):
            m = torch.as_tensor(np.asarray(mask, dtype=np.float32))
            w = torch.as_tensor(_to_chain(conv, np.asarray(weight, dtype=np.float32)).copy())
            if isinstance(conv, nn.ConvTranspose2d):
                m = m.T
            conv.weight.copy_(w)
            conv.bias.copy_(torch.as_tensor(np.asarray(bias, dtype=np.float32)))  # type: ignore[union-attr]
            full = m[:, :, None, None].expand_as(conv.weight).contiguous()
            prune.custom_from_mask(conv, "weight", full)
    return model


def masked_fcn(
    ancestor: Architecture, state: State, masks: Sequence[np.ndarray]
) -> tuple[nn.Module, list[np.ndarray]]:
    """The compact FCN that kernel ``masks`` leave of ``ancestor``, starting from ``state``.

    Returns:
        ``(model, kept)``: the smaller FCN (kept kernels fixed by pruning masks, which the
        cost counters read) and, per hidden convolution, the kept channels' indices.

    Raises:
        EmptyLayerError: when a hidden convolution has no live channel left.
    """
    layers, small_masks, kept = compact(state, masks, fold_scales(build_fcn(ancestor)))
    model = build_fcn(with_channels(ancestor, [len(k) for k in kept]))
    return _load(model, layers, small_masks), kept


def uncompacted_fcn(ancestor: Architecture, state: State, masks: Sequence[np.ndarray]) -> nn.Module:
    """The ancestor-sized FCN with ``masks`` applied (costs a mask that empties a layer)."""
    return _load(build_fcn(ancestor), state, masks)


def expand_state(state: State, kept: Sequence[np.ndarray], ancestor: Architecture) -> State:
    """A compact FCN's state back in the ancestor's layout (removed channels get zeros)."""
    shapes = [(int(c.out_channels), int(c.in_channels)) for c in conv_layers(build_fcn(ancestor))]
    return expand(state, kept, shapes)


__all__ = [
    "EmptyLayerError",
    "State",
    "conv_layers",
    "expand_state",
    "fcn_state",
    "masked_fcn",
    "uncompacted_fcn",
    "with_channels",
]
