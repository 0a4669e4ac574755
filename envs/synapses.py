"""`SynapseEnv`: propose a synapse mask over a trained ancestor network (seed 000).

``darwin_bench/Digits-Synapses-v0``: the action is a ``MultiBinary(84480)`` mask over the
synapses of a 64-256-256-10 MLP trained to convergence on Digits (see
:mod:`darwin_bench.tasks.ancestor`); the env trains the masked network and rewards it like any
proposal env (default: ``mnasnet`` reward on ``synapses`` with the target 84,480 / 48 = 1,760).

Inheritance (``inherit``):

- ``"parent"`` (default): an offspring starts from the trained weights of its closest evaluated
  ancestor in this run, i.e. the successful evaluation with the fewest synapses whose mask
  contains the offspring's mask (equal masks included; the latest such evaluation on ties);
  from the trained ancestor network when there is none. Evolutionary synthesis proposes
  subsets of its parent, so this is the parent, also when an offspring keeps every synapse of
  its parent (its parent, not the grandparent, is then the latest evaluation of that mask).
  The rule depends only on the run's earlier evaluations, never on timing.
- ``"ancestor"``: always from the ancestor's trained weights.
- ``"scratch"``: a fresh initialization (the offspring's seed), masked.

The parent is written into the architecture (``extra["init"]``), so it is part of the content
hash: the same mask with another parent is another evaluation. Evaluations record no genome
(the mask is in ``architecture["extra"]["mask"]``, packed), which keeps run logs small.

Public helpers for agents: :meth:`SynapseEnv.ancestor_weights`,
:meth:`SynapseEnv.trained_weights`, :attr:`SynapseEnv.cost_target`, plus those of
:class:`envs.proposal.ProposalEnv` (``search_space.masks`` / ``flatten`` convert genomes).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from darwin_bench.architecture import Architecture
from darwin_bench.evaluation import EvalRequest, Evaluation
from darwin_bench.spaces.synapses import SynapseSpace
from darwin_bench.tasks.lineage import Layer, LineageTask
from darwin_bench.validation import check_choice
from envs.core import SearchCore
from envs.population import PopulationEnv
from envs.proposal import ProposalEnv

INHERIT = ("parent", "ancestor", "scratch")


class SynapseCore(SearchCore):
    """A :class:`SearchCore` whose offspring inherit weights from their closest ancestor.

    Args:
        inherit: ``"parent"``, ``"ancestor"`` or ``"scratch"`` (see the module docstring).
        **kwargs: those of :class:`SearchCore`; the task must be a
            :class:`~darwin_bench.tasks.lineage.LineageTask` and the space its mask space.
    """

    def __init__(self, *, inherit: str = "parent", **kwargs: Any) -> None:
        self.inherit = check_choice("inherit", inherit, INHERIT)
        if kwargs.get("workers", 1) != 1:
            # Offspring inherit trained weights kept in this process; a worker would have to
            # retrain each offspring's whole lineage.
            raise ValueError(f"workers must be 1 for synapse envs; got {kwargs['workers']!r}")
        if kwargs.get("time_limit") is not None:  # it runs evaluations in worker processes
            raise ValueError("time_limit is not supported by synapse envs (workers must be 1)")
        if kwargs.get("executor", "local") != "local":  # the same, on a cluster
            raise ValueError(
                f"executor must be 'local' for synapse envs; got {kwargs['executor']!r}"
            )
        super().__init__(**kwargs)
        if not isinstance(self.task, LineageTask) or not isinstance(self.space, SynapseSpace):
            raise ValueError(
                "task must be a synapse-mask task (e.g. 'digits-ancestor', 'saliency-ancestor') "
                f"and space a mask space ('synapses', 'fcn-synapses') for a synapse env; got task "
                f"{self.task.name!r}, space {self.space.name!r}"
            )
        if self.space.shapes != self.task.space.shapes:
            raise ValueError(
                f"space_kwargs give masks of layers {list(self.space.shapes)}, but the task's "
                f"ancestor has layers {list(self.task.space.shapes)}; pass the same hidden widths"
            )
        self.ancestor_task: LineageTask = self.task
        self.synapse_space: SynapseSpace = self.space
        self._lineage: list[tuple[np.ndarray, int, Evaluation]] = []
        self.evaluations: dict[str, Evaluation] = {}

    def start_run(self, run_seed: int) -> None:
        super().start_run(run_seed)
        self._lineage = []

    def _init_for(self, genome: np.ndarray) -> dict[str, Any]:
        if self.inherit != "parent":
            return {"from": self.inherit}
        child = genome.astype(bool)
        best: tuple[int, Evaluation] | None = None
        for mask, count, evaluation in self._lineage:
            if count < int(child.sum()) or (child & ~mask).any():
                continue
            if best is None or count <= best[0]:  # the latest of equally close ancestors
                best = (count, evaluation)
        if best is None:
            return {"from": "ancestor"}
        parent = best[1]
        return {
            "from": "parent",
            "architecture": Architecture.from_dict(parent.architecture).hash,
            "seed": int(parent.seed),
            "epochs": int(parent.fidelity["epochs"]),
        }

    def request_for(self, genome: np.ndarray, fidelity: Mapping[str, int]) -> EvalRequest:
        """A mask's request: its parent is resolved from earlier evaluations of the run only."""
        architecture = self.synapse_space.with_init(
            self.space.decode(genome), self._init_for(genome)
        )
        return EvalRequest(architecture, self.candidate_seed(architecture.hash), fidelity, None)

    def on_evaluated(
        self, genome: np.ndarray, request: EvalRequest, evaluation: Evaluation
    ) -> None:
        """Remember the trained weights and extend the lineage that later offspring inherit from."""
        self.ancestor_task.remember(request.architecture)
        self.evaluations[evaluation.evaluation_id] = evaluation
        if evaluation.ok:
            self._lineage.append((genome.astype(bool), int(genome.sum()), evaluation))


