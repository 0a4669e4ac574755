"""Task metrics, and the naming rule that keeps test metrics away from the search."""

from __future__ import annotations

from collections.abc import Mapping

#: Names of metrics computed on test data start with this prefix (``test_accuracy``, ...).
TEST_PREFIX = "test_"


def split_test_metrics(
    metrics: Mapping[str, float],
) -> tuple[dict[str, float], dict[str, float]]:
    """Split a mixed metrics mapping into ``(search-facing metrics, test metrics)`` by name."""
    test = {k: v for k, v in metrics.items() if k.startswith(TEST_PREFIX)}
    return {k: v for k, v in metrics.items() if k not in test}, test
