"""Measured host latency: the timing protocol, robust to a loaded machine.

The protocol times *blocks*: a block runs one network's forward pass back to back, as many
times as fit in about ``block_ms`` (at least once); its wall time divided by its passes is one
sample. Every candidate (a network in one engine) is warmed up, then timed in ``repeats``
rounds; each round times one block of every candidate in a freshly shuffled (seeded) order, so
candidates measured together see the same machine. The reported latency is the ``quantile``
(default 0.0: the fastest block) of a candidate's samples: other processes only ever slow a
block down, so the fastest of many short blocks tracks the network's own speed where a mean or
a single long run tracks the machine's load (docs/costs.md has the tuning runs that chose it).
Torch threads are pinned to ``threads`` while timing, and ONNX Runtime sessions are created
with that many intra-op threads. docs/costs.md reports how
well two measurements of the same network agree.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from darwin_bench.costs.engines import Runner, make_runner
from darwin_bench.costs.onnx_runtime import OnnxConfig
from darwin_bench.validation import check_positive_int

Clock = Callable[[], int]


@dataclass(frozen=True)
class LatencyConfig:
    """How host latency is timed (see the module docstring).

    Attributes:
        repeats: timed rounds: samples per candidate.
        block_ms: wall time a block aims for (its passes are sized once, after warm-up).
        number: forward passes per block; ``None`` sizes blocks to ``block_ms``.
        warmup: untimed forward passes of each candidate before sizing and timing.
        quantile: the reported statistic, a quantile of the samples in [0, 1] (0.5 = median).
        max_seconds: stop after the round in which timing passed this wall time, once
            ``min_repeats`` rounds are done (bounds the time slow networks take).
        min_repeats: the fewest rounds.
        threads: intra-op threads of every engine while timing.
        seed: seed of the order of candidates in each round.
    """

    repeats: int = 30
    block_ms: float = 0.5
    number: int | None = None
    warmup: int = 5
    quantile: float = 0.0
    max_seconds: float = 1.0
    min_repeats: int = 5
    threads: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("repeats", "min_repeats", "threads"):
            check_positive_int(name, getattr(self, name))
        if self.number is not None:
            check_positive_int("number", self.number)
        if not isinstance(self.warmup, int) or self.warmup < 0:
            raise ValueError(f"warmup must be a non-negative integer; got {self.warmup!r}")
        for name in ("block_ms", "max_seconds"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"{name} must be a positive number; got {value!r}")
        if not isinstance(self.quantile, (int, float)) or not 0 <= self.quantile <= 1:
            raise ValueError(f"quantile must be in [0, 1]; got {self.quantile!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable settings."""
        return asdict(self)


@dataclass(frozen=True)
class Timing:
    """One candidate's samples and their statistics, in milliseconds per forward pass.

    Attributes:
        ms: the reported latency (the configured quantile of ``samples``).
        q1: lower quartile of the samples.
        median: median of the samples.
        q3: upper quartile of the samples.
        passes: forward passes per block.
        samples: per-pass time of every block, in round order.
    """

    ms: float
    q1: float
    median: float
    q3: float
    passes: int
    samples: tuple[float, ...]

    @classmethod
    def of(cls, samples: Sequence[float], passes: int, quantile: float) -> Timing:
        """Statistics of ``samples`` (linear interpolation between order statistics)."""
        values = np.asarray(samples, dtype=float)
        q1, median, q3, ms = np.quantile(values, [0.25, 0.5, 0.75, quantile])
        return cls(float(ms), float(q1), float(median), float(q3), passes, tuple(samples))

    def at(self, quantile: float) -> float:
        """Another quantile of the same samples."""
        return float(np.quantile(np.asarray(self.samples), quantile))


def _passes(runner: Runner, config: LatencyConfig, clock: Clock) -> int:
    """Forward passes per block: ``number``, or as many as fit in ``block_ms``."""
    if config.number is not None:
        return config.number
    fastest = None
    for _ in range(3):
        start = clock()
        runner.block(1)
        elapsed = clock() - start
        fastest = elapsed if fastest is None else min(fastest, elapsed)
    per_pass_ms = max(float(fastest or 0) / 1e6, 1e-6)
    return int(min(max(round(config.block_ms / per_pass_ms), 1), 100_000))


def time_interleaved(
    runners: Sequence[Runner],
    config: LatencyConfig | None = None,
    clock: Clock = time.perf_counter_ns,
    progress: Callable[[int, int], None] | None = None,
) -> list[Timing]:
    """Time every runner in interleaved rounds (the protocol of the module docstring).

    Args:
        runners: the candidates (entered runners, see :mod:`darwin_bench.costs.engines`).
        config: the protocol's settings.
        clock: a nanosecond clock (injected by tests).
        progress: called with (rounds done, rounds planned) after every round.

    Returns:
        One :class:`Timing` per runner, in the order of ``runners``.
    """
    config = config or LatencyConfig()
    previous = torch.get_num_threads()
    torch.set_num_threads(config.threads)
    try:
        for runner in runners:
            if config.warmup:
                runner.block(config.warmup)
        passes = [_passes(r, config, clock) for r in runners]
        samples: list[list[float]] = [[] for _ in runners]
        rng = np.random.default_rng(config.seed)
        start = clock()
        for done in range(config.repeats):
            for j in rng.permutation(len(runners)):
                begin = clock()
                runners[j].block(passes[j])
                samples[j].append((clock() - begin) / 1e6 / passes[j])
            if progress:
                progress(done + 1, config.repeats)
            late = (clock() - start) / 1e9 > config.max_seconds
            if late and done + 1 >= config.min_repeats:
                break
    finally:
        torch.set_num_threads(previous)
    return [Timing.of(s, n, config.quantile) for s, n in zip(samples, passes)]


def measure_engines(
    model: nn.Module,
    example: torch.Tensor,
    engines: Sequence[str] = ("onnxruntime",),
    config: LatencyConfig | None = None,
    onnx: OnnxConfig | None = None,
) -> dict[str, tuple[Timing, dict[str, Any]]]:
    """Time ``model`` on ``example`` in each engine, interleaved in the same rounds.

    Returns:
        ``{engine: (timing, engine info)}``; the ONNX Runtime info holds the export and session
        times and the parity ratio.

    Raises:
        LatencyError: when ONNX Runtime cannot run the network as PyTorch does.
    """
    config = config or LatencyConfig()
    with ExitStack() as stack:
        runners = [
            stack.enter_context(make_runner(e, model, example, config.threads, onnx))
            for e in engines
        ]
        timings = time_interleaved(runners, config)
        return {r.engine: (t, dict(r.info)) for r, t in zip(runners, timings)}


def measure_latency_ms(
    model: nn.Module,
    example: torch.Tensor,
    config: LatencyConfig | None = None,
    engine: str = "onnxruntime",
    onnx: OnnxConfig | None = None,
) -> dict[str, float]:
    """Time one network in one engine.

    Returns:
        ``{"ms", "q1", "median", "q3"}`` in milliseconds per forward pass (``ms`` is the
        reported statistic, the configured quantile).

    Raises:
        LatencyError: when ONNX Runtime cannot run the network as PyTorch does.
    """
    timing, _ = measure_engines(model, example, (engine,), config, onnx)[engine]
    return {"ms": timing.ms, "q1": timing.q1, "median": timing.median, "q3": timing.q3}
