"""Microbenchmarks that calibrate the host profile: matmul GFLOP/s, memory bandwidth, overhead.

Throughput and per-layer overhead are measured in ONNX Runtime, the engine ``latency_ms`` is
measured in, with the timing protocol of :mod:`darwin_bench.costs.latency` at one thread.
Peak figures take the fastest sample (contention from other processes only ever slows a run
down); the per-layer overhead is the slope between a chain of 1 and of 32 tiny layers, each
timed at the protocol's quantile, so the per-inference cost cancels out.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack

import torch
from torch import nn

from darwin_bench.costs.engines import make_runner
from darwin_bench.costs.latency import LatencyConfig, time_interleaved

#: Layers of the long chain the per-layer overhead is measured on.
CHAIN = 32


@torch.inference_mode()
def matmul_gflops(size: int = 512, repeats: int = 25, threads: int = 1) -> float:
    """Measured fp32 matrix-multiply throughput (GFLOP/s) of a ``size`` x ``size`` product."""
    torch.manual_seed(0)
    layer = nn.Linear(size, size, bias=False)
    with make_runner("onnxruntime", layer, torch.randn(size, size), threads) as runner:
        config = LatencyConfig(repeats=repeats, number=1, warmup=3, quantile=0.0, threads=threads)
        best_ms = time_interleaved([runner], config)[0].ms
    return 2.0 * size**3 / (best_ms * 1e-3) / 1e9


def _seconds(fn: Callable[[], object], repeats: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


@torch.inference_mode()
def memory_bandwidth_gbs(megabytes: int = 256, repeats: int = 9) -> float:
    """Measured copy bandwidth (GB/s, bytes read plus bytes written) of a large fp32 buffer."""
    src = torch.ones(megabytes * 2**20 // 4)
    dst = torch.empty_like(src)
    seconds = min(_seconds(lambda: dst.copy_(src), repeats))
    return 2.0 * src.numel() * 4 / seconds / 1e9


def layer_overhead_us(threads: int = 1, repeats: int = 60) -> tuple[float, float]:
    """Measured time per layer call and per inference in ONNX Runtime, in microseconds.

    Returns:
        ``(per_layer, per_inference)``: the slope between chains of 1 and :data:`CHAIN` 1x1
        linear layers, and the 1-layer chain's time minus one layer.
    """
    torch.manual_seed(0)
    chains = [nn.Sequential(*[nn.Linear(1, 1) for _ in range(n)]) for n in (1, CHAIN)]
    x = torch.ones(1, 1)
    config = LatencyConfig(repeats=repeats, threads=threads)
    with ExitStack() as stack:
        runners = [stack.enter_context(make_runner("onnxruntime", c, x, threads)) for c in chains]
        one, many = (t.ms * 1e3 for t in time_interleaved(runners, config))
    per_layer = max((many - one) / (CHAIN - 1), 0.0)
    return per_layer, max(one - per_layer, 0.0)


def host_figures(threads: int = 1) -> dict[str, float]:
    """The host microbenchmarks: peak GFLOP/s, memory bandwidth, per-layer and per-inference
    overhead."""
    per_layer, per_inference = layer_overhead_us(threads)
    return {
        "peak_gflops": matmul_gflops(threads=threads),
        "memory_bandwidth_gbs": memory_bandwidth_gbs(),
        "layer_overhead_us": per_layer,
        "inference_overhead_us": per_inference,
    }
