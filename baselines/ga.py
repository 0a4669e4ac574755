"""The genetic algorithm over architectures of seed 004, readable top to bottom.

A generation is a list of genomes of the env's search space. For layered spaces a genome is
a variable-length list of layer genes, and the space's operators are the GA's: ``mutate``
adds or removes a layer, scales a width or changes an activation (recurrent spaces also add,
remove or retarget a connection); ``crossover`` is one-point on the layer list.

Loop::

    population = sample(population_size)                      # or squeezes of a base network
    evaluate(population)                                      # one population-env step
    while budget left:
        pool = population + elites                            # elites are never re-evaluated
        elites = best `elitism` of pool
        children = [mutate?(crossover?(tournament(pool), tournament(pool)))]
        evaluate(children)                                    # one population-env step
        population = children

Fitness is the env's reward (e.g. accuracy traded against FLOPs or latency). The whole
generation is evaluated in one call of a population env (``gym.make_vec(...,
vectorization_mode="vector_entry_point")``) when the env has one; otherwise one proposal env
step per child. The run stops exactly when the budget is spent: on the last step the
population env evaluates only the children the budget still pays for.

**Specialization** (``specialize=True``, seed 004's second method): on an env whose space
squeezes a trained base network (space ``squeeze``: ``darwin_bench/Objects-CNN-Specialize-v0``,
``darwin_bench/Digits-MLP-Specialize-v0``), the first generation is the base network and
squeezes of it; the env builds every child by inheriting the base's surviving weights, refits
the output layer and fine-tunes briefly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import gymnasium as gym
import numpy as np

from baselines.base import Agent, AgentConfig, EnvFactory
from darwin_bench.spaces import SearchSpace
from darwin_bench.validation import check_positive_int
from envs.helpers import helpers


@dataclass
class GAConfig(AgentConfig):
    """Settings of the genetic algorithm.

    Attributes:
        population_size: children evaluated per generation (= the population env's width).
        tournament_size: individuals drawn (with replacement) per tournament; the fittest wins.
        elitism: best individuals carried into every next generation's breeding pool
            unchanged and without re-evaluation (0 disables).
        crossover_rate: probability that a child is the one-point crossover of two parents
            (otherwise a copy of the first parent).
        mutation_rate: probability that a child is mutated after crossover. A child that equals
            an already evaluated genome is always mutated again (up to ``max_retries`` times),
            so the budget is not spent on duplicates.
        max_retries: attempts at producing a genome not yet evaluated in this run.
        vectorized: use the env's population interface when it has one.
        specialize: seed the first generation from the env's trained base network (needs a
            space with ``base_genome()``, e.g. the ``squeeze`` space).
        squeeze_steps: in specialization mode, the first generation's squeezes apply 1 to
            this many mutations to the base genome.
    """

    population_size: int = 8
    tournament_size: int = 3
    elitism: int = 1
    crossover_rate: float = 0.5
    mutation_rate: float = 0.9
    max_retries: int = 20
    vectorized: bool = True
    specialize: bool = False
    squeeze_steps: int = 3

    def __post_init__(self) -> None:
        for name in ("population_size", "tournament_size", "max_retries", "squeeze_steps"):
            check_positive_int(name, getattr(self, name))
        if isinstance(self.elitism, bool) or not isinstance(self.elitism, int):
            raise ValueError(f"elitism must be an integer >= 0; got {self.elitism!r}")
        if not 0 <= self.elitism < self.population_size:
            raise ValueError(
                f"elitism must be in 0..population_size-1 ({self.population_size - 1}); "
                f"got {self.elitism}"
            )
        for name in ("crossover_rate", "mutation_rate"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{name} must be a number in [0, 1]; got {value!r}")
            if not 0.0 <= float(value) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1]; got {value!r}")
        for name in ("vectorized", "specialize"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false; got {getattr(self, name)!r}")


@runtime_checkable
class Squeezable(Protocol):
    """A space that squeezes a trained base network (e.g. ``squeeze``): specialization mode."""

    def base_genome(self) -> np.ndarray:
        """The genome of the base network itself."""
        ...


@dataclass
class Individual:
    """A genome and its fitness (the env's reward)."""

    genome: np.ndarray
    fitness: float


class GeneticAlgorithm(Agent[GAConfig]):
    """Generational GA with tournament selection, one-point crossover, mutation and elitism.

    After :meth:`run`, :attr:`generations` holds, per generation, the breeding pool the next
    children were drawn from (evaluated children plus carried elites), best first.
    """

    name = "ga"
    config_class = GAConfig

    def __init__(self, config: GAConfig | None = None) -> None:
        super().__init__(config)
        self.generations: list[list[Individual]] = []

    # ------------------------------------------------------------------ evaluation
    def _open(self, envs: EnvFactory) -> tuple[Any, bool]:
        """The population env when the config and env allow it, else a proposal env."""
        spec = gym.spec(envs.env_id)
        if self.config.vectorized and spec.vector_entry_point is not None:
            return envs.make_vec(self.config.population_size), True
        return envs.make(), False

    @staticmethod
    def _evaluate(env: Any, vector: bool, genomes: list[np.ndarray]) -> tuple[list[float], bool]:
        """Evaluate ``genomes``; return the rewards of those evaluated and whether the run ended.

        A population env evaluates the whole list in one step (only the first ones when the
        budget runs out); a proposal env takes one step per genome.
        """
        if vector:
            _, rewards, _, truncated, info = env.step(np.stack(genomes))
            evaluated = np.asarray(info["evaluated"], dtype=bool)
            return [float(r) for r in rewards[evaluated]], bool(truncated[0])
        out: list[float] = []
        for genome in genomes:
            _, reward, _, truncated, _ = env.step(genome)
            out.append(float(reward))
            if truncated:
                return out, True
        return out, False

    # ------------------------------------------------------------------- operators
    def _tournament(self, pool: list[Individual], rng: np.random.Generator) -> Individual:
        picks = rng.integers(len(pool), size=self.config.tournament_size)
        return max((pool[int(i)] for i in picks), key=lambda ind: ind.fitness)

    def _child(
        self,
        pool: list[Individual],
        space: SearchSpace,
        seen: set[bytes],
        rng: np.random.Generator,
    ) -> np.ndarray:
        """Select parents, cross over, mutate; re-mutate while the child is a duplicate."""
        first = self._tournament(pool, rng)
        if rng.random() < self.config.crossover_rate:
            second = self._tournament(pool, rng)
            child = space.crossover(first.genome, second.genome, rng)
        else:
            child = first.genome.copy()
        if rng.random() < self.config.mutation_rate:
            child = space.mutate(child, rng)
        for _ in range(self.config.max_retries):
            if child.tobytes() not in seen:
                break
            child = space.mutate(child, rng)
        seen.add(child.tobytes())
        return child

    def _first_generation(
        self, space: SearchSpace, seen: set[bytes], rng: np.random.Generator
    ) -> list[np.ndarray]:
        """Random genomes, or (specialization) the base network and squeezes of it."""
        size = self.config.population_size
        genomes: list[np.ndarray] = []
        if isinstance(space, Squeezable) and self.config.specialize:
            base = space.canonical(space.base_genome())
            genomes.append(base)
            seen.add(base.tobytes())
        for _ in range(size * self.config.max_retries):
            if len(genomes) == size:
                break
            if self.config.specialize:
                genome = genomes[0]
                for _ in range(int(rng.integers(1, self.config.squeeze_steps + 1))):
                    genome = space.mutate(genome, rng)
            else:
                genome = space.sample(rng)
            if genome.tobytes() not in seen:
                seen.add(genome.tobytes())
                genomes.append(genome)
        while len(genomes) < size:  # a tiny space: duplicates are unavoidable
            genomes.append(genomes[len(genomes) % max(1, len(genomes))].copy())
        return genomes

    # ------------------------------------------------------------------------- run
    def run(self, envs: EnvFactory, seed: int) -> None:
        cfg = self.config
        rng = np.random.default_rng(seed)
        env, vector = self._open(envs)
        space = helpers(env).search_space
        if cfg.specialize and not isinstance(space, Squeezable):
            raise ValueError(
                f"ga with specialize=true needs a space that squeezes a trained base network "
                f"(e.g. darwin_bench/Objects-CNN-Specialize-v0); {envs.env_id} has space "
                f"{space.name!r}"
            )
        self.generations = []
        env.reset(seed=seed)
        seen: set[bytes] = set()
        genomes = self._first_generation(space, seen, rng)
        elites: list[Individual] = []
        done = False
        while True:
            rewards, done = self._evaluate(env, vector, genomes)
            population = [Individual(g, r) for g, r in zip(genomes, rewards)]
            pool = sorted(population + elites, key=lambda ind: -ind.fitness)
            self.generations.append(pool)
            if done:
                break
            elites = pool[: cfg.elitism]
            genomes = [self._child(pool, space, seen, rng) for _ in range(cfg.population_size)]
        env.close()