class SynapseEnv(ProposalEnv):
    """A proposal env whose actions are synapse masks over a trained ancestor MLP.

    Args:
        inherit: where offspring start from: ``"parent"`` (default), ``"ancestor"`` or
            ``"scratch"``.
        **kwargs: those of :class:`envs.core.SearchCore`.
    """

    def __init__(self, inherit: str = "parent", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._core = SynapseCore(inherit=inherit, **kwargs)
        self.core = self._core
        self.action_space = self.core.space.action_space

    @property
    def search_space(self) -> SynapseSpace:
        """The ``synapses`` space (``masks(genome)``, ``flatten(masks)``, ``full()``)."""
        return self._core.synapse_space

    @property
    def cost_target(self) -> tuple[str, float]:
        """The reward's cost name and target, e.g. ``("synapses", 1760.0)``."""
        return self.core.reward.cost, float(self.core.reward.target)

    @property
    def score_range(self) -> tuple[float, float] | None:
        """``(worst, best)`` of the search-facing score (``info["objectives"]["score"]``), or
        ``None`` when the reward has none."""
        score_range = self.core.reward.score_range
        return None if score_range is None else (float(score_range[0]), float(score_range[1]))

    def ancestor_weights(self) -> list[Layer]:
        """The trained ancestor's ``(weight (out, in), bias)`` per layer, as numpy arrays."""
        return self._core.ancestor_task.ancestor_weights()

    def ancestor_metrics(self) -> dict[str, float]:
        """The ancestor's validation metrics (e.g. ``accuracy``; no test metrics)."""
        return self._core.ancestor_task.ancestor_metrics()

    def trained_weights(self, evaluation_id: str) -> list[Layer]:
        """The trained ``(weight, bias)`` per layer of an evaluation of this env, full layout.

        Removed synapses and dead neurons have weight 0.

        Raises:
            ValueError: when ``evaluation_id`` is not an evaluation of this env.
        """
        core = self._core
        evaluation = core.evaluations.get(evaluation_id) or core.evaluator.cache.get(evaluation_id)
        if evaluation is None:
            raise ValueError(f"evaluation_id {evaluation_id!r} is not an evaluation of this env")
        architecture = Architecture.from_dict(evaluation.architecture)
        return core.ancestor_task.trained_weights(
            architecture, evaluation.seed, evaluation.fidelity
        )


class SynapsePopulationEnv(PopulationEnv):
    """The population form of a synapse env: a generation of offspring masks per step.

    Made with ``gym.make_vec(id, num_envs=K, vectorization_mode="vector_entry_point")``. Each
    offspring's parent is resolved from the evaluations of earlier steps only, so a generation
    of offspring of one parent is one step; with ``task_kwargs={"batched": True}`` they train
    as one batched population (:mod:`darwin_bench.batched.masked`). Kwargs are those of
    :class:`SynapseCore`.
    """

    core_class = SynapseCore

    @property
    def search_space(self) -> SynapseSpace:
        """The ``synapses`` space (``masks(genome)``, ``flatten(masks)``, ``full()``)."""
        return self.core.synapse_space  # type: ignore[attr-defined]
