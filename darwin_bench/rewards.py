"""Rewards: turn a score (e.g. validation accuracy) and a cost into one scalar.

Every reward is a function of ``score`` (higher is better; accuracy for classification), the
chosen ``cost`` of the network and the env's ``target`` for that cost:

- ``accuracy``: ``score`` (the cost is ignored; it is still reported in ``info``).
- ``linear``: ``score - weight * cost / target`` (default ``weight = 0.1``).
- ``mnasnet``: ``score * (cost / target) ** w`` with ``w = alpha`` when ``cost <= target``
  and ``w = beta`` otherwise (Tan et al., MnasNet, 2019); soft: ``alpha = beta = -0.07``.
- ``mnasnet-hard``: the same with ``alpha = 0, beta = -1``.
- ``constrained``: ``score`` when ``cost <= target``; otherwise ``-(1 - target / cost)``, in
  (-1, 0), so that every feasible network beats every infeasible one and a cheaper infeasible
  network beats a dearer one.
- ``multi``: several costs at once. The scalar is the soft MnasNet product over every cost,
  ``score * prod_i (cost_i / target_i) ** w`` (default ``w = -0.07``), and the objective vector
  (``score`` to maximize, each cost to minimize) is in ``info["objectives"]`` for
  multi-objective agents.

Any reward can carry extra costs (``extra``: ``(cost, target)`` pairs, the env kwargs
``costs=[...]`` / ``targets={...}``); they join the objective vector in ``info["objectives"]``
under their own names, and ``multi`` also puts them into the scalar.
"""

from __future__ import annotations

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
    return score if cost <= target else -(1.0 - target / cost)


def _multi(score: float, cost: float, target: float, w: float = -0.07, **_: float) -> float:
    return score * (max(cost, 1e-12) / target) ** w


#: Reward name -> function ``(score, cost, target, **params) -> float``.
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


@dataclass(frozen=True)
class Reward:
    """A named reward bound to a cost and a target.

    Args:
        name: one of :data:`REWARDS`.
        cost: the cost name the reward trades against (e.g. ``"flops"``).
        target: the cost target (> 0).
        params: reward parameters, e.g. ``{"weight": 0.2}`` for ``linear``.
        extra: further ``(cost, target)`` objectives (reported; ``multi`` also rewards them).
    """

    name: str
    cost: str
    target: float
    params: dict[str, float] = field(default_factory=dict)
    extra: tuple[tuple[str, float], ...] = ()

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
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"reward_kwargs[{key!r}] must be a finite number; got {value!r}")
        for name, target in self.extra:
            check_positive_float(f"targets[{name!r}]", target)
            if name == self.cost:
                raise ValueError(f"costs: {name!r} is already the reward's cost")

    def __call__(self, score: float, costs: dict[str, float]) -> float:
        """Compute the reward from a score and the network's costs."""
        for name in (self.cost, *(n for n, _ in self.extra)):
            if name not in costs:
                raise ValueError(f"cost {name!r} was not measured; measured costs: {sorted(costs)}")
        function = REWARDS[self.name]
        value = function(score, float(costs[self.cost]), self.target, **self.params)
        if self.name == "multi":
            for name, target in self.extra:
                value *= function(1.0, float(costs[name]), target, **self.params)
        return float(value)

    def objectives(self, score: float, costs: dict[str, float]) -> dict[str, float]:
        """The raw objectives for multi-objective agents: maximize ``score``, minimize the rest.

        ``cost`` is the reward's cost; with extra costs, every cost (the reward's included)
        also appears under its own name.
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
        }
        if self.extra:
            out["extra"] = [[n, t] for n, t in self.extra]
        names = (self.cost, *(n for n, _ in self.extra))
        if any("@" in n for n in names):
            out["modeled"] = True
        return out
