"""One traced forward pass: the per-layer workload every modeled cost is computed from.

A single forward pass at batch size 1 runs under ``torch.utils.flop_counter`` with forward
hooks on every leaf module. Each leaf module becomes a :class:`LayerWork` (its kind, calls,
FLOPs, weight and activation bytes, weight density and the share of its weight matrix that
survives structured compaction); FLOPs outside leaf modules (functional code in a custom
``forward``) become one extra ``"other"`` entry. Fused recurrent modules (``nn.LSTM`` ...),
which the flop counter does not see, are counted analytically, every time step included.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode

from darwin_bench.costs.counts import effective_weights

#: Layer kinds, in the order the host predictor's features use them.
KINDS: tuple[str, ...] = (
    "linear",
    "conv",
    "recurrent",
    "embedding",
    "pool",
    "norm",
    "activation",
    "reshape",
    "other",
)

_KIND_OF: tuple[tuple[tuple[type[nn.Module], ...], str], ...] = (
    ((nn.Linear, nn.Bilinear), "linear"),
    ((nn.modules.conv._ConvNd,), "conv"),
    ((nn.RNNBase, nn.RNNCellBase), "recurrent"),
    ((nn.Embedding, nn.EmbeddingBag), "embedding"),
    (
        (
            nn.modules.pooling._MaxPoolNd,
            nn.modules.pooling._AvgPoolNd,
            nn.modules.pooling._AdaptiveAvgPoolNd,
            nn.modules.pooling._AdaptiveMaxPoolNd,
        ),
        "pool",
    ),
    ((nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm), "norm"),
    (
        (
            nn.ReLU,
            nn.ReLU6,
            nn.LeakyReLU,
            nn.ELU,
            nn.GELU,
            nn.SiLU,
            nn.Tanh,
            nn.Sigmoid,
            nn.Softmax,
            nn.LogSoftmax,
            nn.Hardswish,
            nn.Hardtanh,
        ),
        "activation",
    ),
    ((nn.Flatten, nn.Unflatten, nn.Dropout, nn.Identity), "reshape"),
)


def layer_kind(module: nn.Module) -> str:
    """The kind of a leaf module (one of :data:`KINDS`)."""
    for classes, kind in _KIND_OF:
        if isinstance(module, classes):
            return kind
    return "other"


def layer_variant(module: nn.Module) -> str:
    """A finer label than :func:`layer_kind` for layers whose kernels differ in speed."""
    kind = layer_kind(module)
    if isinstance(module, nn.modules.conv._ConvNd):
        size = "x".join(str(k) for k in module.kernel_size)
        return f"conv.k{size}" + (f".g{module.groups}" if module.groups > 1 else "")
    if kind in ("activation", "pool", "recurrent", "norm"):
        return f"{kind}.{type(module).__name__}"
    return ""


@dataclass
class LayerWork:
    """The work of one leaf module in one forward pass.

    Attributes:
        name: the module's qualified name (``""`` for work outside leaf modules).
        kind: one of :data:`KINDS`.
        variant: a finer label where kernels of one kind differ in speed (``conv.k5``,
            ``activation.GELU``, ``recurrent.LSTMCell``); empty otherwise.
        calls: how many times it ran (time steps of an unrolled recurrence count).
        flops: dense FLOPs (a multiply-accumulate is 2).
        ops: tensor operators dispatched (each costs a kernel call; for the ``"other"``
            entry: the operators run outside any leaf module, e.g. concatenations).
        weight_elements: elements of its connection-weight tensors.
        param_elements: elements of all its parameters (weights, biases, scales).
        activation_bytes: input plus output bytes summed over calls.
        peak_bytes: the largest input-plus-output bytes of one call.
        density: non-zero share of its connection weights (1 for layers without weights).
        structured: share of its dense weight work left after removing all-zero output rows
            and all-zero input columns (what cluster pruning can physically drop).
        layout: for convolutions, the layout an inference engine runs them in (see
            :func:`blocked_conv_flops`); empty otherwise.
        blocked_flops: for convolutions, FLOPs with channels padded to that layout.
    """

    name: str
    kind: str
    variant: str = ""
    calls: int = 0
    flops: float = 0.0
    ops: int = 0
    weight_elements: int = 0
    param_elements: int = 0
    activation_bytes: int = 0
    peak_bytes: int = 0
    density: float = 1.0
    structured: float = 1.0
    layout: str = ""
    blocked_flops: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable fields."""
        return dict(self.__dict__)


