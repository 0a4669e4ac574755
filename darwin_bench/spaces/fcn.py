"""The ``fcn`` space: small fully-convolutional encoder-decoders for dense (per-pixel) outputs.

Genome layout (a :class:`LayeredSpace`): ``depth`` encoder stages, each with ``channels``,
``kernel`` and ``convs`` genes, then the global genes ``downsample``, ``upsample``, ``skip``,
``activation`` and ``norm``. Every gene matters for every depth (slots beyond ``depth`` are
inactive).

The decoded network, at input resolution ``H×W`` (both divisible by ``2**depth``); every
convolution but the head is followed by a batch normalization when ``norm`` is ``batch``, then
the activation:

* **encoder stage i** (resolution ``H/2**i -> H/2**(i+1)``): ``convs`` convolutions of
  ``channels_i`` filters of size ``kernel_i`` ("same" padding); downsampling by 2 is either the
  stride of the first convolution (``stride``) or a 2×2 max / average pooling after the
  convolutions (``maxpool`` / ``avgpool``);
* **decoder stage i** (from the deepest up, ``H/2**(i+1) -> H/2**i``): upsampling by 2 to
  ``channels_{i-1}`` channels (``channels_0`` for the last stage) by a 2×2 transposed
  convolution (``transposed``) or bilinear interpolation followed by a 3×3 convolution
  (``bilinear``); with ``skip`` the result is concatenated with the
  encoder features of the same resolution (the input image for the last stage) and fused by a
  3×3 convolution (U-Net style);
* **head**: a 1×1 convolution to one channel: per-pixel saliency *logits* at input resolution
  (apply a sigmoid for maps in [0, 1]).

Architectures list the layers explicitly (``fcn_down``, ``fcn_up``, then a ``conv2d`` head), so
an architecture is readable and rebuildable on its own; see :mod:`darwin_bench.models.fcn`.
"""

from __future__ import annotations

from typing import Any

from darwin_bench.architecture import Architecture
from darwin_bench.spaces.base import Gene
from darwin_bench.spaces.layered import LayeredSpace

DOWNSAMPLES = ("stride", "maxpool", "avgpool")
UPSAMPLES = ("transposed", "bilinear")
ACTIVATIONS = ("relu", "elu", "gelu")
NORMS = ("batch", "none")


def max_depth(height: int, width: int) -> int:
    """The deepest encoder for an input: halvings that keep both sides whole and >= 2."""
    depth = 0
    while height % 2 == 0 and width % 2 == 0 and min(height, width) >= 4:
        height, width, depth = height // 2, width // 2, depth + 1
    return depth


class FCNSpace(LayeredSpace):
    """Encoder-decoder FCNs with a 1-channel logit map at input resolution (see module docs).

    Args:
        input_shape: ``(channels, height, width)`` of one image (a 2-D shape gets one channel).
        num_outputs: output channels of the head; saliency uses 1.
        max_layers: the deepest encoder (default ``min(3, max_depth(H, W))``).
        min_layers: the shallowest encoder (default 1).

    Raises:
        ValueError: for a non-image input shape, or a depth the input size cannot halve to.
    """

    name = "fcn"
    slot_genes = (
        Gene("channels", (8, 16, 24, 32), ordered=True),
        Gene("kernel", (3, 5), ordered=True),
        Gene("convs", (1, 2), ordered=True),
    )
    global_genes = (
        Gene("downsample", DOWNSAMPLES),
        Gene("upsample", UPSAMPLES),
        Gene("skip", (False, True)),
        Gene("activation", ACTIVATIONS),
        Gene("norm", NORMS),
    )

    def __init__(self, input_shape: Any, num_outputs: int = 1, **kwargs: Any) -> None:
        shape = tuple(int(d) for d in input_shape)
        if len(shape) == 2:
            shape = (1, *shape)
        if len(shape) != 3:
            raise ValueError(f"fcn input_shape must be (C, H, W) or (H, W); got {input_shape!r}")
        deepest = max_depth(shape[1], shape[2])
        if deepest < 1:
            raise ValueError(
                f"fcn input height and width must be even and >= 4; got {shape[1]}x{shape[2]}"
            )
        kwargs.setdefault("max_layers", min(3, deepest))
        if int(kwargs["max_layers"]) > deepest:
            raise ValueError(
                f"max_layers must be <= {deepest} for a {shape[1]}x{shape[2]} input "
                f"(each stage halves it); got {kwargs['max_layers']}"
            )
        super().__init__(shape, num_outputs, **kwargs)

    def build_architecture(
        self, layers: list[dict[str, Any]], globals_: dict[str, Any]
    ) -> Architecture:
        act = globals_["activation"]
        out: list[dict[str, Any]] = [
            {
                "type": "fcn_down",
                "filters": layer["channels"],
                "kernel": layer["kernel"],
                "convs": layer["convs"],
                "downsample": globals_["downsample"],
                "activation": act,
                "norm": globals_["norm"],
            }
            for layer in layers
        ]
        widths = [layer["channels"] for layer in layers]
        for i in reversed(range(len(layers))):
            out.append(
                {
                    "type": "fcn_up",
                    "filters": widths[i - 1] if i > 0 else widths[0],
                    "upsample": globals_["upsample"],
                    "skip": bool(globals_["skip"]),
                    "activation": act,
                    "norm": globals_["norm"],
                }
            )
        out.append({"type": "conv2d", "filters": self.num_outputs, "kernel": 1, "activation": None})
        return Architecture(self.name, self.input_shape, self.num_outputs, tuple(out))

    def parse_architecture(
        self, architecture: Architecture
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        body = list(architecture.layers)
        head = body[-1] if body else {}
        if head.get("type") != "conv2d" or head.get("filters") != self.num_outputs:
            raise ValueError(
                f"fcn architecture must end with a conv2d of {self.num_outputs} filters"
            )
        downs = [la for la in body[:-1] if la["type"] == "fcn_down"]
        ups = [la for la in body[:-1] if la["type"] == "fcn_up"]
        if not downs or len(downs) != len(ups) or len(downs) + len(ups) != len(body) - 1:
            raise ValueError("fcn architecture must be fcn_down stages, as many fcn_up, a head")
        keys = ("activation", "norm")
        settings = {
            (d["downsample"], u["upsample"], bool(u["skip"]), *(d[k] for k in keys))
            for d in downs
            for u in ups
            if all(d[k] == u[k] for k in keys)
        }
        if len(settings) != 1:
            raise ValueError("fcn stages must share downsample, upsample, skip, activation, norm")
        down, up, skip, act, norm = settings.pop()
        layers = [
            {"channels": d["filters"], "kernel": d["kernel"], "convs": d["convs"]} for d in downs
        ]
        globals_ = {"downsample": down, "upsample": up, "skip": skip, "activation": act}
        return layers, {**globals_, "norm": norm}
