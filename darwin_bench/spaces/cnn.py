"""The ``cnn`` space: blocks of convolution (+ optional pooling), then a dense head."""

from __future__ import annotations

import math
from typing import Any

from darwin_bench.architecture import Architecture
from darwin_bench.spaces.base import Gene
from darwin_bench.spaces.layered import LayeredSpace

POOLS = ("none", "max", "avg")


class CNNSpace(LayeredSpace):
    """Conv blocks (``filters``, ``kernel``, ``pool``, ``activation``), a head and dropout.

    Convolutions keep the spatial size ("same" padding); a 2x2 pooling halves it (rounding
    up). A pooling gene on a block whose input is already 1x1 has no effect and is zero in the
    canonical genome. The head is ``flatten -> [dense(head) -> dropout] -> dense(outputs)``.
    Inputs are ``(channels, height, width)``; a 2-D ``(height, width)`` input gets one channel.
    """

    name = "cnn"
    slot_genes = (
        Gene("filters", (8, 16, 32, 64), ordered=True),
        Gene("kernel", (1, 3, 5), ordered=True),
        Gene("pool", POOLS),
        Gene("activation", ("relu", "elu", "gelu")),
    )
    global_genes = (
        Gene("head", (0, 32, 64, 128), ordered=True),
        Gene("dropout", (0.0, 0.1, 0.2, 0.3), ordered=True),
    )

    def __init__(self, input_shape: Any, num_outputs: int, **kwargs: Any) -> None:
        shape = tuple(int(d) for d in input_shape)
        if len(shape) == 2:
            shape = (1, *shape)
        if len(shape) != 3:
            raise ValueError(f"cnn input_shape must be (C, H, W) or (H, W); got {input_shape!r}")
        kwargs.setdefault("max_layers", 3)
        super().__init__(shape, num_outputs, **kwargs)

    def build_architecture(
        self, layers: list[dict[str, Any]], globals_: dict[str, Any]
    ) -> Architecture:
        out: list[dict[str, Any]] = []
        size = min(self.input_shape[1:])
        for layer in layers:
            out.append(
                {
                    "type": "conv2d",
                    "filters": layer["filters"],
                    "kernel": layer["kernel"],
                    "activation": layer["activation"],
                }
            )
            if layer["pool"] != "none" and size >= 2:
                out.append({"type": f"{layer['pool']}pool2d", "size": 2})
                size = math.ceil(size / 2)
        out.append({"type": "flatten"})
        if globals_["head"]:
            out.append({"type": "dense", "units": globals_["head"], "activation": "relu"})
        if globals_["dropout"] > 0:
            out.append({"type": "dropout", "rate": globals_["dropout"]})
        return self._classifier(out)

    def parse_architecture(
        self, architecture: Architecture
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        layers: list[dict[str, Any]] = []
        globals_: dict[str, Any] = {"head": 0, "dropout": 0.0}
        seen_flatten = False
        for layer in self._hidden(architecture.layers):
            kind = layer["type"]
            if kind == "conv2d" and not seen_flatten:
                layers.append(
                    {
                        "filters": layer["filters"],
                        "kernel": layer["kernel"],
                        "activation": layer["activation"],
                        "pool": "none",
                    }
                )
            elif kind in ("maxpool2d", "avgpool2d") and layers and not seen_flatten:
                layers[-1]["pool"] = kind[:3]
            elif kind == "flatten":
                seen_flatten = True
            elif kind == "dense" and seen_flatten:
                globals_["head"] = layer["units"]
            elif kind == "dropout":
                globals_["dropout"] = float(layer["rate"])
            else:
                raise ValueError(f"layer {kind!r} at this position is not in the cnn space")
        return layers, globals_
