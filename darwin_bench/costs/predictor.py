"""The calibrated host latency predictor: a per-layer-kind linear model fitted on this machine.

The host runs networks in PyTorch eager mode, where every module call costs a dispatch
overhead and then its arithmetic and memory traffic. The predictor models one forward pass at
batch size 1 as::

    latency = c0 + sum over layer kinds k of
              a_k * calls_k + o_k * ops_k + b_k * flops_k + d_k * bytes_k

(``ops`` = tensor operators dispatched, including those between modules; ``bytes`` =
activations in and out plus parameters, fp32). The non-negative coefficients are
fitted by non-negative least squares on *relative* error over a calibration set of measured
networks (nn-Meter-style kernel-level modeling, simplified to one linear model per kind).
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
FEATURES: tuple[str, ...] = (
    "intercept",
    *(f"{kind}.{quantity}" for kind in KINDS for quantity in QUANTITIES),
)
#: Units the coefficients are reported in (per feature quantity).
UNITS = {
    "intercept": "us",
    "calls": "us/call",
    "ops": "us/op",
    "flops": "us/MFLOP",
    "bytes": "us/MB",
}


def features(workload: Workload) -> np.ndarray:
    """The predictor's feature vector of a traced workload (see :data:`FEATURES`)."""
    row = np.zeros(len(FEATURES))
    row[0] = 1.0
    for layer in workload.layers:
        base = 1 + len(QUANTITIES) * KINDS.index(layer.kind)
        row[base] += layer.calls
        row[base + 1] += layer.ops
        row[base + 2] += layer.flops * 1e-6
        row[base + 3] += (layer.activation_bytes + 4 * layer.param_elements) * 1e-6
    return row


@dataclass(frozen=True)
class HostPredictor:
    """Fitted coefficients (microseconds per feature unit, see :data:`UNITS`)."""

    coefficients: tuple[float, ...]

    def predict_ms(self, workload: Workload) -> float:
        """Predicted latency of one forward pass at batch size 1, in ms."""
        return float(features(workload) @ np.asarray(self.coefficients)) / 1e3

    def to_dict(self) -> dict[str, Any]:
        """The ``calibration`` entry of a host profile."""
        return {
            "model": "per-layer-kind linear (darwin_bench.costs.predictor)",
            "features": list(FEATURES),
            "coefficients_us": [float(c) for c in self.coefficients],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HostPredictor:
        """Read a profile's ``calibration`` entry.

        Raises:
            ValueError: when its features differ from this version's :data:`FEATURES`.
        """
        if list(data.get("features", [])) != list(FEATURES):
            raise ValueError(
                "calibration.features do not match this darwin_bench version; "
                "re-run `darwin-bench perf calibrate`"
            )
        return cls(tuple(float(c) for c in data["coefficients_us"]))


def fit_predictor(workloads: Sequence[Workload], latencies_ms: Sequence[float]) -> HostPredictor:
    """Fit the coefficients on measured latencies (non-negative, minimizing relative error)."""
    x = np.stack([features(w) for w in workloads])
    y = np.asarray(latencies_ms, dtype=float) * 1e3
    if len(y) < 2 or np.any(y <= 0):
        raise ValueError("latencies_ms must hold at least 2 positive measurements")
    weights = 1.0 / y
    coef, _ = nnls(x * weights[:, None], np.ones_like(y))
    return HostPredictor(tuple(float(c) for c in coef))


def accuracy_report(
    predicted: Sequence[float], measured: Sequence[float], flops: Sequence[float]
) -> dict[str, float]:
    """Share within +-10% of the measured latency, Spearman rho, and Spearman rho of FLOPs."""
    p, m = np.asarray(predicted, dtype=float), np.asarray(measured, dtype=float)
    rel = np.abs(p - m) / m
    return {
        "n": len(m),
        "within_10pct": float(np.mean(rel <= 0.10)),
        "within_20pct": float(np.mean(rel <= 0.20)),
        "median_abs_rel_error": float(np.median(rel)),
        "spearman": float(spearmanr(p, m).statistic),
        "flops_spearman": float(spearmanr(np.asarray(flops, dtype=float), m).statistic),
    }
