"""Hyperband over the ``epochs`` fidelity (Li, Jamieson, DeSalvo, Rostamizadeh & Talwalkar,
JMLR 2018), readable top to bottom.

Successive halving (``baselines/successive_halving.py``) must choose how hard to cut: many
networks at few epochs finds good regions fast but trusts noisy early rankings; few networks
at full epochs trusts nothing early but sees little. Hyperband hedges by cycling through
every choice. With ``R`` the env's epochs, ``eta`` the cut factor and ``s_max`` the largest
``s`` with ``min_epochs * eta**s <= R``, bracket ``s`` (from ``s_max`` down to 0)::

    n = ceil((s_max + 1) / (s + 1) * eta**s)            # networks the bracket starts with
    for i in 0..s:                                       # successive halving, s + 1 rungs
        train the best floor(n / eta**i) of the rung below (rung 0: n random networks)
        at round(R * eta**(i - s)) epochs                # the last rung is at R epochs

Bracket ``s_max`` is the most aggressive (e.g. ``R = 20, eta = 3``: 9 networks at 2 epochs,
the best 3 at 7, the best one at 20); bracket 0 is random search at full epochs (3 networks
at 20). Each bracket trains about ``(s_max + 1) * R`` epochs in all, so each is about as
expensive in ``train_flops`` or ``seconds``.

Budget: the env charges every evaluation in its budget kind (one unit per evaluation under
``evaluations``, its exact training FLOPs under ``train_flops``, its seconds under
``seconds``), so Hyperband pays for exactly what it trains. The paper's outer loop repeats the
brackets; here it repeats them until the env truncates the run, and the bracket running then
is cut short where the budget ends.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from baselines.base import Agent, AgentConfig, EnvFactory
from baselines.successive_halving import distinct_sampler, halving_fidelity, run_bracket
from darwin_bench.validation import check_positive_int
from envs.helpers import helpers


@dataclass
class HyperbandConfig(AgentConfig):
    """Settings of Hyperband.

    Attributes:
        eta: the cut factor: each rung keeps the best ``1/eta`` and trains them ``eta`` times
            longer. Must be at least 2.
        min_epochs: the fewest epochs any rung trains for (sets ``s_max``).
    """

    eta: int = 3
    min_epochs: int = 1

    def __post_init__(self) -> None:
        if check_positive_int("eta", self.eta) < 2:
            raise ValueError(f"eta must be an integer >= 2; got {self.eta}")
        check_positive_int("min_epochs", self.min_epochs)


Bracket = list[tuple[int, int]]
"""The rungs of one bracket: ``(networks, epochs)`` each, rung 0 first."""


def hyperband_brackets(max_epochs: int, eta: int, min_epochs: int = 1) -> list[Bracket]:
    """The rungs ``(networks, epochs)`` of every bracket, most aggressive first.

    Raises:
        ValueError: when ``min_epochs`` exceeds ``max_epochs``.
    """
    if min_epochs > max_epochs:
        raise ValueError(
            f"min_epochs must be at most the env's epochs ({max_epochs}); got {min_epochs}"
        )
    s_max = 0
    while min_epochs * eta ** (s_max + 1) <= max_epochs:
        s_max += 1
    brackets = []
    for s in range(s_max, -1, -1):
        n = math.ceil((s_max + 1) / (s + 1) * eta**s)
        rungs = [
            (max(1, n // eta**i), max(1, round(max_epochs * eta ** (i - s)))) for i in range(s + 1)
        ]
        brackets.append(rungs)
    return brackets


class Hyperband(Agent[HyperbandConfig]):
    """Brackets of successive halving from most to least aggressive, repeated until the
    budget is spent."""

    name = "hyperband"
    config_class = HyperbandConfig

    def run(self, envs: EnvFactory, seed: int) -> None:
        cfg = self.config
        env = envs.make()
        proposal = helpers(env, "proposal")
        rng = np.random.default_rng(seed)
        fresh = distinct_sampler(proposal.search_space, rng)  # no network sampled twice
        env.reset(seed=seed)
        name, full = halving_fidelity(proposal.fidelity, self.name)
        brackets = hyperband_brackets(full, cfg.eta, cfg.min_epochs)
        truncated = False
        while not truncated:
            for rungs in brackets:
                candidates = [fresh() for _ in range(rungs[0][0])]
                truncated = run_bracket(env, name, rungs, candidates, fresh)
                if truncated:
                    break
        env.close()
