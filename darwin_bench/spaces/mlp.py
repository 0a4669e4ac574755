"""The ``mlp`` space: fully connected networks of 1-4 hidden layers."""

from __future__ import annotations

from typing import Any

from darwin_bench.architecture import Architecture
from darwin_bench.spaces.base import Gene
from darwin_bench.spaces.layered import LayeredSpace

ACTIVATIONS = ("relu", "tanh", "elu", "gelu")


class MLPSpace(LayeredSpace):
    """Hidden layers of ``width`` units and an ``activation`` each; a global ``dropout``.

    Inputs with more than one dimension are flattened first. The output layer is a linear
    layer of ``num_outputs`` units.
    """

    name = "mlp"
    slot_genes = (
        Gene("width", (16, 32, 64, 128, 256), ordered=True),
        Gene("activation", ACTIVATIONS),
    )
    global_genes = (Gene("dropout", (0.0, 0.1, 0.2, 0.3), ordered=True),)

    def build_architecture(
        self, layers: list[dict[str, Any]], globals_: dict[str, Any]
    ) -> Architecture:
        out: list[dict[str, Any]] = []
        if len(self.input_shape) > 1:
            out.append({"type": "flatten"})
        for layer in layers:
            out.append(
                {"type": "dense", "units": layer["width"], "activation": layer["activation"]}
            )
            if globals_["dropout"] > 0:
                out.append({"type": "dropout", "rate": globals_["dropout"]})
        return self._classifier(out)

    def parse_architecture(
        self, architecture: Architecture
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        layers: list[dict[str, Any]] = []
        dropout = 0.0
        for layer in self._hidden([la for la in architecture.layers if la["type"] != "flatten"]):
            if layer["type"] == "dense":
                layers.append({"width": layer["units"], "activation": layer["activation"]})
            elif layer["type"] == "dropout":
                dropout = float(layer["rate"])
            else:
                raise ValueError(f"layer type {layer['type']!r} is not in the mlp space")
        return layers, {"dropout": dropout}
