"""The timing protocol's logic on simulated runners and a simulated clock (no real timing)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from darwin_bench.costs import LatencyConfig, Timing, time_interleaved


class Clock:
    """A nanosecond clock that only moves when a fake runner works."""

    def __init__(self) -> None:
        self.now = 0

    def __call__(self) -> int:
        return self.now


class FakeRunner:
    """Each forward pass takes ``pass_ms``; listed blocks are interrupted for ``extra_ms``."""

    engine = "fake"

    def __init__(
        self,
        name: str,
        clock: Clock,
        pass_ms: float,
        interrupted: set[int] | None = None,
        extra_ms: float = 10.0,
        log: list[str] | None = None,
    ) -> None:
        self.name, self.clock, self.pass_ms = name, clock, pass_ms
        self.interrupted, self.extra_ms = interrupted or set(), extra_ms
        self.blocks: list[int] = []
        self.log = log if log is not None else []
        self.info: dict[str, Any] = {}

    def block(self, n: int) -> None:
        self.blocks.append(n)
        self.log.append(self.name)
        extra = self.extra_ms if len(self.blocks) in self.interrupted else 0.0
        self.clock.now += round((n * self.pass_ms + extra) * 1e6)


def test_blocks_are_sized_to_block_ms_after_warmup() -> None:
    clock = Clock()
    fast, slow = FakeRunner("fast", clock, 0.01), FakeRunner("slow", clock, 2.0)
    config = LatencyConfig(repeats=4, block_ms=0.5, warmup=3)
    timings = time_interleaved([fast, slow], config, clock=clock)
    # warm-up block, three single passes to size the block, then the timed blocks
    assert fast.blocks[:4] == [3, 1, 1, 1] and fast.blocks[4:] == [50] * 4
    assert slow.blocks[4:] == [1] * 4  # a pass longer than block_ms: one pass per block
    assert [t.passes for t in timings] == [50, 1]
    assert timings[0].ms == pytest.approx(0.01) and timings[1].ms == pytest.approx(2.0)


def test_every_round_times_every_candidate_in_a_seeded_order() -> None:
    def orders(seed: int) -> list[list[str]]:
        clock, log = Clock(), []
        runners = [FakeRunner(n, clock, 0.1, log=log) for n in "abcd"]
        config = LatencyConfig(repeats=6, number=2, warmup=0, seed=seed)
        time_interleaved(runners, config, clock=clock)
        return [log[i : i + 4] for i in range(0, len(log), 4)]

    rounds = orders(0)
    assert len(rounds) == 6 and all(sorted(r) == list("abcd") for r in rounds)
    assert len({tuple(r) for r in rounds}) > 1  # shuffled, not a fixed order
    assert orders(0) == rounds and orders(1) != rounds


def test_a_low_quantile_ignores_interrupted_blocks() -> None:
    clock = Clock()
    interrupted = set(range(1, 31, 3))  # a third of the timed blocks are slowed down
    runner = FakeRunner("net", clock, 0.05, interrupted={b + 4 for b in interrupted})
    timing = time_interleaved([runner], LatencyConfig(repeats=30, warmup=1), clock=clock)[0]
    assert timing.ms == pytest.approx(0.05)
    assert np.mean(timing.samples) > 0.1  # the mean would report the load
    assert timing.q1 <= timing.median <= timing.q3 and len(timing.samples) == 30


def test_slow_networks_stop_after_max_seconds_but_not_before_min_repeats() -> None:
    clock = Clock()
    runner = FakeRunner("rnn", clock, 300.0)
    config = LatencyConfig(repeats=30, warmup=0, max_seconds=1.0, min_repeats=5)
    timing = time_interleaved([runner], config, clock=clock)[0]
    assert len(timing.samples) == 5


def test_torch_threads_are_pinned_while_timing_and_restored() -> None:
    seen: list[int] = []

    class Probe(FakeRunner):
        def block(self, n: int) -> None:
            seen.append(torch.get_num_threads())
            super().block(n)

    before = torch.get_num_threads()
    clock = Clock()
    config = LatencyConfig(repeats=2, number=1, warmup=0, threads=2)
    time_interleaved([Probe("p", clock, 0.1)], config, clock=clock)
    assert set(seen) == {2} and torch.get_num_threads() == before


def test_timing_statistics() -> None:
    timing = Timing.of([4.0, 1.0, 3.0, 2.0, 5.0], passes=7, quantile=0.25)
    assert (timing.ms, timing.q1, timing.median, timing.q3) == (2.0, 2.0, 3.0, 4.0)
    assert timing.at(0.0) == 1.0 and timing.passes == 7


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("repeats", 0, "repeats"),
        ("quantile", 1.5, "quantile"),
        ("block_ms", 0, "block_ms"),
        ("number", 0, "number"),
        ("warmup", -1, "warmup"),
        ("threads", 0, "threads"),
    ],
)
def test_bad_settings_name_the_field(field: str, value: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        LatencyConfig(**{field: value})  # type: ignore[arg-type]
