"""The builder of ``fcn`` architectures: an encoder-decoder with optional skip connections."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from darwin_bench.architecture import Architecture
from darwin_bench.models.sequential import activation

NORMS = ("none", "batch")


def _post(index: int, layer: dict[str, Any], channels: int) -> list[nn.Module]:
    """Normalization (if any) and activation after a convolution of ``channels`` filters."""
    norm = layer.get("norm", "none")
    if norm not in NORMS:
        raise ValueError(f"layers[{index}].norm must be one of {list(NORMS)}; got {norm!r}")
    modules: list[nn.Module] = [nn.BatchNorm2d(channels)] if norm == "batch" else []
    return modules + activation(layer.get("activation"))


def _down_stage(index: int, layer: dict[str, Any], in_channels: int) -> nn.Sequential:
    filters, kernel = int(layer["filters"]), int(layer["kernel"])
    mode = layer["downsample"]
    if mode not in ("stride", "maxpool", "avgpool"):
        raise ValueError(
            f"layers[{index}].downsample must be one of ['avgpool', 'maxpool', 'stride']; "
            f"got {mode!r}"
        )
    modules: list[nn.Module] = []
    for j in range(int(layer.get("convs", 1))):
        stride = 2 if mode == "stride" and j == 0 else 1
        conv = nn.Conv2d(
            in_channels if j == 0 else filters, filters, kernel, stride=stride, padding=kernel // 2
        )
        modules += [conv, *_post(index, layer, filters)]
    if mode == "maxpool":
        modules.append(nn.MaxPool2d(2))
    elif mode == "avgpool":
        modules.append(nn.AvgPool2d(2))
    return nn.Sequential(*modules)


def _up_stage(index: int, layer: dict[str, Any], in_channels: int) -> nn.Sequential:
    filters, mode = int(layer["filters"]), layer["upsample"]
    if mode == "transposed":
        modules: list[nn.Module] = [nn.ConvTranspose2d(in_channels, filters, 2, stride=2)]
    elif mode == "bilinear":
        modules = [
            nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
            nn.Conv2d(in_channels, filters, 3, padding=1),
        ]
    else:
        raise ValueError(
            f"layers[{index}].upsample must be one of ['bilinear', 'transposed']; got {mode!r}"
        )
    return nn.Sequential(*modules, *_post(index, layer, filters))


class FCN(nn.Module):
    """Encoder stages, decoder stages (each optionally fused with a skip), a 1×1 conv head.

    Decoder stage ``i`` (counted from the deepest) doubles the resolution; with ``fuse[i]`` set,
    its output is concatenated with the encoder feature of the same resolution (the input for
    the last stage) and fused by a 3×3 convolution.
    """

    def __init__(
        self,
        down: list[nn.Sequential],
        up: list[nn.Sequential],
        fuse: list[nn.Sequential | None],
        head: nn.Conv2d,
    ) -> None:
        super().__init__()
        self.down = nn.ModuleList(down)
        self.up = nn.ModuleList(up)
        self.fuse = nn.ModuleList([f if f is not None else nn.Identity() for f in fuse])
        self.skip = [f is not None for f in fuse]
        self.head = head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = [x]
        for stage in self.down:
            features.append(stage(features[-1]))
        y = features.pop()
        for up, fuse, skip in zip(self.up, self.fuse, self.skip):
            y = up(y)
            bridge = features.pop()
            if skip:
                y = fuse(torch.cat([y, bridge], dim=1))
        out: torch.Tensor = self.head(y)
        return out


def build_fcn(architecture: Architecture) -> FCN:
    """Build an ``fcn`` architecture (see :mod:`darwin_bench.spaces.fcn`).

    Raises:
        ValueError: for layers out of order, unknown modes, or an input size the stages
            cannot halve.
    """
    shape = architecture.input_shape
    if len(shape) == 2:
        shape = (1, *shape)
    if len(shape) != 3:
        raise ValueError(f"fcn input_shape must be (C, H, W); got {architecture.input_shape}")
    layers = list(architecture.layers)
    downs = [la for la in layers if la["type"] == "fcn_down"]
    n = len(downs)
    kinds = [la["type"] for la in layers]
    if n == 0 or kinds != ["fcn_down"] * n + ["fcn_up"] * n + ["conv2d"]:
        raise ValueError(
            f"fcn layers must be k fcn_down, k fcn_up (k >= 1) and a conv2d head; got {kinds}"
        )
    if shape[1] % 2**n or shape[2] % 2**n:
        raise ValueError(
            f"input {shape[1]}x{shape[2]} cannot be halved {n} times (encoder depth {n})"
        )
    widths = [shape[0]]
    down_modules = []
    for i, layer in enumerate(downs):
        down_modules.append(_down_stage(i, layer, widths[-1]))
        widths.append(int(layer["filters"]))
    up_modules: list[nn.Sequential] = []
    fuse: list[nn.Sequential | None] = []
    channels = widths[-1]
    for j, layer in enumerate(layers[n : 2 * n]):
        index = n + j
        up_modules.append(_up_stage(index, layer, channels))
        channels = int(layer["filters"])
        if layer.get("skip"):
            bridge = widths[n - 1 - j]
            conv = nn.Conv2d(channels + bridge, channels, 3, padding=1)
            fuse.append(nn.Sequential(conv, *_post(index, layer, channels)))
        else:
            fuse.append(None)
    head_layer = layers[-1]
    kernel = int(head_layer.get("kernel", 1))
    head = nn.Conv2d(channels, int(head_layer["filters"]), kernel, padding=kernel // 2)
    return FCN(down_modules, up_modules, fuse, head)
