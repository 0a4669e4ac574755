"""Successive halving over the ``epochs`` fidelity (Jamieson & Talwalkar 2016; Li et al. 2017).

A bracket samples many random networks and trains them for a few epochs (rung 0), keeps the
best ``1/eta`` of them and trains those for ``eta`` times more epochs (rung 1), and so on up
to the env's own epochs (the last rung). Rung ``k`` of ``R`` trains for
``max(1, round(E / eta**(R-1-k)))`` epochs, ``E`` being the env's ``epochs`` (rungs that
round to the same value are merged). Tasks without an ``epochs`` fidelity but with exactly one
other (e.g. CartPole's ``timesteps``) are halved over that one.

Budget accounting: the env's budget counts evaluations, so **every evaluation spends one unit
whatever its epochs** (a 1-epoch evaluation costs as much budget as a full one; it is only
cheaper in wall time, which the run log records). The bracket is sized so that its rungs
exactly fill the budget: rung 0 gets as many networks ``n0`` as fit, rung ``k`` gets
``n0 // eta**k`` (at least 1), and budget left over by the rounding promotes more networks to
the last rung (then, if every candidate is already there, evaluates fresh random networks at
the last rung). The incumbent is therefore normally a full-fidelity network.

The fidelity of each step is set through the proposal env's public
``env.unwrapped.set_fidelity({"epochs": e})`` and read from ``env.unwrapped.fidelity``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from baselines.base import Agent, AgentConfig, EnvFactory
from darwin_bench.validation import check_positive_int


@dataclass
class SuccessiveHalvingConfig(AgentConfig):
    """Settings of successive halving.

    Attributes:
        eta: the promotion factor: the best ``1/eta`` of a rung go up, with ``eta`` times the
            epochs. Must be at least 2.
        rungs: the most fidelity levels (the lowest is ``E / eta**(rungs-1)`` epochs).
    """

    eta: int = 3
    rungs: int = 3

    def __post_init__(self) -> None:
        if check_positive_int("eta", self.eta) < 2:
            raise ValueError(f"eta must be an integer >= 2; got {self.eta}")
        check_positive_int("rungs", self.rungs)


def rung_epochs(max_epochs: int, eta: int, rungs: int) -> list[int]:
    """Epochs of each rung, increasing, ending at ``max_epochs`` (no duplicates)."""
    levels = [max(1, round(max_epochs / eta**k)) for k in range(rungs - 1, -1, -1)]
    return sorted(set(levels))


def rung_sizes(budget: int, rungs: int, eta: int) -> list[int]:
    """Networks per rung: the largest ``n0`` with ``sum(max(1, n0 // eta**k)) <= budget``."""
    best = [1] * rungs if budget >= rungs else [budget] + [0] * (rungs - 1)
    n0 = 1
    while True:
        sizes = [max(1, n0 // eta**k) for k in range(rungs)]
        if sum(sizes) > budget:
            return best
        best, n0 = sizes, n0 + 1


class SuccessiveHalving(Agent):
    """One successive-halving bracket over epochs, sized to the budget."""

    name = "sh"
    config_class = SuccessiveHalvingConfig

    def run(self, envs: EnvFactory, seed: int) -> None:
        config: SuccessiveHalvingConfig = self.config  # type: ignore[assignment]
        env = envs.make()
        proposal = env.unwrapped
        space = proposal.search_space  # type: ignore[attr-defined]
        rng = np.random.default_rng(seed)
        env.reset(seed=seed)
        fidelity = proposal.fidelity  # type: ignore[attr-defined]
        name = "epochs" if "epochs" in fidelity else next(iter(fidelity), None)
        if name is None or (name != "epochs" and len(fidelity) != 1):
            raise ValueError(
                "agent 'sh' needs a task with an 'epochs' fidelity (or exactly one other); "
                f"this env's fidelities are {sorted(fidelity)}"
            )
        epochs = rung_epochs(int(fidelity[name]), config.eta, config.rungs)
        budget = int(proposal.budget_left)  # type: ignore[attr-defined]
        sizes = rung_sizes(budget, len(epochs), config.eta)
        # Leftover budget promotes more networks to the last rung.
        sizes[-1] += budget - sum(sizes)

        # Rung 0: distinct random networks (as far as the space allows).
        seen: set[bytes] = set()
        candidates: list[np.ndarray] = []
        for _ in range(100 * sizes[0]):
            if len(candidates) == sizes[0]:
                break
            genome = space.sample(rng)
            if genome.tobytes() not in seen:
                seen.add(genome.tobytes())
                candidates.append(genome)
        while len(candidates) < sizes[0]:
            candidates.append(space.sample(rng))

        truncated = False
        for rung, (n, e) in enumerate(zip(sizes, epochs)):
            proposal.set_fidelity({name: e})  # type: ignore[attr-defined]
            if n > len(candidates):  # the last rung's leftover: fresh networks at full epochs
                candidates += [space.sample(rng) for _ in range(n - len(candidates))]
            rewards = []
            for genome in candidates[:n]:
                _, reward, _, truncated, _ = env.step(genome)
                rewards.append(float(reward))
            if truncated or rung == len(sizes) - 1:
                break
            # Promote in order of reward (stable: ties keep the earlier candidate first), so
            # the next rung can take as many as it needs from the top.
            order = sorted(range(n), key=lambda i: -rewards[i])
            candidates = [candidates[i] for i in order]
        env.close()
