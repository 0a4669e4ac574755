"""The typed contract of what an agent may use of a darwin_bench env, beyond Gymnasium's API.

Agents talk to envs through ``reset``/``step`` and these helpers only. Each env form offers a
:class:`typing.Protocol`:

- :class:`EnvHelpers` (every env, the population env included): ``search_space``, ``budget``,
  ``budget_kind``, ``budget_left``, ``budget_state()``, ``price(genome, fidelity)``,
  ``add_listener``.
- :class:`ProposalHelpers` (proposal envs): adds the fidelity helpers ``fidelity`` and
  ``set_fidelity`` (multi-fidelity agents such as successive halving).
- :class:`BuilderHelpers` (builder envs): adds ``action_masks``.
- :class:`SynapseHelpers` (synapse-mask envs, seed 000): adds ``cost_target``,
  ``ancestor_weights``, ``ancestor_metrics`` and ``trained_weights``.

:func:`helpers` reaches them through any Gymnasium wrappers, typed::

    env = envs.make()                               # a wrapped gym.Env
    space = helpers(env, "proposal").search_space   # a SearchSpace, checked by mypy

Nothing here carries test metrics: listeners get :meth:`Evaluation.public` copies. What the
framework itself needs (run-log recorders, replayed evaluations, the run header) is in
:mod:`envs.framework`, which agents never use.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Protocol, cast, overload, runtime_checkable

import gymnasium as gym
import numpy as np
from gymnasium.vector import VectorEnv

from darwin_bench.budgets import BudgetState
from darwin_bench.models.masked import Layer
from darwin_bench.spaces import SearchSpace
from envs.core import Listener

Form = Literal["any", "proposal", "builder", "synapses"]
"""The env forms :func:`helpers` knows (``"any"``: only what every env offers)."""


@runtime_checkable
class EnvHelpers(Protocol):
    """What every darwin_bench env offers agents (proposal, builder, synapse, population)."""

    @property
    def search_space(self) -> SearchSpace:
        """The search space whose genomes the env evaluates (sample, mutate, decode, ...)."""
        ...

    @property
    def budget(self) -> float:
        """What one run may spend, in units of :attr:`budget_kind`."""
        ...

    @property
    def budget_kind(self) -> str:
        """``"evaluations"`` (default), ``"train_flops"`` or ``"seconds"``."""
        ...

    @property
    def budget_left(self) -> float:
        """What is left of the current run's budget; the run ends when it reaches 0."""
        ...

    def budget_state(self) -> BudgetState:
        """The current run's budget: kind, total, used, left, exhausted, reproducible."""
        ...

    def price(self, genome: Any, fidelity: Mapping[str, int] | None = None) -> float | None:
        """What proposing ``genome`` (at ``fidelity``) would charge the budget, without
        spending anything; ``None`` when it is only known once measured."""
        ...

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(evaluation)`` after every evaluation (validation metrics only)."""
        ...


@runtime_checkable
class ProposalHelpers(EnvHelpers, Protocol):
    """A proposal env's helpers: :class:`EnvHelpers` plus the fidelity of the next steps."""

    @property
    def fidelity(self) -> dict[str, int]:
        """The fidelity the next steps train at, e.g. ``{"epochs": 20}``."""
        ...

    def set_fidelity(self, fidelity: Mapping[str, int] | None) -> dict[str, int]:
        """Train the next steps at ``fidelity`` (``None``: the env's own); returns it."""
        ...


@runtime_checkable
class BuilderHelpers(EnvHelpers, Protocol):
    """A builder env's helpers: :class:`EnvHelpers` plus the valid choices of the next gene."""

    def action_masks(self) -> np.ndarray:
        """Boolean mask of the valid choices for the next gene."""
        ...


@runtime_checkable
class SynapseHelpers(ProposalHelpers, Protocol):
    """A synapse-mask env's helpers (seed 000): the ancestor and every offspring's weights."""

    @property
    def cost_target(self) -> tuple[str, float]:
        """The reward's cost name and target, e.g. ``("synapses", 1760.0)``."""
        ...

    @property
    def score_range(self) -> tuple[float, float] | None:
        """``(worst, best)`` of ``info["objectives"]["score"]`` (``None``: no known range)."""
        ...

    def ancestor_weights(self) -> list[Layer]:
        """The trained ancestor's ``(weight, bias)`` per layer."""
        ...

    def ancestor_metrics(self) -> dict[str, float]:
        """The ancestor's validation metrics."""
        ...

    def trained_weights(self, evaluation_id: str) -> list[Layer]:
        """The trained ``(weight, bias)`` per layer of an evaluation of this env."""
        ...


_PROTOCOLS: dict[str, type] = {
    "any": EnvHelpers,
    "proposal": ProposalHelpers,
    "builder": BuilderHelpers,
    "synapses": SynapseHelpers,
}

AnyEnv = gym.Env[Any, Any] | VectorEnv[Any, Any, Any]


@overload
def helpers(env: AnyEnv, form: Literal["proposal"]) -> ProposalHelpers: ...
@overload
def helpers(env: AnyEnv, form: Literal["builder"]) -> BuilderHelpers: ...
@overload
def helpers(env: AnyEnv, form: Literal["synapses"]) -> SynapseHelpers: ...
@overload
def helpers(env: AnyEnv, form: Literal["any"] = "any") -> EnvHelpers: ...


def helpers(env: AnyEnv, form: Form = "any") -> EnvHelpers:
    """The public helpers of a darwin_bench env of ``form``, through any wrappers.

    Args:
        env: an env from ``gym.make``/``gym.make_vec`` or an agent's ``EnvFactory``.
        form: the form the agent needs: ``"any"`` (every env, the population env included),
            ``"proposal"``, ``"builder"`` or ``"synapses"``.

    Raises:
        ValueError: for an unknown form, or an env that does not offer that form's helpers
            (naming the ones it lacks).
    """
    if form not in _PROTOCOLS:
        raise ValueError(f"form must be one of {sorted(_PROTOCOLS)}; got {form!r}")
    unwrapped = env.unwrapped
    protocol = _PROTOCOLS[form]
    if not isinstance(unwrapped, protocol):
        members = [
            m
            for klass in protocol.__mro__
            if klass is not object and klass is not Protocol
            for m in vars(klass)
            if not m.startswith("_")
        ]
        missing = sorted({m for m in members if not hasattr(unwrapped, m)})
        raise ValueError(
            f"env {type(unwrapped).__name__} is not a darwin_bench {form} env: it lacks "
            f"{', '.join(missing)}"
        )
    return cast(EnvHelpers, unwrapped)
