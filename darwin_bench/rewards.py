"""Rewards: turn a score (e.g. validation accuracy) and a cost into one scalar.

**The score.** A task's search-facing score is higher-is-better (``Task.score``: validation
accuracy, a normalized return, ``-metric`` for a lower-is-better metric). Its sign and scale are
the task's: a raw control return can be -1500. A reward therefore first maps the score into a
positive range by one rule, using the score's range ``(worst, best)``::

    u = max(0, (score - worst) / (best - worst))

so ``worst`` maps to 0 and ``best`` to 1 (a score above ``best`` keeps growing; one below
``worst`` counts as ``worst``). The range is the one the task declares (``Task.score_range``:
``(0, 1)`` for accuracy, F-beta, normalized returns) or the env kwarg ``score_range``; the env
records the range it used in the run log header (``problem.reward.score_range``). For
``(0, 1)`` the map is the identity. ``accuracy`` and ``linear`` also accept a score without a
range (``u = score``: they are monotone for any sign); ``mnasnet``, ``mnasnet-hard``,
``constrained`` and ``multi`` multiply or threshold the score and refuse to be built without
one (``ValueError`` naming ``score_range``).

**The rewards**, of ``u``, the chosen ``cost`` of the network and the env's ``target``:

- ``accuracy``: ``u`` (the cost is ignored; it is still reported in ``info``).
- ``linear``: ``u - weight * cost / target`` (default ``weight = 0.1``, ``weight >= 0``).
- ``mnasnet``: ``u * (cost / target) ** w`` with ``w = alpha`` when ``cost <= target`` and
  ``w = beta`` otherwise (Tan et al., MnasNet, 2019); soft: ``alpha = beta = -0.07``.
- ``mnasnet-hard``: the same with ``alpha = 0, beta = -1``.
- ``constrained``: ``u`` when ``cost <= target``; otherwise ``(target - cost) / cost``, in
  (-1, 0), so that every feasible network beats every infeasible one and a cheaper infeasible
  network beats a dearer one.
- ``multi``: several costs at once. The scalar is the soft MnasNet product over every cost,
  ``u * prod_i (cost_i / target_i) ** w`` (default ``w = -0.07``), and the objective vector
  (``score`` to maximize, each cost to minimize) is in ``info["objectives"]`` for
  multi-objective agents.

Exponents must be ``<= 0`` and ``weight >= 0``: then, for every task, at equal cost a better
score never earns a lower reward, and at equal score a dearer network never earns a higher one
(tested with hypothesis over scores of both signs and costs across orders of magnitude).

Any reward can carry extra costs (``extra``: ``(cost, target)`` pairs, the env kwargs
``costs=[...]`` / ``targets={...}``); they join the objective vector in ``info["objectives"]``
under their own names, and ``multi`` also puts them into the scalar.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from darwin_bench.validation import check_choice, check_positive_float


def _accuracy(score: float, cost: float, target: float, **_: float) -> float:
    return score


def _linear(score: float, cost: float, target: float, weight: float = 0.1, **_: float) -> float:
    return score - weight * cost / target


def _mnasnet(
    score: float, cost: float, target: float, alpha: float = -0.07, beta: float = -0.07, **_: float
) -> float:
    ratio = max(cost, 1e-12) / target
    return score * ratio ** (alpha if cost <= target else beta)


def _mnasnet_hard(score: float, cost: float, target: float, **kw: float) -> float:
    return _mnasnet(score, cost, target, alpha=kw.get("alpha", 0.0), beta=kw.get("beta", -1.0))


def _constrained(score: float, cost: float, target: float, **_: float) -> float:
    # (target - cost) / cost rather than -(1 - target / cost): strictly negative for any
    # cost > target, so an infeasible network never ties a feasible one of score 0.
    return score if cost <= target else (target - cost) / cost


def _multi(score: float, cost: float, target: float, w: float = -0.07, **_: float) -> float:
    return score * (max(cost, 1e-12) / target) ** w


#: Reward name -> function ``(mapped score, cost, target, **params) -> float``.
REWARDS: dict[str, Callable[..., float]] = {
    "accuracy": _accuracy,
    "linear": _linear,
    "mnasnet": _mnasnet,
    "mnasnet-hard": _mnasnet_hard,
    "constrained": _constrained,
    "multi": _multi,
}

#: Parameters each reward accepts.
REWARD_PARAMS: dict[str, tuple[str, ...]] = {
    "accuracy": (),
    "linear": ("weight",),
    "mnasnet": ("alpha", "beta"),
    "mnasnet-hard": ("alpha", "beta"),
    "constrained": (),
    "multi": ("w",),
}

#: Rewards that multiply or threshold the score: they need its range (``score_range``).
NEEDS_SCORE_RANGE: tuple[str, ...] = ("mnasnet", "mnasnet-hard", "constrained", "multi")

#: Parameters that must be ``<= 0`` (exponents on cost / target) or ``>= 0`` (penalty weights),
#: so that a dearer network never earns more.
_NON_POSITIVE = ("alpha", "beta", "w")
_NON_NEGATIVE = ("weight",)


def check_score_range(value: Any) -> tuple[float, float]:
    """Return ``value`` as ``(worst, best)``: two finite numbers with ``worst < best``.

    Raises:
        ValueError: naming ``score_range`` otherwise.
    """
    worst = best = math.nan
    if not isinstance(value, (str, bytes, dict)):
        with contextlib.suppress(TypeError, ValueError):
            worst, best = (float(v) for v in value)
    if not (math.isfinite(worst) and math.isfinite(best) and worst < best):
        raise ValueError(
            "score_range must be (worst, best): two finite numbers with worst < best, in the "
            f"units of the task's score (higher is better); got {value!r}"
        )
    return worst, best


@dataclass(frozen=True)
class Reward:
    """A named reward bound to a cost and a target.

    Args:
        name: one of :data:`REWARDS`.
        cost: the cost name the reward trades against (e.g. ``"flops"``).
        target: the cost target (> 0).
        params: reward parameters, e.g. ``{"weight": 0.2}`` for ``linear``.
        extra: further ``(cost, target)`` objectives (reported; ``multi`` also rewards them).
        score_range: ``(worst, best)`` of the score, which maps it into ``[0, 1]`` (see the
            module docstring); required by :data:`NEEDS_SCORE_RANGE`.

    Raises:
        ValueError: naming the field: unknown reward or parameter, a parameter that would
            reward a dearer network, a bad target or range, or a missing range.
    """

    name: str
    cost: str
    target: float
    params: dict[str, float] = field(default_factory=dict)
    extra: tuple[tuple[str, float], ...] = ()
    score_range: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        check_choice("reward", self.name, REWARDS)
        check_positive_float("target", self.target)
        allowed = REWARD_PARAMS[self.name]
        for key, value in self.params.items():
            if key not in allowed:
                raise ValueError(
                    f"reward_kwargs key {key!r} is not a parameter of reward {self.name!r}; "
                    f"allowed: {list(allowed)}"
                )
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"reward_kwargs[{key!r}] must be a finite number; got {value!r}")
            if not math.isfinite(value):
                raise ValueError(f"reward_kwargs[{key!r}] must be a finite number; got {value!r}")
            if (key in _NON_POSITIVE and value > 0) or (key in _NON_NEGATIVE and value < 0):
                bound = "<= 0" if key in _NON_POSITIVE else ">= 0"
                raise ValueError(
                    f"reward_kwargs[{key!r}] must be {bound} (otherwise a dearer network would "
                    f"earn a higher reward); got {value!r}"
                )
        for name, target in self.extra:
            check_positive_float(f"targets[{name!r}]", target)
            if name == self.cost:
                raise ValueError(f"costs: {name!r} is already the reward's cost")
        if self.score_range is not None:
            object.__setattr__(self, "score_range", check_score_range(self.score_range))
        elif self.name in NEEDS_SCORE_RANGE:
            raise ValueError(
                f"reward {self.name!r} needs score_range=(worst, best), the range of the score "
                "it maps into [0, 1]; rewards 'accuracy' and 'linear' need none"
            )

    def normalize(self, score: float) -> float:
        """The score mapped by the documented rule: ``max(0, (score - worst) / (best - worst))``
        with a range, the score itself without one.

        Raises:
            ValueError: for a non-finite score.
        """
        if not math.isfinite(score):
            raise ValueError(f"score must be a finite number; got {score!r}")
        if self.score_range is None:
            return float(score)
        worst, best = self.score_range
        return max(0.0, (float(score) - worst) / (best - worst))

    def __call__(self, score: float, costs: dict[str, float]) -> float:
        """Compute the reward from a (raw, task-unit) score and the network's costs."""
        for name in (self.cost, *(n for n, _ in self.extra)):
            if name not in costs:
                raise ValueError(f"cost {name!r} was not measured; measured costs: {sorted(costs)}")
        function = REWARDS[self.name]
        value = function(self.normalize(score), float(costs[self.cost]), self.target, **self.params)
        if self.name == "multi":
            for name, target in self.extra:
                value *= function(1.0, float(costs[name]), target, **self.params)
        return float(value)

    def targets(self) -> dict[str, float]:
        """The target of every cost this reward uses (its cost and the extra ones), by name."""
        return {self.cost: self.target, **dict(self.extra)}

    def objectives(self, score: float, costs: dict[str, float]) -> dict[str, float]:
        """The raw objectives for multi-objective agents: maximize ``score``, minimize the rest.

        ``score`` is the task's score as it is (not mapped); ``cost`` is the reward's cost; with
        extra costs, every cost (the reward's included) also appears under its own name.
        """
        out = {"score": float(score), "cost": float(costs[self.cost])}
        if self.extra:
            for name in (self.cost, *(n for n, _ in self.extra)):
                out[name] = float(costs[name])
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable description (``modeled``: the reward uses a modeled cost)."""
        out: dict[str, Any] = {
            "name": self.name,
            "cost": self.cost,
            "target": self.target,
            "params": self.params,
            "score_range": list(self.score_range) if self.score_range is not None else None,
        }
        if self.extra:
            out["extra"] = [[n, t] for n, t in self.extra]
        names = (self.cost, *(n for n, _ in self.extra))
        if any("@" in n for n in names):
            out["modeled"] = True
        return out
