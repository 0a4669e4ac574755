"""Local search: first-improvement hill climbing with random restarts.

Start from a random genome. Evaluate its neighbours in random order and move to the first one
whose reward is higher. When no neighbour improves (a local optimum, or ``patience``
neighbours in a row without improvement), restart from a fresh random genome. White, Nolen
and Savani ("Local search is state of the art for NAS benchmarks", UAI 2021) found this simple
loop hard to beat on small cell spaces.

Neighbourhoods come from the space's public operators: ``"neighbours"`` is every valid genome
one gene change away (``space.neighbours``), ``"mutate"`` draws ``num_mutations`` distinct
mutations (``space.mutate``; for spaces with large neighbourhoods). A genome already
evaluated in this run is never proposed again, so no budget is spent on repeats.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from baselines.base import Agent, AgentConfig, EnvFactory
from darwin_bench.validation import check_choice, check_positive_int
from envs.helpers import helpers

NEIGHBOURHOODS = ("neighbours", "mutate")


@dataclass
class LocalSearchConfig(AgentConfig):
    """Settings of hill climbing.

    Attributes:
        neighbourhood: ``"neighbours"`` (all one-gene changes) or ``"mutate"`` (random
            mutations).
        num_mutations: neighbourhood size when ``neighbourhood="mutate"``.
        patience: restart after this many non-improving neighbours in a row (``None``: only
            when the whole neighbourhood has been tried).
    """

    neighbourhood: str = "neighbours"
    num_mutations: int = 20
    patience: int | None = None

    def __post_init__(self) -> None:
        check_choice("neighbourhood", self.neighbourhood, NEIGHBOURHOODS)
        check_positive_int("num_mutations", self.num_mutations)
        if self.patience is not None:
            check_positive_int("patience", self.patience)


class LocalSearch(Agent[LocalSearchConfig]):
    """Hill climbing over one-gene neighbourhoods, restarted at local optima."""

    name = "local"
    config_class = LocalSearchConfig

    def run(self, envs: EnvFactory, seed: int) -> None:
        config = self.config
        env = envs.make()
        space = helpers(env, "proposal").search_space
        rng = np.random.default_rng(seed)
        env.reset(seed=seed)
        seen: set[bytes] = set()
        truncated = False

        def evaluate(genome: np.ndarray) -> float:
            nonlocal truncated
            seen.add(genome.tobytes())
            _, reward, _, truncated, _ = env.step(genome)
            return float(reward)

        def neighbourhood(genome: np.ndarray) -> list[np.ndarray]:
            if config.neighbourhood == "neighbours":
                candidates = space.neighbours(genome)
            else:
                candidates = [space.mutate(genome, rng) for _ in range(config.num_mutations)]
            fresh = {c.tobytes(): c for c in candidates if c.tobytes() not in seen}
            order = rng.permutation(len(fresh))
            values = list(fresh.values())
            return [values[int(i)] for i in order]

        def random_start() -> np.ndarray:
            for _ in range(100):
                genome = space.sample(rng)
                if genome.tobytes() not in seen:
                    return genome
            return genome  # a small, exhausted space: re-evaluating is all that is left

        while not truncated:
            # A (re)start: a random genome becomes the current point.
            current = random_start()
            current_reward = evaluate(current)
            improved = True
            while improved and not truncated:
                improved = False
                for failures, candidate in enumerate(neighbourhood(current), 1):
                    reward = evaluate(candidate)
                    if reward > current_reward:
                        current, current_reward, improved = candidate, reward, True
                        break
                    if truncated or (config.patience is not None and failures >= config.patience):
                        break
        env.close()
