"""The generic builder for architectures that are a plain stack of layers."""

from __future__ import annotations

import math
from typing import Any

from torch import nn

from darwin_bench.architecture import LAYER_TYPES, Architecture

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "sigmoid": nn.Sigmoid,
}


def activation(name: str | None) -> list[nn.Module]:
    """Return ``[module]`` for an activation name, ``[]`` for ``None``.

    Raises:
        ValueError: for an unknown activation name.
    """
    if name is None:
        return []
    if name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)} or null; got {name!r}")
    return [ACTIVATIONS[name]()]


def build_sequential(architecture: Architecture) -> nn.Sequential:
    """Build ``architecture.layers`` in order, inferring each layer's input size.

    Raises:
        ValueError: for an unknown layer type, a missing field, or shapes that do not fit.
    """
    shape: tuple[int, ...] = architecture.input_shape
    modules: list[nn.Module] = []
    for i, layer in enumerate(architecture.layers):
        kind = layer["type"]
        if kind not in LAYER_TYPES:
            raise ValueError(f"layers[{i}].type must be one of {sorted(LAYER_TYPES)}; got {kind!r}")
        missing = [k for k in LAYER_TYPES[kind] if k not in layer]
        if missing:
            raise ValueError(f"layers[{i}] ({kind}) is missing {missing}")
        new, shape = _build_layer(i, layer, shape)
        modules.extend(new)
    return nn.Sequential(*modules)


def _build_layer(
    i: int, layer: dict[str, Any], shape: tuple[int, ...]
) -> tuple[list[nn.Module], tuple[int, ...]]:
    kind = layer["type"]
    if kind == "dense":
        if len(shape) != 1:
            raise ValueError(f"layers[{i}] (dense) needs a flat input; got shape {shape}")
        units = int(layer["units"])
        return [nn.Linear(shape[0], units), *activation(layer.get("activation"))], (units,)
    if kind == "conv2d":
        if len(shape) == 2:
            shape = (1, *shape)
        if len(shape) != 3:
            raise ValueError(f"layers[{i}] (conv2d) needs a (C, H, W) input; got shape {shape}")
        k, f = int(layer["kernel"]), int(layer["filters"])
        conv = nn.Conv2d(shape[0], f, kernel_size=k, padding=k // 2)
        return [conv, *activation(layer.get("activation"))], (f, shape[1], shape[2])
    if kind in ("maxpool2d", "avgpool2d"):
        if len(shape) != 3:
            raise ValueError(f"layers[{i}] ({kind}) needs a (C, H, W) input; got shape {shape}")
        size = int(layer["size"])
        pool_cls = nn.MaxPool2d if kind == "maxpool2d" else nn.AvgPool2d
        out = (shape[0], math.ceil(shape[1] / size), math.ceil(shape[2] / size))
        return [pool_cls(size, ceil_mode=True)], out
    if kind == "flatten":
        return [nn.Flatten()], (math.prod(shape),)
    if kind == "globalavgpool":
        if len(shape) != 3:
            raise ValueError(f"layers[{i}] (globalavgpool) needs a (C, H, W) input; got {shape}")
        return [nn.AdaptiveAvgPool2d(1), nn.Flatten()], (shape[0],)
    if kind == "dropout":
        rate = float(layer["rate"])
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"layers[{i}].rate must be in [0, 1); got {rate}")
        return [nn.Dropout(rate)], shape
    raise ValueError(f"layers[{i}].type {kind!r} has no builder")  # pragma: no cover
