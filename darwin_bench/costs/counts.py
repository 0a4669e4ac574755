"""Exact counts: parameters, synapses (non-zero weights), clusters and model bytes.

FLOPs come from a traced forward pass: :func:`darwin_bench.costs.trace.count_flops`.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def count_params(model: nn.Module) -> int:
    """Number of trainable and frozen parameters (weights and biases)."""
    return sum(p.numel() for p in model.parameters())


def _module_weights(module: nn.Module) -> list[tuple[str, torch.Tensor]]:
    """A module's own connection weights, as used in its forward pass (masks applied).

    A weight pruned with ``torch.nn.utils.prune`` is stored as ``<name>_orig`` with a
    ``<name>_mask`` buffer; its effective tensor is the module attribute ``<name>``.
    """
    out: list[tuple[str, torch.Tensor]] = []
    for name, param in module.named_parameters(recurse=False):
        if "weight" not in name or param.dim() < 2:
            continue
        tensor: torch.Tensor = param
        if name.endswith("_orig"):
            name = name[: -len("_orig")]
            masked = getattr(module, name, None)
            if isinstance(masked, torch.Tensor):
                tensor = masked
        mask = getattr(module, f"{name}_mask", None)
        if isinstance(mask, torch.Tensor) and tensor is param:
            tensor = param * mask
        out.append((name, tensor.detach()))
    return out


def effective_weights(module: nn.Module, recurse: bool = True) -> list[torch.Tensor]:
    """The connection-weight tensors of ``module`` (and its children when ``recurse``)."""
    modules = module.modules() if recurse else [module]
    return [t for m in modules for _, t in _module_weights(m)]


def synapse_tensors(model: nn.Module) -> list[tuple[str, torch.Tensor]]:
    """The connection-weight tensors: every parameter named ``*weight*`` with 2 or more dims.

    Biases and normalization scales are not synapses; linear, convolution and recurrent
    weight matrices are. Masks (``torch.nn.utils.prune`` or a ``<name>_mask`` buffer) are
    applied, so a masked weight reads as zero.
    """
    out: list[tuple[str, torch.Tensor]] = []
    for prefix, module in model.named_modules():
        for name, tensor in _module_weights(module):
            out.append((f"{prefix}.{name}" if prefix else name, tensor))
    return out


def count_synapses(model: nn.Module) -> int:
    """Number of non-zero connection weights (a pruned or masked weight is not a synapse)."""
    return sum(int(np.count_nonzero(p.cpu().float().numpy())) for _, p in synapse_tensors(model))


def count_clusters(model: nn.Module) -> tuple[int, int]:
    """Clusters (output neurons, conv filters, recurrent gate units) alive and in total.

    A cluster is one output row of a weight matrix (one filter of a convolution); it is alive
    when any of its incoming weights is non-zero. The input-to-hidden and hidden-to-hidden
    matrices of one recurrent layer share their rows.

    Returns:
        ``(alive, total)``.
    """
    alive = total = 0
    for module in model.modules():
        groups: dict[str, list[torch.Tensor]] = {}
        for name, tensor in _module_weights(module):
            key = name.replace("weight_ih", "weight").replace("weight_hh", "weight")
            groups.setdefault(key, []).append(tensor)
        for tensors in groups.values():
            rows = np.zeros(tensors[0].shape[0], dtype=bool)
            for t in tensors:
                if t.shape[0] == rows.shape[0]:
                    rows |= (t.cpu().float().numpy().reshape(t.shape[0], -1) != 0).any(axis=1)
            alive += int(rows.sum())
            total += int(rows.size)
    return alive, total


#: Bytes per element of the dtypes model sizes are reported for.
DTYPE_BYTES: dict[str, int] = {"fp32": 4, "fp16": 2, "int8": 1}


def model_bytes(model: nn.Module) -> dict[str, int]:
    """Dense size of all parameters per dtype: ``{"fp32": ..., "fp16": ..., "int8": ...}``."""
    n = count_params(model)
    return {dtype: n * size for dtype, size in DTYPE_BYTES.items()}
