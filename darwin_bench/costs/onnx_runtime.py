"""Deployment in ONNX Runtime: export a module, load it, check its outputs against PyTorch's.

**Exporter.** The default is PyTorch's TorchScript-based exporter (``torch.onnx.export(...,
dynamo=False)``): it traces one forward pass, so Python control flow (the ``rnn`` space's
unrolled steps and delayed connections, the FCNs' skips, masked weights) becomes a static
graph for the traced input shape, which is what a batch-1 latency measures. It is deprecated
upstream in favour of the ``torch.export``-based exporter (``dynamo=True``, selectable here
with ``exporter="dynamo"``), which produced the same outputs on every space measured but took
10-40x longer per network (1-20 s against 10 ms-2 s; docs/costs.md): the export runs in every
evaluation, so its cost counts.

**Parity.** Before a network is timed, ONNX Runtime and PyTorch run the same input (the task's
example) and every output element must satisfy ``|ort - torch| <= atol + rtol * max|torch|``
(:class:`OnnxConfig`, default ``rtol = 1e-4``, ``atol = 1e-5``; float32 differences measured
here stay below 1e-6 of the output's scale). Non-finite values must sit at the same places. A
network that fails to export, to load or to match raises :class:`LatencyError`: a failed
measurement, never a silent number.
"""

from __future__ import annotations

import io
import time
import warnings
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import onnxruntime as ort
import torch
from torch import nn

from darwin_bench.validation import check_choice, check_positive_int

Exporter = Literal["torchscript", "dynamo"]
EXPORTERS: tuple[str, ...] = ("torchscript", "dynamo")


class LatencyError(RuntimeError):
    """A latency that could not be measured: export, loading or the parity check failed."""


