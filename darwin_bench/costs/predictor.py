"""The calibrated host latency predictor: a per-layer-kind linear model fitted on this machine.

The host runs networks in ONNX Runtime (``latency_ms``), where every graph node costs a fixed
overhead and then its arithmetic and memory traffic; the same model fitted to PyTorch eager
timings (``latency_ms_eager``, where Python dispatch per module dominates) is reported beside it
by ``darwin-bench perf latency-predictor``. The predictor models one forward pass at batch
size 1 as::

    latency = c0 + sum over layer kinds k of
              a_k * calls_k + o_k * ops_k + b_k * flops_k + d_k * bytes_k

(``ops`` = tensor operators dispatched, including those between modules; ``bytes`` =
activations in and out plus parameters, fp32). The non-negative coefficients are
fitted by non-negative least squares on *relative* error over a calibration set of measured
networks (nn-Meter-style kernel-level modeling, simplified to one linear model per kind, with
extra features per kernel type: element-wise kernels by variant, convolutions by layout and
kernel size).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import nnls
from scipy.stats import spearmanr

from darwin_bench.costs.trace import KINDS, Workload

QUANTITIES: tuple[str, ...] = ("calls", "ops", "flops", "bytes")
#: The base features; calibration adds one ``<variant>.calls`` feature per layer variant seen.
FEATURES: tuple[str, ...] = (
    "intercept",
    *(f"{kind}.{quantity}" for kind in KINDS for quantity in QUANTITIES),
)
#: Kinds whose kernels touch every element once; each variant gets its own per-MB feature.
ELEMENTWISE: tuple[str, ...] = ("activation", "pool", "norm")
#: Units the coefficients are reported in (per feature quantity).
UNITS = {
    "intercept": "us",
    "calls": "us/call",
    "ops": "us/op",
    "flops": "us/MFLOP",
    "bytes": "us/MB",
}


def feature_values(workload: Workload) -> dict[str, float]:
    """The predictor's features of a traced workload, by name (absent features are 0).

    Per layer kind: calls, dispatched operators, MFLOP and MB moved; per layer *variant* (e.g.
    ``conv.k5x5``, ``activation.GELU``; kernels of one kind differ in speed on CPUs) its calls;
    per element-wise kernel (:data:`ELEMENTWISE` kinds: ``activation.ELU``,
    ``pool.MaxPool2d``, ...) the MB it reads and writes, since an ELU costs an exponential per
    element where a ReLU is fused into the layer before it; per convolution *layout*
    (``conv.nchwc``, ``conv.nchw``, ``conv.transposed``) its calls and MFLOP with channels
    padded as the engine runs them (:func:`darwin_bench.costs.trace.blocked_conv_flops`), and
    those MFLOP again per layout and kernel size (``conv.nchwc.k3x3``: one kernel type each, as
    nn-Meter models kernels).
    """
    values: dict[str, float] = {"intercept": 1.0}
    for layer in workload.layers:
        for name, value in (
            (f"{layer.kind}.calls", layer.calls),
            (f"{layer.kind}.ops", layer.ops),
            (f"{layer.kind}.flops", layer.flops * 1e-6),
            (f"{layer.kind}.bytes", (layer.activation_bytes + 4 * layer.param_elements) * 1e-6),
        ):
            values[name] = values.get(name, 0.0) + value
        if layer.variant:
            key = f"{layer.variant}.calls"
            values[key] = values.get(key, 0.0) + layer.calls
        if layer.variant and layer.kind in ELEMENTWISE:
            key = f"{layer.variant}.bytes"
            values[key] = values.get(key, 0.0) + layer.activation_bytes * 1e-6
        if layer.layout:
            size = layer.variant.split(".", 1)[1]  # k3x3, k3x3.g4
            for key, value in (
                (f"{layer.kind}.{layer.layout}.calls", layer.calls),
                (f"{layer.kind}.{layer.layout}.blocked_flops", layer.blocked_flops * 1e-6),
                (f"{layer.kind}.{layer.layout}.{size}.blocked_flops", layer.blocked_flops * 1e-6),
            ):
                values[key] = values.get(key, 0.0) + value
    return values


def features(workload: Workload, names: Sequence[str] = FEATURES) -> np.ndarray:
    """The feature vector of a workload over ``names`` (default: the base :data:`FEATURES`)."""
    values = feature_values(workload)
    return np.array([values.get(n, 0.0) for n in names])


@dataclass(frozen=True)
class HostPredictor:
    """Fitted coefficients (microseconds per feature unit, see :data:`UNITS`) by feature."""

    names: tuple[str, ...]
    coefficients: tuple[float, ...]

    def predict_ms(self, workload: Workload) -> float:
        """Predicted latency of one forward pass at batch size 1, in ms.

        A layer variant the calibration never saw adds nothing beyond its kind's figures.
        """
        return float(features(workload, self.names) @ np.asarray(self.coefficients)) / 1e3

    def to_dict(self) -> dict[str, Any]:
        """The ``calibration`` entry of a host profile."""
        return {
            "model": "per-layer-kind linear (darwin_bench.costs.predictor)",
            "features": list(self.names),
            "coefficients_us": [float(c) for c in self.coefficients],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HostPredictor:
        """Read a profile's ``calibration`` entry.

        Raises:
            ValueError: when it lacks this version's base :data:`FEATURES`.
        """
        names = tuple(str(n) for n in data.get("features", []))
        coefficients = tuple(float(c) for c in data.get("coefficients_us", []))
        if not set(FEATURES) <= set(names) or len(names) != len(coefficients):
            raise ValueError(
                "calibration.features do not match this darwin_bench version; "
                "re-run `darwin-bench perf calibrate`"
            )
        return cls(names, coefficients)


def fit_predictor(workloads: Sequence[Workload], latencies_ms: Sequence[float]) -> HostPredictor:
    """Fit the coefficients on measured latencies (non-negative, minimizing relative error)."""
    seen = {n for w in workloads for n in feature_values(w)}
    names = (*FEATURES, *sorted(seen - set(FEATURES)))
    x = np.stack([features(w, names) for w in workloads])
    y = np.asarray(latencies_ms, dtype=float) * 1e3
    if len(y) < 2 or np.any(y <= 0):
        raise ValueError("latencies_ms must hold at least 2 positive measurements")
    weights = 1.0 / y
    coef, _ = nnls(x * weights[:, None], np.ones_like(y))
    return HostPredictor(names, tuple(float(c) for c in coef))


def accuracy_report(
    predicted: Sequence[float], measured: Sequence[float], flops: Sequence[float]
) -> dict[str, Any]:
    """Share within +-10% of the measured latency, Spearman rho, and Spearman rho of FLOPs."""
    p, m = np.asarray(predicted, dtype=float), np.asarray(measured, dtype=float)
    rel = np.abs(p - m) / m
    return {
        "n": len(m),
        "within_10pct": float(np.mean(rel <= 0.10)),
        "within_20pct": float(np.mean(rel <= 0.20)),
        "median_abs_rel_error": float(np.median(rel)),
        "spearman": spearman(p, m),
        "flops_spearman": spearman(flops, m),
    }


def spearman(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> float | None:
    """Spearman's rho, or None when it is undefined (fewer than 2 values, or a constant)."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    return float(spearmanr(x, y).statistic)
