"""Tests for darwin_bench.metrics.language."""

from __future__ import annotations

import math

import numpy as np
import pytest

from darwin_bench.metrics.language import bits_per_character, perplexity


def test_bits_per_character() -> None:
    assert bits_per_character(math.log(2)) == pytest.approx(1.0)
    assert bits_per_character(0.0) == 0.0
    # uniform over 256 symbols: 8 bits
    assert bits_per_character(math.log(256)) == pytest.approx(8.0)
    assert bits_per_character(np.float64(math.log(4))) == pytest.approx(2.0)


def test_perplexity() -> None:
    assert perplexity(0.0) == 1.0
    assert perplexity(math.log(10)) == pytest.approx(10.0)
    # uniform over a 10 000-word vocabulary
    assert perplexity(math.log(10_000)) == pytest.approx(10_000.0)
    assert perplexity(1e4) == math.inf  # overflow is reported as inf, not raised


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, -0.5, "1.0", None, True])
@pytest.mark.parametrize("metric", [bits_per_character, perplexity])
def test_bad_input(metric: object, bad: object) -> None:
    assert callable(metric)
    with pytest.raises(ValueError, match="mean_nll_nats"):
        metric(bad)
