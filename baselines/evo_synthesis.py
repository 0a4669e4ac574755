"""Evolutionary synthesis (seed 000: Shafiee, Mishra & Wong, "Deep Learning with Darwin").

Readable top to bottom:

1. The ancestor (generation 0) is the env's trained network: every synapse kept, its trained
   weights from ``env.unwrapped.ancestor_weights()``.
2. Each generation, the parent's "DNA" is its synaptic probability model, computed from its
   trained weights (:mod:`darwin_bench.synaptic`): ``P(s_k | w_k) = exp(|w_k| / Z - 1)`` per
   synapse, and for the cluster levels a probability per hidden neuron from its sum of ``|w|``.
3. The environmental factor ``F(E)`` scales the model: a constant, or (default) derived from the
   env's cost target so that the expected synapse count follows a geometric path to the target
   by generation ``target_generation``.
4. ``offspring`` children are synthesized (each a subset of the parent's mask: removed synapses
   never come back) and proposed to the env, which trains them, starting from the parent's
   trained weights (the env's ``inherit="parent"``).
5. Natural selection: ``selection="reward"`` (default): the child with the highest reward
   becomes the next parent (with a derived ``F(E)``, from the target generation on, children that
   meet the target come first). ``selection="path"``: children whose synapse count is on the
   geometric path to the target (at most this generation's step of it) come first, then the
   highest validation score (``info["objectives"]["score"]``), then the lowest validation loss
   (``info["metrics"]["val_loss"]`` when the task reports it), then the fewest synapses. The
   winner's trained weights (``env.unwrapped.trained_weights(evaluation_id)``) become the next
   generation's DNA.

With ``draws > 1`` (derived ``F(E)`` only), each child is the draw, of ``draws`` masks synthesized
from the same model, with the most synapses still on the path (the fewest when none is): the
environment culls offspring that exceed its resources before they are trained, which steadies
the per-generation reduction without changing the model. Draws cost no training.

Counts (the path, the draws' cap, the target, :attr:`Generation.synapses`) are in connection
weights, the unit of ``costs["synapses"]``: a mask entry counts ``search_space.entry_weights``
weights of its layer (1 in an MLP, ``k*k`` for a convolution kernel). A failed child (e.g. a
mask that empties a hidden layer) is never selected, nor is a *degenerate* one: a child whose
validation score is no better than the bottom of the score range (``score_range``), e.g. a
saliency FCN whose maps are constant (F-beta 0: a hidden layer whose ReLUs are dead for every
input leaves the output independent of the image, and no gradient can revive it). When every
child of a generation fails or is degenerate, the generation is synthesized again from the
same parent.

``offspring=1`` is the paper's process; ``offspring > 1`` is the group variant. The agent works
only on synapse-mask envs (form ``"synapses"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from baselines.base import Agent, AgentConfig, EnvFactory
from darwin_bench import synaptic
from darwin_bench.spaces.synapses import SynapseSpace
from darwin_bench.validation import check_choice, check_positive_int
from envs.helpers import SynapseHelpers, helpers

#: Selection rules (see the module docstring).
SELECTIONS: tuple[str, ...] = ("reward", "path")


@dataclass
class EvoSynthesisConfig(AgentConfig):
    """Settings of evolutionary synthesis.

    Attributes:
        offspring: children per generation (1 = the paper; K > 1 = the group variant).
        level: ``"synapse"`` (per-synapse model), ``"cluster"`` (whole hidden neurons, the
            default: it keeps accuracy best at high compression on Digits, see
            docs/reproductions.md), or ``"cluster+synapse"`` (neurons, then synapses inside).
        form: the probability model, ``"exp"`` (``exp(|w|/Z - 1)``, ``Z = max|w|``) or
            ``"exp-ln2"`` (``exp(|w|/Z) - 1``, ``Z = max|w| / ln 2``).
        factor: a constant ``F(E)`` in (0, 1]; ``None`` derives it from the env's cost target.
        target_generation: with a derived ``F(E)``, the generation that should reach the target.
        aim: with a derived ``F(E)``, aim at ``aim * target`` synapses (a margin under the target,
            since each offspring's count is random).
        selection: ``"reward"`` (highest env reward) or ``"path"`` (children on the geometric path
            to the cost target first, then the highest validation score); see the module
            docstring.
        draws: masks synthesized per child with a derived ``F(E)``; the child is the one with
            the most synapses still on the path (1 = every synthesized child is trained).
    """

    offspring: int = 1
    level: str = "cluster"
    form: str = "exp"
    factor: float | None = None
    target_generation: int = 4
    aim: float = 0.95
    selection: str = "reward"
    draws: int = 1

    def __post_init__(self) -> None:
        check_positive_int("offspring", self.offspring)
        check_positive_int("target_generation", self.target_generation)
        check_choice("level", self.level, synaptic.LEVELS)
        check_choice("form", self.form, synaptic.FORMS)
        check_choice("selection", self.selection, SELECTIONS)
        check_positive_int("draws", self.draws)
        if self.factor is not None and not 0.0 < float(self.factor) <= 1.0:
            raise ValueError(f"factor must be in (0, 1] or null; got {self.factor!r}")
        if not 0.0 < float(self.aim) <= 1.0:
            raise ValueError(f"aim must be in (0, 1]; got {self.aim!r}")


@dataclass
class Generation:
    """One generation's selected network (``generation 0`` is the ancestor).

    Attributes:
        generation: its number.
        evaluation_id: the env's evaluation of it (``None`` for the ancestor).
        synapses: its live connection weights (dead neurons' synapses not counted).
        factor: the ``F(E)`` it was synthesized with.
        reward: its env reward.
        info: ``{"metrics", "costs"}`` of its step.
    """

    generation: int
    evaluation_id: str | None
    synapses: int
    factor: float
    reward: float | None
    info: dict[str, Any] = field(default_factory=dict)


class EvoSynthesis(Agent[EvoSynthesisConfig]):
    """Evolutionary synthesis over synapse masks; see the module docstring."""

    name = "evo-synthesis"
    config_class = EvoSynthesisConfig
    forms = ("synapses",)

    def __init__(self, config: EvoSynthesisConfig | None = None) -> None:
        super().__init__(config)
        #: The selected network of every generation of the last run (generation 0 first).
        self.generations: list[Generation] = []

    def _factor(
        self,
        synapse_p: list[np.ndarray],
        cluster_p: list[np.ndarray],
        masks: list[np.ndarray],
        units: tuple[int, ...],
        generation: int,
        target: float,
    ) -> float:
        cfg = self.config
        if cfg.factor is not None:
            return float(cfg.factor)
        left = max(1, cfg.target_generation - generation + 1)
        return synaptic.factor_for_target(
            lambda f: synaptic.expected_live_synapses(
                synapse_p, cluster_p, masks, f, cfg.level, units
            ),
            float(synaptic.live_synapses(masks, units)),
            cfg.aim * target,
            left,
        )

    def _key(
        self,
        info: dict[str, Any],
        reward: float,
        cost: str,
        target: float | None,
        cap: float,
        floor: float = float("-inf"),
    ) -> tuple[float, ...]:
        """Selection key of one evaluated child (larger is better). Its first entry is 1 for a
        selectable child: evaluated (``status`` ok) and scoring above ``floor`` (the bottom of
        the score range); failed and degenerate children come last and are never selected."""
        cfg = self.config
        score = float(info.get("objectives", {}).get("score", float("-inf")))
        usable = float(info.get("status") == "ok" and score > floor)
        spent = float(info["costs"].get(cost, float("inf")))
        if cfg.selection == "reward":
            return (usable, float(target is None or spent <= target), reward)
        val_loss = float(info.get("metrics", {}).get("val_loss", 0.0))
        return (usable, float(spent <= cap), score, -val_loss, -spent)

    def _synapse_env(self, env: Any) -> tuple[SynapseHelpers, SynapseSpace]:
        """The env's synapse helpers and space.

        Raises:
            ValueError: for an env that is not a synapse-mask env, or a cost other than
                ``synapses`` when ``factor`` is derived.
        """
        try:
            unwrapped = helpers(env, "synapses")
        except ValueError:
            raise ValueError(
                f"agent {self.name!r} needs a synapse-mask env (form 'synapses'), e.g. "
                "darwin_bench/Digits-Synapses-v0"
            ) from None
        space = unwrapped.search_space
        if not isinstance(space, SynapseSpace):
            raise ValueError(f"agent {self.name!r} needs a synapse space; got {space.name!r}")
        cost = unwrapped.cost_target[0]
        if self.config.factor is None and cost != "synapses":
            raise ValueError(
                f"factor must be set when the env's cost is {cost!r} (derived F(E) needs cost "
                "'synapses')"
            )
        return unwrapped, space

    def _cap(
        self, masks: list[np.ndarray], units: tuple[int, ...], target: float, generation: int
    ) -> float:
        """This generation's step of the geometric path to the target (derived F(E) only)."""
        cfg = self.config
        if cfg.factor is not None:
            return float("inf")
        live = synaptic.live_synapses(masks, units)
        return synaptic.path_goal(live, target, cfg.target_generation - generation + 1)

    def run(self, envs: EnvFactory, seed: int) -> None:
        cfg = self.config
        env = envs.make()
        unwrapped, space = self._synapse_env(env)
        cost, target = unwrapped.cost_target
        score_range = unwrapped.score_range
        floor = float("-inf") if score_range is None else score_range[0]
        rng = np.random.default_rng(seed)
        env.reset(seed=seed)
        units = tuple(space.entry_weights)  # counts below are in weights, like the target

        # Generation 0: the trained ancestor, every synapse kept.
        masks = space.masks(space.full())
        weights = [w for w, _ in unwrapped.ancestor_weights()]
        self.generations = [Generation(0, None, synaptic.count_weights(masks, units), 1.0, None)]
        while unwrapped.budget_left > 0:
            generation = len(self.generations)
            # The parent's DNA; synapses of dead neurons (weight exactly 0) count as removed.
            masks = [m & (w != 0) for m, w in zip(masks, weights)]
            synapse_p = synaptic.synapse_probabilities(weights, masks, cfg.form)
            cluster_p = synaptic.cluster_probabilities(weights, masks, cfg.form)
            factor = self._factor(synapse_p, cluster_p, masks, units, generation, target)
            cap = self._cap(masks, units, target, generation)
            due = cfg.factor is None and generation >= cfg.target_generation
            best: tuple[tuple[float, ...], float, list[np.ndarray], dict[str, Any]] | None = None
            for _ in range(cfg.offspring):  # the env's truncation ends the last generation
                child = synaptic.synthesize_within(
                    masks,
                    synapse_p,
                    factor,
                    rng,
                    cap=cap,
                    draws=cfg.draws,
                    level=cfg.level,
                    cluster_p=cluster_p,
                    entry_weights=units,
                )
                _, reward, _, truncated, info = env.step(space.flatten(child))
                key = self._key(info, float(reward), cost, target if due else None, cap, floor)
                if best is None or key > best[0]:
                    best = (key, float(reward), child, info)
                if truncated:
                    break
            if best is None or not best[0][0]:
                continue  # every child failed or is degenerate: synthesize again
            _, reward, masks, info = best
            weights = [w for w, _ in unwrapped.trained_weights(info["evaluation_id"])]
            self.generations.append(
                Generation(
                    generation,
                    info["evaluation_id"],
                    synaptic.live_synapses(masks, units),
                    factor,
                    reward,
                    {"metrics": info["metrics"], "costs": info["costs"]},
                )
            )
        env.close()
