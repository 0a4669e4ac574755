"""Exact counts against hand-computed values for small networks."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import prune

from darwin_bench.costs import (
    CostConfig,
    count_clusters,
    count_flops,
    count_params,
    count_synapses,
    measure_costs,
    model_bytes,
    trace_workload,
)

NO_TIMING = CostConfig(latency=False, devices=())


def mlp() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10)
    )


def test_darwin_ancestor_mlp_counts() -> None:
    net = mlp()
    costs = measure_costs(net, torch.zeros(1, 64), NO_TIMING)
    synapses = 64 * 256 + 256 * 256 + 256 * 10
    assert synapses == 84_480
    assert costs["synapses"] == synapses
    assert costs["macs"] == synapses  # one MAC per weight at batch 1
    assert costs["flops"] == 2 * synapses
    assert costs["params"] == synapses + 256 + 256 + 10
    assert costs["clusters"] == costs["clusters_total"] == 256 + 256 + 10
    assert costs["activation_bytes"] == (256 + 256) * 4  # the 256 -> 256 layer's in + out
    assert costs["model_bytes"] == 4 * costs["params"]
    assert costs["model_bytes_fp16"] == 2 * costs["params"]
    assert costs["model_bytes_int8"] == costs["params"]


def test_masked_weights_are_not_synapses_and_dead_rows_are_not_clusters() -> None:
    net = mlp()
    prune.l1_unstructured(net[0], "weight", amount=0.5)  # torch's mask parametrization
    assert count_synapses(net) == 84_480 - 64 * 256 // 2
    assert count_params(net) == 85_002  # pruning keeps the parameter
    with torch.no_grad():
        net[2].weight[:100] = 0.0  # 100 neurons of the second hidden layer lose every input
    alive, total = count_clusters(net)
    assert (alive, total) == (522 - 100, 522)
    assert count_synapses(net) == 84_480 - 64 * 256 // 2 - 100 * 256


def test_conv_counts() -> None:
    net = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(512, 10))
    x = torch.zeros(1, 1, 8, 8)
    conv_macs = 8 * 8 * 8 * 1 * 9  # out positions x filters x in channels x kernel
    assert count_flops(net, x) == 2 * (conv_macs + 512 * 10)
    assert count_synapses(net) == 8 * 9 + 5120
    assert count_clusters(net) == (8 + 10, 8 + 10)
    # the ReLU (and the flatten) read and write 8 x 8 x 8 values: the largest layer working set
    assert trace_workload(net, x).peak_activation_bytes == (512 + 512) * 4


def test_recurrent_time_steps_are_counted() -> None:
    lstm = nn.LSTM(8, 16, num_layers=2)
    per_step = 4 * 16 * (8 + 16) + 4 * 16 * (16 + 16)
    assert count_flops(lstm, torch.zeros(5, 1, 8)) == 2 * 5 * per_step
    assert count_flops(lstm, torch.zeros(10, 1, 8)) == 2 * 10 * per_step
    assert count_clusters(lstm) == (2 * 4 * 16, 2 * 4 * 16)


def test_unrolled_cell_counts_every_call() -> None:
    class Unrolled(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.cell = nn.RNNCell(4, 6)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h = torch.zeros(x.shape[1], 6)
            for t in range(x.shape[0]):
                h = self.cell(x[t], h)
            return h

    work = trace_workload(Unrolled(), torch.zeros(7, 1, 4))
    assert work.flops == 7 * 2 * (4 * 6 + 6 * 6)
    assert work.layers[0].calls == 7


def test_model_bytes_per_dtype() -> None:
    assert model_bytes(nn.Linear(3, 2)) == {"fp32": 32, "fp16": 16, "int8": 8}