@dataclass
class Workload:
    """The traced work of one forward pass at batch size 1.

    Attributes:
        layers: per-leaf-module work, in first-call order.
        flops: total FLOPs (flop counter plus analytic recurrent FLOPs).
        peak_activation_bytes: the largest input-plus-output bytes of any single layer call,
            the working set of a layer-by-layer executor.
        input_bytes: bytes of the example input.
    """

    layers: list[LayerWork] = field(default_factory=list)
    flops: float = 0.0
    peak_activation_bytes: int = 0
    input_bytes: int = 0


def _nbytes(value: Any) -> int:
    if isinstance(value, torch.Tensor):
        return value.numel() * value.element_size()
    if isinstance(value, (tuple, list)):
        return sum(_nbytes(v) for v in value)
    if isinstance(value, dict):
        return sum(_nbytes(v) for v in value.values())
    return 0


#: Channel block of ONNX Runtime's blocked (NCHWc) convolution kernels on AVX-512 CPUs (8 on
#: AVX2): channels are padded to a multiple of it.
CHANNEL_BLOCK = 16


def blocked_conv_flops(module: nn.Module, output: Any) -> tuple[str, float]:
    """The layout and padded FLOPs of one convolution call, as ONNX Runtime's CPU kernels run it.

    ONNX Runtime runs a convolution with at least 8 input channels in the blocked NCHWc
    layout, input and output channels padded to :data:`CHANNEL_BLOCK`; one with fewer input
    channels reads plain NCHW input (output channels still blocked); transposed convolutions
    stay NCHW. Its time follows these padded counts, which plain FLOPs miss.

    Returns:
        ``("nchwc" | "nchw" | "transposed", FLOPs with padded channels)``, or ``("", 0.0)``
        for a module that is not a convolution.
    """
    if not isinstance(module, nn.modules.conv._ConvNd) or not isinstance(output, torch.Tensor):
        return "", 0.0
    groups = module.groups
    c_in, c_out = module.in_channels // groups, module.out_channels // groups

    def pad(c: int) -> int:
        return -(-c // CHANNEL_BLOCK) * CHANNEL_BLOCK

    if module.transposed:
        layout, c_in_p, c_out_p = "transposed", c_in, c_out
    elif module.in_channels < 8:
        layout, c_in_p, c_out_p = "nchw", c_in, pad(c_out)
    else:
        layout, c_in_p, c_out_p = "nchwc", pad(c_in), pad(c_out)
    positions = output.numel() // max(module.out_channels, 1)
    kernel = math.prod(module.kernel_size)
    return layout, 2.0 * groups * c_in_p * c_out_p * kernel * positions


def _rnn_flops(module: nn.Module, inputs: tuple[Any, ...]) -> float:
    """Analytic FLOPs of a fused ``nn.RNN``/``nn.GRU``/``nn.LSTM`` call, every time step."""
    if not isinstance(module, nn.RNNBase) or not inputs:
        return 0.0
    x = inputs[0]
    if isinstance(x, nn.utils.rnn.PackedSequence):
        steps_x_batch = int(x.data.shape[0])
    elif x.dim() == 2:  # unbatched (T, features)
        steps_x_batch = int(x.shape[0])
    else:
        steps_x_batch = int(x.shape[0] * x.shape[1])
    total = 0.0
    for name, tensor in module.named_parameters():
        if name.startswith("weight_"):
            total += 2.0 * tensor.numel() * steps_x_batch
    return total


def count_flops(model: nn.Module, example: torch.Tensor) -> int:
    """FLOPs of one forward pass over ``example`` (a batch), from ``torch.utils.flop_counter``.

    A multiply-accumulate counts as 2 FLOPs; dense operators only (matmul, convolution), as
    torch's counter defines them. Fused recurrent modules (``nn.RNN``/``GRU``/``LSTM``), which
    the counter does not see, are counted analytically with every time step.
    """
    return round(trace_workload(model, example).flops)


def trace_workload(model: nn.Module, example: torch.Tensor) -> Workload:
    """Run one forward pass of ``model`` on ``example`` and record its per-layer work.

    Args:
        model: the network (it is put in eval mode for the pass, then restored).
        example: one batch of inputs (batch size 1 for per-example costs).
    """
    leaves = {m: n for n, m in model.named_modules() if not list(m.children())}
    works: dict[str, LayerWork] = {}
    extra_flops: dict[str, float] = {}
    ops = _OpCounter()
    started: dict[str, int] = {}

    def pre_hook(module: nn.Module, inputs: tuple[Any, ...]) -> None:
        started[leaves[module]] = ops.count

    def hook(module: nn.Module, inputs: tuple[Any, ...], output: Any) -> None:
        name = leaves[module]
        work = works.get(name)
        if work is None:  # weights are inspected after the pass, outside the flop counter
            work = works[name] = LayerWork(name, layer_kind(module), layer_variant(module))
        size = _nbytes(inputs) + _nbytes(output)
        work.calls += 1
        work.ops += ops.count - started.get(name, ops.count)
        work.activation_bytes += size
        work.peak_bytes = max(work.peak_bytes, size)
        extra_flops[name] = extra_flops.get(name, 0.0) + _rnn_flops(module, inputs)
        work.layout, blocked = blocked_conv_flops(module, output)
        work.blocked_flops += blocked

    handles = [m.register_forward_hook(hook) for m in leaves]
    handles += [m.register_forward_pre_hook(pre_hook) for m in leaves]
    was_training = model.training
    model.eval()
    counter = FlopCounterMode(display=False)
    try:
        with torch.no_grad(), counter, ops:
            model(example)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    layers = _attribute(model, leaves, works, extra_flops, counter, ops.count)
    flops = sum(w.flops for w in layers)
    return Workload(
        layers=layers,
        flops=flops,
        peak_activation_bytes=max((w.peak_bytes for w in layers), default=0),
        input_bytes=_nbytes(example),
    )


def _attribute(
    model: nn.Module,
    leaves: dict[nn.Module, str],
    works: dict[str, LayerWork],
    extra_flops: dict[str, float],
    counter: FlopCounterMode,
    total_ops: int,
) -> list[LayerWork]:
    """Complete the recorded leaves with weights and FLOPs after the pass; work no leaf
    accounts for (parameters and operators of non-leaf modules) goes to one ``"other"`` entry."""
    modules = {n: m for m, n in leaves.items()}
    for name, work in works.items():
        _add_weights(work, modules[name])
    counts = counter.get_flop_counts()
    root = type(model).__name__
    attributed = 0.0
    for name, work in works.items():
        key = f"{root}.{name}" if name else root
        counted = float(sum(counts.get(key, {}).values()))
        work.flops = counted if counted > 0 else extra_flops.get(name, 0.0)
        attributed += counted
    total_counted = float(counter.get_total_flops())
    layers = list(works.values())
    loose = [p for m in model.modules() if m not in leaves for p in m.parameters(recurse=False)]
    loose_ops = total_ops - sum(w.ops for w in layers)
    if total_counted - attributed > 0.5 or loose or loose_ops > 0:
        layers.append(
            LayerWork(
                "",
                "other",
                calls=0,
                ops=max(loose_ops, 0),
                flops=max(total_counted - attributed, 0.0),
                param_elements=sum(p.numel() for p in loose),
            )
        )
    return layers


class _OpCounter(TorchDispatchMode):
    """Counts the tensor operators a forward pass dispatches."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def __torch_dispatch__(
        self,
        func: Any,
        types: Any,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        self.count += 1
        return func(*args, **(kwargs or {}))


def _add_weights(work: LayerWork, module: nn.Module) -> None:
    """Fill in a layer's weight counts, density and structured share."""
    weights = effective_weights(module, recurse=False)
    elements = sum(w.numel() for w in weights)
    work.weight_elements = elements
    work.param_elements = sum(p.numel() for p in module.parameters(recurse=True))
    if elements:
        work.density = sum(int(np.count_nonzero(_nonzero(w))) for w in weights) / elements
        work.structured = sum(w.numel() * _structured_share(w) for w in weights) / elements


def _structured_share(weight: torch.Tensor) -> float:
    """Share of a weight's elements inside its non-zero rows x non-zero input columns."""
    if not math.prod(weight.shape):
        return 1.0
    w = np.any(_nonzero(weight).reshape(weight.shape[0], weight.shape[1], -1), axis=2)
    rows = int(np.any(w, axis=1).sum())
    cols = int(np.any(w, axis=0).sum())
    return (rows / w.shape[0]) * (cols / w.shape[1])


def _nonzero(weight: torch.Tensor) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Boolean non-zero mask of a weight, in numpy (far cheaper than torch for small tensors)."""
    return weight.detach().cpu().float().numpy() != 0
