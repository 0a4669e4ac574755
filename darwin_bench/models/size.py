"""A network's size from its :class:`Architecture`, without building it; the size guard.

:func:`network_size` counts parameters and activations (the elements of every layer's output
for one example: what a training step keeps for its backward pass) by arithmetic on the
architecture, so a network too large for the machine is refused before a byte of it is
allocated (:class:`SizeLimits`). The ``mlp``/``cnn`` (plain layer stacks), ``rnn`` and ``fcn``
spaces have exact estimators (tested against the built modules); a space without one (a
plug-in, the masked spaces over a fixed ancestor) is measured on PyTorch's ``meta`` device,
where modules have shapes but no storage.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from darwin_bench.architecture import Architecture
from darwin_bench.validation import check_positive_float, check_positive_int

#: Default of the ``max_params`` env kwarg: 50 M parameters (~800 MB to train with Adam:
#: weights, gradients and two moments at 4 bytes each).
MAX_PARAMS = 50_000_000
#: Default of the ``max_activation_mb`` env kwarg: 64 MB of activations per example (a training
#: batch of 64 keeps ~4 GB).
MAX_ACTIVATION_MB = 64.0


@dataclass(frozen=True)
class NetworkSize:
    """Parameters and activations of a network.

    Attributes:
        params: parameters (weights and biases).
        activations: elements of every leaf module's output in a forward pass of one example
            (a module called at every time step counts at every step).
    """

    params: int
    activations: int

    @property
    def activation_mb(self) -> float:
        """Activation memory of one example in float32, in MB (10**6 bytes)."""
        return 4 * self.activations / 1e6


SizeEstimator = Callable[[Architecture], NetworkSize]


def _prod(shape: tuple[int, ...]) -> int:
    return math.prod(int(d) for d in shape)


def _outputs(layer: dict[str, Any]) -> int:
    """Leaf modules a dense/conv layer builds: the layer, then its activation if any."""
    return 1 + (layer.get("activation") is not None)


def sequential_size(architecture: Architecture) -> NetworkSize:
    """Size of a plain layer stack (the layer types of :func:`build_sequential`)."""
    shape = tuple(architecture.input_shape)
    params = activations = 0
    for layer in architecture.layers:
        kind, outputs = layer["type"], 1
        if kind == "dense":
            units = int(layer["units"])
            params += _prod(shape) * units + units
            shape, outputs = (units,), _outputs(layer)
        elif kind == "conv2d":
            c, h, w = shape if len(shape) == 3 else (1, *shape)
            filters, kernel = int(layer["filters"]), int(layer["kernel"])
            params += c * filters * kernel * kernel + filters
            shape, outputs = (filters, h, w), _outputs(layer)
        elif kind in ("maxpool2d", "avgpool2d"):
            c, h, w = shape
            size = int(layer["size"])
            shape = (c, math.ceil(h / size), math.ceil(w / size))
        elif kind == "flatten":
            shape = (_prod(shape),)
        elif kind == "globalavgpool":
            shape, outputs = (shape[0],), 2  # the pooled map, then its flattened view
        activations += outputs * _prod(shape)
    return NetworkSize(params, activations)


#: Gate count of each recurrent cell (weight matrices per cell input).
GATES = {"rnn": 1, "gru": 3, "lstm": 4}


def recurrent_size(architecture: Architecture) -> NetworkSize:
    """Size of an ``rnn`` language model (:func:`build_recurrent`) over one window of tokens."""
    steps = int(architecture.input_shape[0])
    embedding, *cells, decoder = architecture.layers
    vocab, dim = int(embedding["vocab"]), int(embedding["dim"])
    params, per_step = vocab * dim, 0
    inputs = [dim]  # inputs[k]: the input size of recurrent layer k (then the top's output)
    for layer in cells:
        gates, units = GATES[layer["cell"]], int(layer["units"])
        params += gates * units * (inputs[-1] + units) + 2 * gates * units
        per_step += units * (2 if layer["cell"] == "lstm" else 1)  # h, and c for an LSTM
        inputs.append(units)
    for c in architecture.connections:  # a bias-free projection, applied at every step
        params += inputs[int(c["from"]) + 1] * inputs[int(c["to"])]
        per_step += inputs[int(c["to"])]
    units = int(decoder["units"])
    params += inputs[-1] * units + units
    return NetworkSize(params, steps * (dim + per_step + units))


def fcn_size(architecture: Architecture) -> NetworkSize:
    """Size of an ``fcn`` encoder-decoder (:func:`build_fcn`)."""
    shape = tuple(architecture.input_shape)
    c, h, w = shape if len(shape) == 3 else (1, *shape)
    layers = list(architecture.layers)
    n = sum(1 for la in layers if la["type"] == "fcn_down")
    params = activations = 0

    def conv(c_in: int, c_out: int, kernel: int, layer: dict[str, Any], pixels: int) -> None:
        """A convolution, then (as the layer says) batch norm and an activation."""
        nonlocal params, activations
        norm = layer.get("norm", "none") == "batch"
        params += c_in * c_out * kernel * kernel + c_out + (2 * c_out if norm else 0)
        activations += c_out * pixels * (1 + norm + (layer.get("activation") is not None))

    widths, sides = [c], [(h, w)]
    for layer in layers[:n]:
        filters, kernel = int(layer["filters"]), int(layer["kernel"])
        for j in range(int(layer.get("convs", 1))):
            if layer["downsample"] == "stride" and j == 0:
                h, w = math.ceil(h / 2), math.ceil(w / 2)
            conv(widths[-1] if j == 0 else filters, filters, kernel, layer, h * w)
        if layer["downsample"] != "stride":
            h, w = h // 2, w // 2
            activations += filters * h * w  # the pooled map
        widths.append(filters)
        sides.append((h, w))
    channels = widths[-1]
    for j, layer in enumerate(layers[n : 2 * n]):
        filters = int(layer["filters"])
        h, w = sides[n - 1 - j]
        if layer["upsample"] == "transposed":
            conv(channels, filters, 2, layer, h * w)
        else:
            activations += channels * h * w  # the upsampled map, then a 3x3 convolution
            conv(channels, filters, 3, layer, h * w)
        if layer.get("skip"):
            conv(filters + widths[n - 1 - j], filters, 3, layer, h * w)
        channels = filters
    head = layers[-1]
    conv(channels, int(head["filters"]), int(head.get("kernel", 1)), {}, h * w)
    return NetworkSize(params, activations)


#: Space name -> exact estimator. Spaces without one are measured on the ``meta`` device.
ESTIMATORS: dict[str, SizeEstimator] = {
    "mlp": sequential_size,
    "cnn": sequential_size,
    "rnn": recurrent_size,
    "fcn": fcn_size,
}


def register_size_estimator(space: str, estimator: SizeEstimator) -> None:
    """Use ``estimator`` for architectures of ``space`` (e.g. beside a custom builder)."""
    ESTIMATORS[space] = estimator


def meta_size(architecture: Architecture) -> NetworkSize:
    """Size measured on PyTorch's ``meta`` device: the modules are built with shapes but no
    storage, and a forward pass of one meta example counts every leaf module's output (no
    activations are counted when that example does not fit the network's input)."""
    import torch

    from darwin_bench.models import build_model

    with torch.device("meta"):
        model = build_model(architecture)
    params = sum(p.numel() for p in model.parameters())
    outputs: list[int] = []

    def count(_: Any, __: Any, output: Any) -> None:
        tensors = output if isinstance(output, tuple) else (output,)
        outputs.extend(t.numel() for t in tensors if isinstance(t, torch.Tensor))

    hooks = [m.register_forward_hook(count) for m in model.modules() if not list(m.children())]
    try:
        model(torch.empty((1, *architecture.input_shape), device="meta"))
    except Exception:  # an input this generic example does not fit (e.g. token ids)
        outputs = []
    finally:
        for hook in hooks:
            hook.remove()
    return NetworkSize(int(params), int(sum(outputs)))