@dataclass(frozen=True)
class OnnxConfig:
    """How networks are exported to and checked in ONNX Runtime.

    Attributes:
        exporter: ``"torchscript"`` (default, fast) or ``"dynamo"`` (``torch.export``-based).
        opset: ONNX opset of the exported graph.
        rtol: parity tolerance relative to the largest absolute PyTorch output.
        atol: absolute parity tolerance.
    """

    exporter: Exporter = "torchscript"
    opset: int = 17
    rtol: float = 1e-4
    atol: float = 1e-5

    def __post_init__(self) -> None:
        check_choice("exporter", self.exporter, EXPORTERS)
        check_positive_int("opset", self.opset)
        for name in ("rtol", "atol"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0 <= value < 1:
                raise ValueError(f"{name} must be a number in [0, 1); got {value!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable settings."""
        return asdict(self)


def engine_info(threads: int, config: OnnxConfig | None = None) -> dict[str, Any]:
    """What the ``onnxruntime`` engine is: versions, provider, threads, exporter settings."""
    return {
        "engine": "onnxruntime",
        "version": ort.__version__,
        "provider": "CPUExecutionProvider",
        "graph_optimization": "ORT_ENABLE_ALL",
        "threads": threads,
        **(config or OnnxConfig()).to_dict(),
    }


def _outputs(value: Any) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (tuple, list)) and all(isinstance(v, torch.Tensor) for v in value):
        return list(value)
    raise LatencyError(f"the network's output must be a tensor or a tuple of tensors; got {value}")


def export_onnx(model: nn.Module, example: torch.Tensor, config: OnnxConfig | None = None) -> bytes:
    """The ONNX model of ``model`` in eval mode for inputs shaped like ``example``.

    Raises:
        LatencyError: when the exporter fails (the reason names the exporter).
    """
    config = config or OnnxConfig()
    was_training = model.training
    model.eval()
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # deprecation of the TorchScript exporter, tracer
            if config.exporter == "dynamo":
                program = torch.onnx.export(
                    model,
                    (example,),
                    dynamo=True,
                    opset_version=max(config.opset, 18),
                    input_names=["input"],
                    verbose=False,
                )
                assert program is not None
                return bytes(program.model_proto.SerializeToString())
            buffer = io.BytesIO()
            torch.onnx.export(  # a file object is accepted; the stub only names paths
                model,
                (example,),
                buffer,  # type: ignore[arg-type]
                dynamo=False,
                opset_version=config.opset,
                input_names=["input"],
                training=torch.onnx.TrainingMode.EVAL,
            )
            return buffer.getvalue()
    except Exception as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise LatencyError(
            f"ONNX export ({config.exporter} exporter) failed: {type(exc).__name__}: {message}"
        ) from exc
    finally:
        model.train(was_training)


def session(data: bytes, threads: int) -> ort.InferenceSession:
    """An ONNX Runtime CPU session with ``threads`` intra-op threads, run sequentially.

    Raises:
        LatencyError: when ONNX Runtime cannot load the model.
    """
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LatencyError(f"ONNX Runtime could not load the exported network: {first}") from exc


def parity_error(
    model: nn.Module, example: torch.Tensor, sess: ort.InferenceSession, config: OnnxConfig
) -> float:
    """Check ONNX Runtime's outputs against PyTorch's on ``example``.

    Returns:
        The largest ``|ort - torch| / (atol + rtol * max|torch|)`` over all outputs (<= 1).

    Raises:
        LatencyError: when outputs differ in number or shape, when non-finite values are not
            at the same places, or when the ratio exceeds 1.
    """
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            expected = [t.detach().cpu().numpy() for t in _outputs(model(example))]
    finally:
        model.train(was_training)
    feed = {sess.get_inputs()[0].name: example.detach().cpu().numpy()}
    got = sess.run(None, feed)
    if len(got) != len(expected):
        raise LatencyError(
            f"ONNX Runtime returned {len(got)} outputs, PyTorch {len(expected)}: parity failed"
        )
    worst = 0.0
    for i, (a, b) in enumerate(zip(got, expected)):
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        if a.shape != b.shape:
            raise LatencyError(f"output {i}: ONNX Runtime shape {a.shape} != PyTorch {b.shape}")
        finite = np.isfinite(b)
        if not np.array_equal(finite, np.isfinite(a)) or not np.array_equal(a[~finite], b[~finite]):
            raise LatencyError(
                f"output {i}: non-finite values differ between ONNX Runtime and PyTorch"
            )
        if not finite.any():
            continue
        bound = config.atol + config.rtol * float(np.max(np.abs(b[finite])))
        diff = float(np.max(np.abs(a[finite] - b[finite])))
        if diff > bound:
            raise LatencyError(
                f"output {i}: ONNX Runtime differs from PyTorch by {diff:.3g} > tolerance "
                f"{bound:.3g} (atol {config.atol:g} + rtol {config.rtol:g} x max|output|)"
            )
        worst = max(worst, diff / bound if bound > 0 else 0.0)
    return worst


@dataclass
class Deployed:
    """A network loaded in ONNX Runtime and checked against PyTorch.

    Attributes:
        session: the ONNX Runtime session.
        export_ms: time the export took.
        session_ms: time loading (and optimizing) the graph took.
        parity: the parity ratio (see :func:`parity_error`).
    """

    session: ort.InferenceSession
    export_ms: float
    session_ms: float
    parity: float


def deploy(
    model: nn.Module, example: torch.Tensor, threads: int = 1, config: OnnxConfig | None = None
) -> Deployed:
    """Export ``model``, load it in ONNX Runtime and check its outputs on ``example``.

    Raises:
        LatencyError: when the export, the loading or the parity check fails.
    """
    config = config or OnnxConfig()
    start = time.perf_counter()
    data = export_onnx(model, example, config)
    exported = time.perf_counter()
    sess = session(data, threads)
    loaded = time.perf_counter()
    parity = parity_error(model, example, sess, config)
    return Deployed(sess, (exported - start) * 1e3, (loaded - exported) * 1e3, parity)
