"""Exact counts: parameters, synapses (non-zero weights) and FLOPs."""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def count_params(model: nn.Module) -> int:
    """Number of trainable and frozen parameters (weights and biases)."""
    return sum(p.numel() for p in model.parameters())


def synapse_tensors(model: nn.Module) -> list[tuple[str, torch.Tensor]]:
    """The connection-weight tensors: every parameter named ``*weight*`` with 2 or more dims.

    Biases and normalization scales are not synapses; linear, convolution and recurrent
    weight matrices are.
    """
    return [(n, p) for n, p in model.named_parameters() if "weight" in n and p.dim() >= 2]


def count_synapses(model: nn.Module) -> int:
    """Number of non-zero connection weights (a pruned or masked weight is not a synapse)."""
    return sum(int(torch.count_nonzero(p.detach())) for _, p in synapse_tensors(model))


def count_flops(model: nn.Module, example: torch.Tensor) -> int:
    """FLOPs of one forward pass over ``example`` (a batch), from ``torch.utils.flop_counter``.

    A multiply-accumulate counts as 2 FLOPs; dense operators only (matmul, convolution), as
    torch's counter defines them.
    """
    was_training = model.training
    model.eval()
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(example)
    model.train(was_training)
    return int(counter.get_total_flops())
