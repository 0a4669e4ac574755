"""The exact hypervolume of a set of (score, cost) points: score maximized, cost minimized.

Two objectives need no library: sort the points by the first objective and add up the
rectangles each point of the front dominates beyond its neighbour (``O(n log n)``). The test
checks it against Optuna's implementation on random point sets.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from leaderboard.tracks import Hypervolume


def hypervolume_2d(points: Iterable[tuple[float, float]], reference: tuple[float, float]) -> float:
    """The area dominated by ``points`` (both objectives minimized) and bounded by
    ``reference``; points that do not strictly dominate the reference add nothing."""
    rx, ry = reference
    inside = sorted((x, y) for x, y in points if x < rx and y < ry)
    area = 0.0
    best_y = math.inf
    front: list[tuple[float, float]] = []
    for x, y in inside:
        if y < best_y:
            front.append((x, y))
            best_y = y
    for i, (x, y) in enumerate(front):
        next_x = front[i + 1][0] if i + 1 < len(front) else rx
        area += (next_x - x) * (ry - y)
    return area


def normalized_hypervolume(points: Iterable[tuple[float, float]], settings: Hypervolume) -> float:
    """The hypervolume of ``(score, cost)`` points as a track defines it
    (:class:`leaderboard.tracks.Hypervolume`): scores mapped so that ``score_ref`` is 0 and
    ``score_best`` 1, costs divided by ``cost_ref``; 1 is a network of the best score at no
    cost."""
    span = settings.score_best - settings.score_ref
    mapped = [
        (1.0 - (score - settings.score_ref) / span, cost / settings.cost_ref)
        for score, cost in points
        if math.isfinite(score) and math.isfinite(cost)
    ]
    return hypervolume_2d(mapped, (1.0, 1.0))
