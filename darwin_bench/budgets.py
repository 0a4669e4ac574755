"""Budgets that count what a search run spent: evaluations, training FLOPs or seconds.

A run's budget has a *kind* (the env kwarg ``budget_kind``) and an amount (``budget``):

- ``evaluations`` (default): one unit per proposal, whatever its fidelity, cached or not.
- ``train_flops``: the exact training compute of every evaluation, forward and backward FLOPs
  of one training sample (:func:`train_flops_per_sample`, ``torch.utils.flop_counter``) times
  the samples its training processes (:meth:`Task.training_samples`: epochs x training-set
  size). Deterministic: it depends only on the architecture and the fidelity.
- ``seconds``: training seconds. Tabular envs simulate them from the seconds their table
  recorded; live envs measure them (``Evaluation.train_seconds``), so a live run under this
  kind is marked *not reproducible*.

Accounting rule (the same for every kind): an evaluation starts only while budget is left;
the evaluation that reaches the budget is charged in full, so the spend may overshoot the
budget by less than one evaluation's price; the run ends there. Every evaluation records what
it was charged (``Evaluation.spent``), so the exact spend of a run is in its log. A proposal
that hits a cache (the same network, seed and fidelity evaluated before) is charged the same
as a fresh one: the spend never depends on what a cache holds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from darwin_bench.validation import check_choice, check_positive_float, check_positive_int

if TYPE_CHECKING:
    from darwin_bench.architecture import Architecture
    from darwin_bench.tasks.base import Task

#: Budget kinds and what one unit of each is.
BUDGET_KINDS: dict[str, str] = {
    "evaluations": "one proposal (whatever its fidelity, cached or not)",
    "train_flops": "one FLOP of training: forward + backward FLOPs x samples trained (exact)",
    "seconds": "one second of training (simulated from the table on tabular envs, "
    "measured on live envs: not reproducible)",
}

#: Axis labels of best-so-far plots per budget kind.
BUDGET_AXIS_LABELS: dict[str, str] = {
    "evaluations": "evaluations",
    "train_flops": "training FLOPs spent",
    "seconds": "training seconds spent",
}


def check_budget(kind: Any, amount: Any) -> float:
    """Validate a budget kind and amount; return the amount.

    ``evaluations`` budgets are whole numbers >= 1; the other kinds take any finite number
    > 0 (e.g. ``2e12`` FLOPs, ``90.5`` seconds).

    Raises:
        ValueError: naming ``budget_kind`` or ``budget`` and what is allowed.
    """
    check_choice("budget_kind", kind, BUDGET_KINDS)
    if kind == "evaluations":
        return check_positive_int("budget", amount)
    return check_positive_float("budget", amount)


@dataclass(frozen=True)
class BudgetState:
    """A snapshot of a run's budget, as agents see it.

    Attributes:
        kind: the budget kind (a key of :data:`BUDGET_KINDS`).
        total: the budget.
        used: what the run has spent so far (may exceed ``total`` by the last evaluation).
        reproducible: False when the spend is measured (``seconds`` on a live env).
    """

    kind: str
    total: float
    used: float
    reproducible: bool = True

    @property
    def left(self) -> float:
        """Budget left (0 once spent, never negative)."""
        return max(self.total - self.used, 0)

    @property
    def exhausted(self) -> bool:
        """True once the spend has reached the budget (no evaluation can start)."""
        return self.used >= self.total

    @property
    def fraction_used(self) -> float:
        """Spend over budget, capped at 1."""
        return min(1.0, self.used / self.total)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "kind": self.kind,
            "total": self.total,
            "used": self.used,
            "left": self.left,
            "reproducible": self.reproducible,
        }


class BudgetMeter:
    """Counts what one run spent against its budget (see the module docstring's rule).

    Args:
        kind: the budget kind.
        total: the budget, validated by :func:`check_budget`.
        reproducible: False when charges are measured rather than computed.
    """

    def __init__(self, kind: str, total: float, *, reproducible: bool = True) -> None:
        self.total = check_budget(kind, total)
        self.kind = kind
        self.reproducible = reproducible
        self.used: float = 0

    def reset(self) -> None:
        """Start a new run: nothing spent."""
        self.used = 0

    def state(self) -> BudgetState:
        """A snapshot for agents and logs."""
        return BudgetState(self.kind, self.total, self.used, self.reproducible)

    @property
    def left(self) -> float:
        """Budget left (never negative)."""
        return self.state().left

    @property
    def exhausted(self) -> bool:
        """True once the spend has reached the budget."""
        return self.used >= self.total

    def charge(self, amount: float) -> None:
        """Add one evaluation's charge to the spend.

        Raises:
            ValueError: for a negative or non-finite charge.
        """
        if not math.isfinite(amount) or amount < 0:
            raise ValueError(f"a budget charge must be a finite number >= 0; got {amount!r}")
        self.used = self.used + (int(amount) if self.kind == "evaluations" else float(amount))

    def affordable(self, prices: Sequence[float | None]) -> int:
        """How many evaluations of a population, charged in order, start before the budget
        is spent. An unknown price (``None``: measured seconds) counts as zero, so such a
        population runs in full and the spend may overshoot by more than one evaluation."""
        used = self.used
        for i, price in enumerate(prices):
            if used >= self.total:
                return i
            used += price or 0
        return len(prices)


def architecture_train_flops(task: Task, architecture: Architecture) -> int:
    """:func:`train_flops_per_sample` of ``architecture`` as ``task`` builds it (untrained, seed
    0; the count does not depend on the weights) on ``task``'s example input."""
    from darwin_bench.seeding import torch_determinism

    with torch_determinism(0):
        model = task.build(architecture)
    return train_flops_per_sample(model, task.example_input(1))


def train_flops_per_sample(model: nn.Module, example: torch.Tensor) -> int:
    """Exact FLOPs of training ``model`` on one sample: one forward and one backward pass.

    Counted with ``torch.utils.flop_counter`` on a batch of one (its counts are linear in the
    batch size, so samples x this figure is exact for any batching). Fused recurrent modules,
    which the counter does not see, are charged three times their analytic forward FLOPs
    (the backward pass of a matrix product costs twice its forward).

    Args:
        model: the network (its parameters must require gradients; no state changes).
        example: one input batch; only its first sample is used.
    """
    from darwin_bench.costs import trace_workload

    one = example[:1]
    counter = FlopCounterMode(display=False)
    forward = FlopCounterMode(display=False)
    was_training = model.training
    model.train()
    try:
        with torch.random.fork_rng(devices=[]):  # dropout must not move the caller's RNG
            with counter:
                out = model(one)
                out = out[0] if isinstance(out, tuple) else out
                out.float().sum().backward()
            with forward, torch.no_grad():
                model(one)
    finally:
        model.zero_grad(set_to_none=True)
        model.train(was_training)
    uncounted = max(0.0, trace_workload(model, one).flops - forward.get_total_flops())
    return round(counter.get_total_flops() + 3 * uncounted)
