"""Measured host latency: warm-up, repeats, median; torch threads pinned and recorded."""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from darwin_bench.validation import check_positive_int


@dataclass(frozen=True)
class LatencyConfig:
    """How host latency is measured.

    Attributes:
        warmup: untimed forward passes before timing.
        repeats: timed samples; the median is reported.
        number: forward passes per sample (their mean is one sample).
        threads: torch intra-op threads during timing.
        batch_size: batch size of the timed input.
    """

    warmup: int = 5
    repeats: int = 15
    number: int = 5
    threads: int = 1
    batch_size: int = 1

    def __post_init__(self) -> None:
        for name in ("warmup", "repeats", "number", "threads", "batch_size"):
            if name == "warmup" and self.warmup == 0:
                continue
            check_positive_int(name, getattr(self, name))

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable settings."""
        return asdict(self)


@torch.inference_mode()
def measure_latency_ms(
    model: nn.Module, example: torch.Tensor, config: LatencyConfig | None = None
) -> dict[str, float]:
    """Time forward passes of ``model`` on ``example``.

    Returns:
        ``{"median": ..., "q1": ..., "q3": ...}`` in milliseconds per forward pass.
    """
    config = config or LatencyConfig()
    was_training = model.training
    model.eval()
    previous = torch.get_num_threads()
    torch.set_num_threads(config.threads)
    try:
        for _ in range(config.warmup):
            model(example)
        samples = []
        for _ in range(config.repeats):
            start = time.perf_counter()
            for _ in range(config.number):
                model(example)
            samples.append((time.perf_counter() - start) * 1e3 / config.number)
    finally:
        torch.set_num_threads(previous)
        model.train(was_training)
    if len(samples) >= 2:
        q1, median, q3 = statistics.quantiles(samples, n=4, method="inclusive")
    else:
        q1 = median = q3 = samples[0]
    return {"median": median, "q1": q1, "q3": q3}
