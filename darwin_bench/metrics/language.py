"""Language-modelling metrics computed from a mean negative log-likelihood in nats.

The mean NLL is ``-(1/N) * sum_i ln p(x_i | x_<i)`` over ``N`` predicted tokens (what
``torch.nn.functional.cross_entropy`` returns with its default mean reduction).
"""

from __future__ import annotations

import math

__all__ = ["bits_per_character", "perplexity"]


def _check_nll(mean_nll_nats: float) -> float:
    if isinstance(mean_nll_nats, (bool, str, bytes)):
        raise ValueError(f"mean_nll_nats must be a finite number >= 0, got {mean_nll_nats!r}")
    try:
        value = float(mean_nll_nats)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"mean_nll_nats must be a finite number >= 0, got {mean_nll_nats!r}"
        ) from exc
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"mean_nll_nats must be a finite number >= 0, got {mean_nll_nats!r}")
    return value


def bits_per_character(mean_nll_nats: float) -> float:
    """Bits per character: ``BPC = mean_nll_nats / ln(2)``.

    Args:
        mean_nll_nats: Mean negative log-likelihood per character, in nats.

    Returns:
        The mean NLL in bits (lower is better).

    Raises:
        ValueError: If ``mean_nll_nats`` is NaN, infinite, negative or not a number.
    """
    return _check_nll(mean_nll_nats) / math.log(2)


def perplexity(mean_nll_nats: float) -> float:
    """Perplexity: ``PPL = exp(mean_nll_nats)``.

    Args:
        mean_nll_nats: Mean negative log-likelihood per token, in nats.

    Returns:
        The perplexity (>= 1, lower is better); ``math.inf`` if ``exp`` overflows a float
        (``mean_nll_nats`` above about 709.78).

    Raises:
        ValueError: If ``mean_nll_nats`` is NaN, infinite, negative or not a number.
    """
    value = _check_nll(mean_nll_nats)
    try:
        return math.exp(value)
    except OverflowError:
        return math.inf
