"""`DenseNet`: a stack of linear layers, the kind of network the batched trainer trains."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from darwin_bench.architecture import Architecture
from darwin_bench.models import build_model
from darwin_bench.seeding import torch_determinism

#: Hidden-layer activations the batched trainer implements (``None`` is the identity).
ACTIVATIONS = ("relu", "tanh", "elu", "gelu", "sigmoid")

LayerWeights = tuple[torch.Tensor, torch.Tensor]
"""One layer's ``(weight (out, in), bias (out,))``, as in ``nn.Linear``."""


@dataclass(frozen=True)
class DenseNet:
    """One network for the batched trainer.

    Attributes:
        dims: input size, hidden widths, output size.
        activations: activation after each hidden layer (``None``: identity); the output
            layer has none (its outputs are the logits).
        dropouts: dropout rate after each hidden layer (0: none).
        init: initial ``(weight (out, in), bias (out,))`` of every layer.
        masks: per layer, a 0/1 ``(out, in)`` tensor whose zeros mark weights that stay 0
            (their initial weights must be 0), or ``None`` for an unmasked layer.
    """

    dims: tuple[int, ...]
    activations: tuple[str | None, ...]
    dropouts: tuple[float, ...]
    init: tuple[LayerWeights, ...]
    masks: tuple[torch.Tensor | None, ...] = ()

    def __post_init__(self) -> None:
        layers = len(self.dims) - 1
        if layers < 1:
            raise ValueError(f"dims must have at least 2 entries; got {self.dims}")
        if len(self.activations) != layers - 1 or len(self.dropouts) != layers - 1:
            raise ValueError("activations and dropouts need one entry per hidden layer")
        bad = [a for a in self.activations if a is not None and a not in ACTIVATIONS]
        if bad:
            raise ValueError(f"activations must be in {ACTIVATIONS} or None; got {bad}")
        if any(not 0.0 <= p < 1.0 for p in self.dropouts):
            raise ValueError(f"dropouts must be in [0, 1); got {self.dropouts}")
        for i, (w, b) in enumerate(self.init):
            if tuple(w.shape) != (self.dims[i + 1], self.dims[i]) or b.shape[0] != self.dims[i + 1]:
                raise ValueError(f"init[{i}] does not match dims {self.dims}")
        if len(self.init) != layers:
            raise ValueError(f"init needs {layers} layers; got {len(self.init)}")
        if self.masks and len(self.masks) != layers:
            raise ValueError(f"masks needs {layers} entries (or none); got {len(self.masks)}")

    @property
    def depth(self) -> int:
        """Number of linear layers (hidden layers + the output layer)."""
        return len(self.dims) - 1

    def mask(self, layer: int) -> torch.Tensor | None:
        """The mask of ``layer``, if any."""
        return self.masks[layer] if self.masks else None

    @property
    def macs(self) -> int:
        """Multiply-accumulates of one example's forward pass."""
        return sum(a * b for a, b in zip(self.dims, self.dims[1:]))


def dense_layout(
    architecture: Architecture,
) -> tuple[tuple[int, ...], tuple[str | None, ...], tuple[float, ...]] | None:
    """``(dims, hidden activations, hidden dropouts)`` of a plain dense stack, else ``None``.

    A plain dense stack is what the ``mlp`` space builds: an optional leading ``flatten``,
    ``dense`` layers each optionally followed by one ``dropout``, and a last ``dense`` layer
    without activation.
    """
    layers = list(architecture.layers)
    if layers and layers[0]["type"] == "flatten":
        layers = layers[1:]
    elif len(architecture.input_shape) != 1:
        return None
    dims = [math.prod(architecture.input_shape)]
    activations: list[str | None] = []
    dropouts: list[float] = []
    for layer in layers:
        kind = layer["type"]
        if kind == "dense":
            dims.append(int(layer["units"]))
            activations.append(layer.get("activation"))
            dropouts.append(0.0)
        elif kind == "dropout" and activations and dropouts[-1] == 0.0:
            dropouts[-1] = float(layer["rate"])
        else:
            return None
    if not activations or layers[-1]["type"] != "dense" or activations[-1] is not None:
        return None
    if any(a is not None and a not in ACTIVATIONS for a in activations[:-1]):
        return None
    return tuple(dims), tuple(activations[:-1]), tuple(dropouts[:-1])


def dense_net(architecture: Architecture, seed: int, threads: int = 1) -> DenseNet:
    """The :class:`DenseNet` of a plain dense stack, initialised as ``build_model`` does under
    :func:`~darwin_bench.seeding.torch_determinism` with ``seed`` (the per-model trainer's
    initial weights, exactly).

    Raises:
        ValueError: when ``architecture`` is not a plain dense stack (see :func:`dense_layout`).
    """
    layout = dense_layout(architecture)
    if layout is None:
        raise ValueError("architecture is not a plain stack of dense layers")
    with torch_determinism(seed, threads):
        model = build_model(architecture)
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    init = tuple((m.weight.detach().clone(), m.bias.detach().clone()) for m in linears)
    return DenseNet(layout[0], layout[1], layout[2], init)


def load_weights(model: nn.Module, weights: Sequence[LayerWeights]) -> nn.Module:
    """Copy ``weights`` into the ``nn.Linear`` layers of ``model`` (in order); return it.

    Raises:
        ValueError: when the number of linear layers differs.
    """
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if len(linears) != len(weights):
        raise ValueError(f"model has {len(linears)} linear layers; got {len(weights)} weights")
    with torch.no_grad():
        for linear, (w, b) in zip(linears, weights):
            linear.weight.copy_(w)
            linear.bias.copy_(b)
    return model