def network_size(architecture: Architecture) -> NetworkSize:
    """Parameters and activation elements of ``architecture``, allocating nothing."""
    return ESTIMATORS.get(architecture.space, meta_size)(architecture)


@dataclass(frozen=True)
class SizeLimits:
    """The resource guard: the largest network an env trains.

    Args:
        max_params: most parameters (``None``: no limit).
        max_activation_mb: most activation memory of one example, float32, in MB (``None``:
            no limit).
    """

    max_params: int | None = MAX_PARAMS
    max_activation_mb: float | None = MAX_ACTIVATION_MB

    def check(self, architecture: Architecture) -> NetworkSize:
        """Return the network's size, or refuse it.

        Raises:
            ValueError: naming the limit (an env kwarg) the network is over.
        """
        size = network_size(architecture)
        if self.max_params is not None and size.params > self.max_params:
            raise ValueError(
                f"network has {size.params:,} parameters, over max_params={self.max_params:,} "
                "(an env kwarg; raise it, or pass null for no limit)"
            )
        if self.max_activation_mb is not None and size.activation_mb > self.max_activation_mb:
            raise ValueError(
                f"network needs {size.activation_mb:,.1f} MB of activations per example, over "
                f"max_activation_mb={self.max_activation_mb:g} (an env kwarg; raise it, or pass "
                "null for no limit)"
            )
        return size

    def to_dict(self) -> dict[str, Any]:
        """The limits, for run logs."""
        return {"max_params": self.max_params, "max_activation_mb": self.max_activation_mb}


def guard_space(space: Any, max_params: int | None, max_activation_mb: float | None) -> SizeLimits:
    """Make ``space`` refuse networks over these limits (its genomes decoding to one become
    invalid); return the limits.

    Raises:
        ValueError: for a limit that is not positive, or when no network of the space fits.
    """
    if max_params is not None:
        check_positive_int("max_params", max_params)
    if max_activation_mb is not None:
        check_positive_float("max_activation_mb", max_activation_mb)
    limits = SizeLimits(max_params, max_activation_mb)
    space.guard = limits
    try:
        space.sample(np.random.default_rng(0))
    except RuntimeError:
        raise ValueError(
            f"no network of space {space.name!r} found within max_params={max_params} and "
            f"max_activation_mb={max_activation_mb} (env kwargs); raise them"
        ) from None
    return limits
