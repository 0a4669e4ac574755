"""Pareto fronts of (score to maximize, cost to minimize) pairs."""

from __future__ import annotations

from collections.abc import Sequence


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the non-dominated points, sorted by increasing cost.

    A point ``(score, cost)`` is dominated when another point has a score at least as high and
    a cost at least as low, and is strictly better in one of them. Of exact duplicates the
    first is kept.
    """
    order = sorted(range(len(points)), key=lambda i: (points[i][1], -points[i][0], i))
    front: list[int] = []
    best = float("-inf")
    for i in order:
        score = points[i][0]
        if score > best:
            front.append(i)
            best = score
    return front
