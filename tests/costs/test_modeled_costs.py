"""Roofline latency and Horowitz energy: hand-checked values and the sparsity rules."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from darwin_bench.costs import (
    DEVICES,
    CostConfig,
    cost_kind,
    get_device,
    known_costs,
    measure_costs,
    parse_cost,
    trace_workload,
)
from darwin_bench.costs.energy import DRAM_PJ_PER_BYTE, MAC_PJ, ON_CHIP_PJ_PER_BYTE, energy_mj
from darwin_bench.costs.roofline import roofline_latency_ms

X = torch.zeros(1, 64)


def mlp() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10)
    )


def test_roofline_by_hand_on_the_pi() -> None:
    pi = get_device("raspberry-pi-4")
    work = trace_workload(mlp(), X)
    compute_us = 2 * 84_480 / (pi.peak_gflops * 1e3)  # fits on chip: no DRAM time
    expected = pi.inference_overhead_us + 3 * pi.layer_overhead_us + compute_us
    assert math.isclose(roofline_latency_ms(work, pi), expected / 1e3, rel_tol=1e-9)


def test_energy_by_hand_on_the_pi() -> None:
    pi = get_device("raspberry-pi-4")
    work = trace_workload(mlp(), X)
    weights = 85_002 * 4
    activations = sum(la.activation_bytes for la in work.layers)
    expected_pj = 84_480 * MAC_PJ["fp32"] + (weights + activations) * ON_CHIP_PJ_PER_BYTE
    assert math.isclose(energy_mj(work, pi), expected_pj * 1e-9, rel_tol=1e-9)


def test_weights_beyond_on_chip_memory_cost_dram() -> None:
    tpu = get_device("edge-tpu")  # 8 MB of SRAM
    big = nn.Linear(2048, 2048)  # 4 M int8 weights fit
    huge = nn.Linear(4096, 4096)  # 16 M do not
    small_work = trace_workload(big, torch.zeros(1, 2048))
    huge_work = trace_workload(huge, torch.zeros(1, 4096))
    assert roofline_latency_ms(huge_work, tpu) > 10 * roofline_latency_ms(small_work, tpu)
    assert energy_mj(huge_work, tpu) > 16e6 * DRAM_PJ_PER_BYTE * 1e-9


def _zero_scattered(net: nn.Sequential, keep: float) -> None:
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for layer in net:
            if isinstance(layer, nn.Linear):
                mask = torch.rand(layer.weight.shape, generator=gen) < keep
                rows, cols = mask.shape
                for i in range(max(rows, cols)):  # no row or column left all-zero
                    mask[i % rows, i % cols] = True
                layer.weight.mul_(mask.float())


def _zero_clusters(net: nn.Sequential, keep: float) -> None:
    with torch.no_grad():
        for layer in list(net)[:-1]:
            if isinstance(layer, nn.Linear):
                layer.weight[int(layer.out_features * keep) :] = 0.0


def test_unstructured_sparsity_lowers_synapses_not_dense_latency() -> None:
    dense, sparse = mlp(), mlp()
    _zero_scattered(sparse, keep=0.1)
    config = CostConfig(latency=False)
    a, b = measure_costs(dense, X, config), measure_costs(sparse, X, config)
    assert b["synapses"] < 0.2 * a["synapses"]
    assert b["clusters"] == a["clusters"]
    for name, device in DEVICES.items():
        key = f"latency_ms@{name}"
        if device.unstructured_sparsity:
            assert b[key] < a[key]
        else:
            assert b[key] == pytest.approx(a[key])


def test_dropping_clusters_lowers_latency_on_every_device() -> None:
    dense, pruned = mlp(), mlp()
    _zero_clusters(pruned, keep=0.25)
    config = CostConfig(latency=False)
    a, b = measure_costs(dense, X, config), measure_costs(pruned, X, config)
    assert b["clusters"] < a["clusters"]
    for name in DEVICES:
        assert b[f"latency_ms@{name}"] < a[f"latency_ms@{name}"], name
        assert b[f"energy_mj@{name}"] < a[f"energy_mj@{name}"], name


def test_cost_names() -> None:
    assert parse_cost("flops") == ("flops", None)
    assert parse_cost("latency_ms@raspberry-pi-4") == ("latency_ms", "raspberry-pi-4")
    assert cost_kind("energy_mj@edge-tpu") == "modeled"
    assert cost_kind("latency_ms_q1") == "measured"
    assert cost_kind("synapses") == "exact"
    assert "energy_mj@jetson-nano" in known_costs()
    with pytest.raises(ValueError, match="cost must be one of .*'synapses'"):
        parse_cost("joules")
    with pytest.raises(ValueError, match="device must be one of .*'jetson-nano'"):
        parse_cost("latency_ms@pi-5")
    with pytest.raises(ValueError, match="only \\['latency_ms', 'energy_mj'\\] are modeled"):
        parse_cost("synapses@jetson-nano")


def test_perf_model_command_labels_figures_modeled(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from darwin_bench.cli import main

    assert main(["perf", "model", "--prune", "clusters:0.5", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["modeled"] is True
    assert out["exact"]["clusters"] == 128 + 128 + 10
    assert set(out["devices"]) == set(DEVICES)
    assert main(["perf", "model", "--prune", "half"]) == 2


def test_devices_command_lists_every_profile_with_sources(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json

    from darwin_bench.cli import main

    assert main(["devices", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["modeled"] is True
    assert {d["name"] for d in out["devices"]} == set(DEVICES)
    assert all(d["sources"]["peak_gflops"] for d in out["devices"])
    assert main(["devices"]) == 0
    assert "raspberry-pi-4" in capsys.readouterr().out
