"""The host predictor: fitting recovers known coefficients; the report's statistics."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from darwin_bench.costs.predictor import (
    FEATURES,
    HostPredictor,
    accuracy_report,
    feature_values,
    features,
    fit_predictor,
)
from darwin_bench.costs.trace import CHANNEL_BLOCK, LayerWork, Workload, trace_workload


def workload(linear_calls: int, flops: float, acts: int) -> Workload:
    layers = [
        LayerWork(f"{i}", "linear", calls=1, flops=flops, activation_bytes=acts)
        for i in range(linear_calls)
    ]
    layers.append(LayerWork("r", "activation", calls=linear_calls, activation_bytes=acts))
    return Workload(layers=layers, flops=flops * linear_calls)


def test_features_sum_per_kind() -> None:
    row = features(workload(3, 2e6, 1000))
    named = dict(zip(FEATURES, row))
    assert named["intercept"] == 1.0
    assert named["linear.calls"] == 3
    assert named["linear.flops"] == pytest.approx(6.0)  # MFLOP
    assert named["activation.calls"] == 3


def test_fit_recovers_exact_coefficients() -> None:
    truth = np.zeros(len(FEATURES))
    truth[FEATURES.index("intercept")] = 7.0
    truth[FEATURES.index("linear.calls")] = 4.0
    truth[FEATURES.index("linear.flops")] = 15.0
    truth[FEATURES.index("activation.calls")] = 1.5
    rng = np.random.default_rng(0)
    works = [workload(int(rng.integers(1, 6)), float(rng.uniform(1e4, 1e6)), 0) for _ in range(40)]
    latencies = [float(features(w) @ truth) / 1e3 for w in works]
    predictor = fit_predictor(works, latencies)
    predicted = [predictor.predict_ms(w) for w in works]
    assert np.allclose(predicted, latencies, rtol=1e-6)
    assert HostPredictor.from_dict(predictor.to_dict()) == predictor


def test_stale_calibration_is_refused() -> None:
    with pytest.raises(ValueError, match="perf calibrate"):
        HostPredictor.from_dict({"features": ["intercept"], "coefficients_us": [1.0]})


def test_accuracy_report() -> None:
    measured = [1.0, 2.0, 3.0, 4.0]
    report = accuracy_report([1.05, 2.5, 2.9, 4.0], measured, [10, 20, 40, 30])
    assert report["n"] == 4
    assert report["within_10pct"] == 0.75
    assert math.isclose(report["spearman"], 1.0)
    assert math.isclose(report["flops_spearman"], 0.8)


def test_latency_predictor_command_contract(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import json

    from darwin_bench.cli import main
    from darwin_bench.costs import load_profile

    args = ["perf", "latency-predictor", "--json", "--n", "6", "--calibration", "6"]
    out = tmp_path / "host.json"
    mlp = ["--envs", "darwin_bench/Digits-MLP-v0"]
    assert main([*args, "--repeats", "5", *mlp, "--out", str(out)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert load_profile(out).calibration is not None  # the run's own calibration
    assert -1.0 <= report["engines_spearman"] <= 1.0
    by_quantile = report["engines"]["onnxruntime"]["repeat_within_10pct_by_quantile"]
    assert set(by_quantile) == {"0.0", "0.1", "0.2", "0.25", "0.5"}
    assert by_quantile["0.0"] == report["repeat_within_10pct"]
    assert {"n", "within_10pct", "spearman", "flops_spearman", "repeat_within_10pct"} <= set(report)
    assert report["n"] == 6 and report["engine"] == "onnxruntime"
    assert 0.0 <= report["within_10pct"] <= 1.0
    assert set(report["engines"]) == {"onnxruntime", "torch-eager"}
    for engine in report["engines"].values():  # both engines side by side
        assert 0.0 <= engine["within_10pct"] <= 1.0 and 0.0 <= engine["repeat_within_10pct"] <= 1.0
    assert report["within_10pct"] == report["engines"]["onnxruntime"]["within_10pct"]
    assert report["eager_over_onnxruntime"]["median"] > 0
    assert report["setup_ms"]["export"]["median"] > 0
    assert report["timing"]["repeats"] == 5 and report["conditions_before"]["cpus"] >= 1
    assert main([*args, "--envs", "darwin_bench/Nope-v0"]) == 2


def test_calibrate_writes_a_valid_host_profile(tmp_path: Path) -> None:
    from darwin_bench.cli import main
    from darwin_bench.costs import load_profile

    out = tmp_path / "host.json"
    args = [
        "perf",
        "calibrate",
        "--json",
        "--calibration",
        "5",
        "--repeats",
        "5",
        "--out",
        str(out),
    ]
    assert main([*args, "--envs", "darwin_bench/Digits-MLP-v0"]) == 0
    profile = load_profile(out)
    assert profile.name == "host-cpu" and profile.calibration is not None
    assert profile.peak_gflops > 0 and "ONNX Runtime" in profile.description


def test_convolutions_are_costed_with_channels_padded_to_the_engine_layout() -> None:
    x = torch.randn(1, 3, 8, 8)
    model = nn.Sequential(nn.Conv2d(3, 20, 3, padding=1), nn.Conv2d(20, 8, 1))
    first, second = trace_workload(model, x).layers[:2]
    padded = -(-20 // CHANNEL_BLOCK) * CHANNEL_BLOCK
    assert (first.layout, second.layout) == ("nchw", "nchwc")
    assert first.blocked_flops == 2 * 3 * padded * 9 * 64 > first.flops
    assert second.blocked_flops == 2 * padded * CHANNEL_BLOCK * 64
    values = feature_values(trace_workload(model, x))
    assert values["conv.nchwc.calls"] == 1 and values["conv.nchw.blocked_flops"] > 0


def test_each_kernel_type_has_its_own_features() -> None:
    x = torch.randn(1, 3, 8, 8)
    model = nn.Sequential(
        nn.Conv2d(3, 20, 3, padding=1), nn.ELU(), nn.Conv2d(20, 8, 1), nn.ReLU(), nn.MaxPool2d(2)
    )
    work = trace_workload(model, x)
    values = feature_values(work)
    first, second = (layer for layer in work.layers if layer.kind == "conv")
    assert values["conv.nchw.k3x3.blocked_flops"] == pytest.approx(first.blocked_flops * 1e-6)
    assert values["conv.nchwc.k1x1.blocked_flops"] == pytest.approx(second.blocked_flops * 1e-6)
    # an ELU's exponentials and a ReLU fused into its convolution are priced per MB apart
    elu, relu = (layer for layer in work.layers if layer.kind == "activation")
    assert values["activation.ELU.bytes"] == pytest.approx(elu.activation_bytes * 1e-6)
    assert values["activation.ReLU.bytes"] == pytest.approx(relu.activation_bytes * 1e-6)
    assert values["pool.MaxPool2d.bytes"] > 0 and "conv.k3x3.bytes" not in values
