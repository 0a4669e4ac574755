"""Microbenchmarks that calibrate the host profile: matmul GFLOP/s, memory bandwidth, overhead.

Torch is pinned to one thread (the thread count latency is measured with). Peak figures
(throughput, bandwidth) take the fastest of several repeats, since contention from other
processes only ever slows a run down; the per-layer overhead takes the median.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch
from torch import nn


def _seconds(fn: Callable[[], object], repeats: int, warmup: int = 5) -> list[float]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def _pinned(threads: int) -> int:
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    return previous


@torch.inference_mode()
def matmul_gflops(size: int = 512, repeats: int = 25, threads: int = 1) -> float:
    """Measured fp32 matrix-multiply throughput (GFLOP/s) of a ``size`` x ``size`` product."""
    previous = _pinned(threads)
    try:
        a, b = torch.randn(size, size), torch.randn(size, size)
        seconds = min(_seconds(lambda: torch.mm(a, b), repeats))
    finally:
        torch.set_num_threads(previous)
    return 2.0 * size**3 / seconds / 1e9


@torch.inference_mode()
def memory_bandwidth_gbs(megabytes: int = 256, repeats: int = 9, threads: int = 1) -> float:
    """Measured copy bandwidth (GB/s, bytes read plus bytes written) of a large fp32 buffer."""
    previous = _pinned(threads)
    try:
        src = torch.ones(megabytes * 2**20 // 4)
        dst = torch.empty_like(src)
        seconds = min(_seconds(lambda: dst.copy_(src), repeats))
    finally:
        torch.set_num_threads(previous)
    return 2.0 * src.numel() * 4 / seconds / 1e9


@torch.inference_mode()
def layer_overhead_us(layers: int = 32, repeats: int = 31, threads: int = 1) -> float:
    """Measured time per call of a tiny layer (a 1x1 linear): the framework's dispatch cost."""
    previous = _pinned(threads)
    try:
        model = nn.Sequential(*[nn.Linear(1, 1) for _ in range(layers)])
        x = torch.zeros(1, 1)
        seconds = statistics.median(_seconds(lambda: model(x), repeats))
    finally:
        torch.set_num_threads(previous)
    return seconds / layers * 1e6


def host_figures(threads: int = 1) -> dict[str, float]:
    """The host microbenchmarks: peak GFLOP/s, memory bandwidth and per-layer overhead."""
    return {
        "peak_gflops": matmul_gflops(threads=threads),
        "memory_bandwidth_gbs": memory_bandwidth_gbs(threads=threads),
        "layer_overhead_us": layer_overhead_us(threads=threads),
    }
