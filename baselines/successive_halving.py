"""Successive halving over the ``epochs`` fidelity (Jamieson & Talwalkar 2016; Li et al. 2017).

A bracket samples many random networks and trains them for a few epochs (rung 0), keeps the
best ``1/eta`` of them and trains those for ``eta`` times more epochs (rung 1), and so on up
to the env's own epochs (the last rung). Rung ``k`` of ``R`` trains for
``max(1, round(E / eta**(R-1-k)))`` epochs, ``E`` being the env's ``epochs`` (rungs that
round to the same value are merged). Tasks without an ``epochs`` fidelity but with exactly one
other (e.g. CartPole's ``timesteps``) are halved over that one.

Budget accounting: the env charges every evaluation in its budget kind (``budget_kind``):
one unit under ``evaluations`` whatever its epochs; under ``train_flops`` and ``seconds`` a
1-epoch evaluation costs about a twentieth of a 20-epoch one, so the agent pays exactly for
what it trains. A bracket is sized from the price ``p_k`` of an evaluation at each rung: 1
under ``evaluations``; otherwise the mean of ``helpers(env).price(genome, fidelity)`` over
the bracket's first candidates; for measured seconds, which cannot be priced in advance, one
rung-0 evaluation is timed first and its seconds scaled by epochs. Rung 0 gets as many
networks ``n0`` as fit in the budget left, rung ``k`` gets ``n0 // eta**k`` (at least 1),
and budget left over by the rounding promotes more networks to the last rung (then, if every
candidate is already there, fresh random networks are evaluated at the last rung); the
incumbent is therefore normally a full-fidelity network. Because the networks promoted from
a rung are often dearer than the random ones the prices were estimated on (wider networks win
early), each rung above rung 0 is re-planned from the promoted networks' own prices before it
runs (:func:`affordable_rungs`: the left-over promotions go first, then the rungs shrink
together by ``eta``), so the last rung still runs. When prices were estimates and
budget remains after a bracket, another bracket is sized to what is left: the run ends on
the env's truncation signal, never on a count of the agent's own.

The fidelity of each step is set through the proposal env's public
``helpers(env, "proposal").set_fidelity({"epochs": e})`` and read from its ``fidelity``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import gymnasium as gym
import numpy as np

from baselines.base import Agent, AgentConfig, EnvFactory
from darwin_bench.spaces import SearchSpace
from darwin_bench.validation import check_positive_int
from envs.helpers import helpers

#: Candidates whose prices estimate a bracket's rung prices (when prices are known).
PRICE_SAMPLE = 16


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


def rung_sizes(budget: float, rungs: int, eta: int, prices: list[float] | None = None) -> list[int]:
    """Networks per rung: the largest ``n0`` with ``sum(max(1, n0 // eta**k) * p_k) <= budget``.

    ``prices`` are the rung prices ``p_k`` (default 1 each: a budget of evaluations). When
    not even one network per rung fits, rung 0 gets what fits (at least one network) and the
    higher rungs none.

    Raises:
        ValueError: for a price that is not positive.
    """
    prices = prices if prices is not None else [1.0] * rungs
    if min(prices) <= 0:
        raise ValueError(f"rung prices must be > 0; got {prices}")
    if sum(prices) > budget:
        return [max(1, int(budget // prices[0]))] + [0] * (rungs - 1)
    best, n0 = [1] * rungs, 2
    while True:
        sizes = [max(1, n0 // eta**k) for k in range(rungs)]
        if sum(n * p for n, p in zip(sizes, prices)) > budget:
            return best
        best, n0 = sizes, n0 + 1


def halving_fidelity(fidelity: dict[str, int], agent: str) -> tuple[str, int]:
    """The fidelity a multi-fidelity agent varies, and its full value (the env's own).

    Raises:
        ValueError: when the task has neither an ``epochs`` fidelity nor exactly one other.
    """
    name = "epochs" if "epochs" in fidelity else next(iter(fidelity), None)
    if name is None or (name != "epochs" and len(fidelity) != 1):
        raise ValueError(
            f"agent {agent!r} needs a task with an 'epochs' fidelity (or exactly one other); "
            f"this env's fidelities are {sorted(fidelity)}"
        )
    return name, int(fidelity[name])


def distinct_sampler(space: SearchSpace, rng: np.random.Generator) -> Callable[[], np.ndarray]:
    """A function returning random genomes not returned before (as far as the space allows)."""
    seen: set[bytes] = set()

    def sample() -> np.ndarray:
        for _ in range(100):
            genome = space.sample(rng)
            if genome.tobytes() not in seen:
                break
        seen.add(genome.tobytes())
        return genome

    return sample


def affordable_rungs(
    env: gym.Env[np.ndarray, np.ndarray],
    name: str,
    rungs: list[tuple[int, int]],
    ranked: list[np.ndarray],
    eta: int,
) -> list[tuple[int, int]]:
    """The remaining rungs shrunk so that training the best of ``ranked`` through all of them
    fits the budget left, priced network by network (the promoted networks of a rung are often
    dearer than the random ones a bracket was sized from, and the last rung must still run).

    First the left-over promotions to the last rung are dropped (down to its halving size);
    then the rungs shrink together to ``max(1, m // eta**i)`` networks for the largest ``m``
    that fits; when not even one network per rung fits, only the last rung is kept (one
    network). Rungs are returned unchanged when they fit, or when the env cannot price in
    advance (measured seconds).
    """
    proposal = helpers(env, "proposal")
    live = [(n, e) for n, e in rungs if n > 0]
    if proposal.budget_kind == "evaluations" or not live:
        return rungs
    budget = float(proposal.budget_left)
    prices: dict[tuple[int, int], float] = {}

    def fits(sizes: list[int]) -> bool | None:
        total = 0.0
        for n, (_, e) in zip(sizes, live):
            for i in range(min(n, len(ranked))):
                if (i, e) not in prices:
                    price = proposal.price(ranked[i], {name: e})
                    if price is None:
                        return None
                    prices[i, e] = float(price)
                total += prices[i, e]
        return total <= budget

    sizes = [n for n, _ in live]
    epochs = [e for _, e in live]
    halving = max(1, sizes[0] // eta ** (len(sizes) - 1))
    while sizes[-1] > halving and fits(sizes) is False:
        sizes[-1] -= 1
    fit = fits(sizes)
    if fit is None:
        return rungs
    if fit:
        return list(zip(sizes, epochs))
    for m in range(sizes[0] - 1, 0, -1):
        trial = [max(1, m // eta**i) for i in range(len(sizes))]
        if fits(trial):
            return list(zip(trial, epochs))
    return [(1, epochs[-1])]


def run_bracket(
    env: gym.Env[np.ndarray, np.ndarray],
    name: str,
    rungs: list[tuple[int, int]],
    candidates: list[np.ndarray],
    fresh: Callable[[], np.ndarray],
    *,
    eta: int | None = None,
) -> bool:
    """Run one bracket: rung ``k`` trains the best ``n_k`` of rung ``k-1`` at ``e_k``.

    Args:
        env: a proposal env (reset).
        name: the fidelity varied (``"epochs"``).
        rungs: ``(n_k, e_k)`` per rung, the first being rung 0.
        candidates: rung 0's networks, in order (topped up with ``fresh()`` when short).
        fresh: a sampler of new networks, for rungs larger than the rung below.
        eta: when given, before each rung above rung 0, shrink it and the rungs above it to
            what the promoted networks' own prices leave room for (:func:`affordable_rungs`,
            halving by ``eta``), so that the last rung runs.

    Returns:
        True when the env truncated the run (its budget is spent).
    """
    k = 0
    while k < len(rungs):
        if eta is not None and k > 0:
            rungs = rungs[:k] + affordable_rungs(env, name, rungs[k:], candidates, eta)
        n, epochs = rungs[k]
        k += 1
        if n == 0:
            break
        helpers(env, "proposal").set_fidelity({name: epochs})
        candidates = candidates + [fresh() for _ in range(n - len(candidates))]
        rewards: list[float] = []
        for genome in candidates[:n]:
            _, reward, _, truncated, _ = env.step(genome)
            rewards.append(float(reward))
            if truncated:
                return True
        # Promote in order of reward (stable: ties keep the earlier candidate first), so the
        # next rung can take as many as it needs from the top.
        order = sorted(range(n), key=lambda i: -rewards[i])
        candidates = [candidates[i] for i in order]
    return False


def rung_prices(
    env: gym.Env[np.ndarray, np.ndarray], pool: list[np.ndarray], name: str, epochs: list[int]
) -> list[float] | None:
    """Mean price of an evaluation at each rung over ``pool`` (1 each under ``evaluations``;
    ``None`` when the env cannot price in advance, e.g. measured seconds)."""
    proposal = helpers(env, "proposal")
    if proposal.budget_kind == "evaluations":
        return [1.0] * len(epochs)
    prices = []
    for e in epochs:
        values = [proposal.price(g, {name: e}) for g in pool]
        known = [v for v in values if v is not None]
        if len(known) < len(values):
            return None
        prices.append(float(np.mean(known)))
    return prices


class SuccessiveHalving(Agent[SuccessiveHalvingConfig]):
    """Successive-halving brackets over epochs, each sized to the budget left."""

    name = "sh"
    config_class = SuccessiveHalvingConfig

    def run(self, envs: EnvFactory, seed: int) -> None:
        cfg = self.config
        env = envs.make()
        proposal = helpers(env, "proposal")
        rng = np.random.default_rng(seed)
        fresh = distinct_sampler(proposal.search_space, rng)
        env.reset(seed=seed)
        name, full = halving_fidelity(proposal.fidelity, self.name)
        epochs = rung_epochs(full, cfg.eta, cfg.rungs)
        prices: list[float] | None = None
        truncated = False
        while not truncated:
            pool = [fresh() for _ in range(PRICE_SAMPLE)]
            estimate = rung_prices(env, pool, name, epochs)
            if estimate is not None:
                prices = estimate
            elif prices is None:  # measured seconds: time one rung-0 evaluation, scale by epochs
                proposal.set_fidelity({name: epochs[0]})
                _, _, _, truncated, info = env.step(pool.pop(0))
                prices = [max(float(info["spent"]), 1e-9) * e / epochs[0] for e in epochs]
                if truncated:
                    break
            budget = float(proposal.budget_left)
            sizes = rung_sizes(budget, len(epochs), cfg.eta, prices)
            # Budget left over by the rounding promotes more networks to the last rung (one
            # more than the estimate pays for: the env ends the run where the budget ends).
            planned = sum(n * p for n, p in zip(sizes, prices))
            if sizes[-1] > 0:
                sizes[-1] += math.ceil((budget - planned) / prices[-1] - 1e-9)
            truncated = run_bracket(env, name, list(zip(sizes, epochs)), pool, fresh, eta=cfg.eta)
        env.close()
