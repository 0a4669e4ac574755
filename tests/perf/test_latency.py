"""``perf latency`` and the sweeps of ``perf latency-predictor``: their logic and contracts."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from darwin_bench.costs import LatencyConfig
from darwin_bench.perf.latency import agreement, pairwise_agreement
from darwin_bench.perf.latency_predictor import ENGINES, sweep
from darwin_bench.perf.networks import Network

FAST = LatencyConfig(repeats=5, warmup=1)


def test_agreement_counts_second_values_within_ten_percent_of_the_first() -> None:
    assert agreement([1.0, 1.0, 2.0, 10.0], [1.09, 0.8, 2.19, 10.0]) == 0.75
    assert pairwise_agreement([1.0, 1.05, 1.3]) == pytest.approx(1 / 3)


class _Spectral(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.fft.rfft(x).abs()


def test_a_sweep_times_every_network_in_both_engines_and_records_failures() -> None:
    torch.manual_seed(0)
    x = torch.randn(1, 8)
    networks = [
        Network("toy/mlp", "a", nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 4)), x),
        Network("toy/fft", "b", _Spectral(), x),
        Network("toy/linear", "c", nn.Linear(8, 2), x),
    ]
    measured, failed = sweep(networks, FAST)
    assert [m.arch_hash for m in measured] == ["a", "c"]
    assert list(failed) == ["b"] and "ONNX export" in failed["b"] and "toy/fft" in failed["b"]
    for m in measured:
        assert set(m.ms) == set(ENGINES) and all(v > 0 for v in m.ms.values())
        assert m.setup_ms["export"] > 0 and m.workload.flops > 0


def test_latency_command_contract(capsys: pytest.CaptureFixture[str]) -> None:
    from darwin_bench.cli import main

    args = ["perf", "latency", "--json", "--runs", "2", "--batches", "1", "--repeats", "5"]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    entry = report["batch_1"]
    for engine in ("onnxruntime", "torch-eager"):
        assert len(entry[engine]["runs_ms"]) == 2 and entry[engine]["median_ms"] > 0
        assert 0.0 <= entry[engine]["repeat_within_10pct"] <= 1.0
        assert set(entry[engine]["repeat_within_10pct_by_quantile"]) == {
            "0.0",
            "0.1",
            "0.2",
            "0.25",
            "0.5",
        }
    assert entry["eager_over_onnxruntime"]["median"] > 0
    assert report["timing"]["repeats"] == 5 and "batch_64" not in report
    assert main([*args[:-2], "--batches", "0"]) == 2
