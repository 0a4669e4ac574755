"""`LineageTask`: tasks whose networks are masks over one trained ancestor (seed 000).

The lineage logic of every synapse-mask task lives here once; a concrete task (the MLP
:class:`~darwin_bench.tasks.ancestor.AncestorTask`, the saliency
:class:`~darwin_bench.tasks.saliency_ancestor.SaliencyAncestorTask`) only says how to train its
ancestor, how to train one offspring from starting weights, and what the synaptic strengths of
a weight set are.

- **The ancestor** is trained once per process and kept in one module-level cache, keyed by
  the content hash of everything it depends on (data hash, ancestor settings, trainer settings,
  threads); nothing is written to disk.
- **Where an offspring starts** (``architecture.extra["init"]``):
  ``{"from": "ancestor"}``, the ancestor's trained weights; ``{"from": "parent",
  "architecture": HASH, "seed": S, "epochs": E}``, the trained weights of an earlier evaluation
  (its architecture must have been :meth:`~LineageTask.remember`-ed); ``{"from": "scratch"}``,
  a fresh initialization from the offspring's seed. The mask is applied in every case.
- **Trained weights** of evaluations are kept in memory (the :data:`KEEP_WEIGHTS` most recently
  used); one that was dropped, or trained in another process, is re-trained deterministically
  on demand. Pickles (for worker processes) leave them behind.
"""

from __future__ import annotations

from abc import abstractmethod
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from darwin_bench.architecture import Architecture
from darwin_bench.hashing import content_hash
from darwin_bench.metrics import split_test_metrics
from darwin_bench.models.masked import Layer
from darwin_bench.seeding import torch_determinism
from darwin_bench.spaces.synapses import SynapseSpace
from darwin_bench.tasks.base import FitRequest, Task, TaskResult
from darwin_bench.validation import check_choice

#: Trained weight sets kept in memory per task (older ones are re-trained on demand).
KEEP_WEIGHTS = 256

#: Where an offspring's starting weights may come from.
INIT_SOURCES: tuple[str, ...] = ("ancestor", "parent", "scratch")

#: Trained ancestors of this process: content hash of their settings -> (state, metrics).
_ANCESTORS: dict[str, tuple[Any, dict[str, float]]] = {}


class LineageTask(Task):
    """A task scored on masks over a trained ancestor; subclasses define the hooks below.

    Attributes:
        space: the synapse-mask space over the ancestor.
        ancestor_settings: everything besides the data and threads the ancestor depends on
            (JSON, trainer settings included); its cache key and part of :meth:`config`.
    """

    space: SynapseSpace
    ancestor_settings: dict[str, Any]
    threads: int

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._states: OrderedDict[str, Any] = OrderedDict()
        self._architectures: dict[str, Architecture] = {}

    # ---------------------------------------------------------------- the hooks
    @abstractmethod
    def _train_ancestor(self) -> tuple[Any, dict[str, float]]:
        """Train the ancestor (under a fixed seed); return its state and its validation and
        test metrics in one mapping (test keys start with ``test_``)."""

    @abstractmethod
    def _fresh_state(self) -> Any:
        """A freshly initialized state, from torch's global generator (seeded by the caller)."""

    @abstractmethod
    def _strengths(self, state: Any) -> list[Layer]:
        """Per layer, the ``(|strength| (out, in), bias)`` the synaptic model is computed from."""

    @abstractmethod
    def _train_offspring(
        self, architecture: Architecture, initial: Any, *, seed: int, epochs: int
    ) -> tuple[TaskResult, Any]:
        """Apply the mask to ``initial``, train, evaluate; return the result and trained state
        (in the ancestor's layout). Runs inside :meth:`Task.fit`'s clock and determinism
        context (the template), like any training body.

        Raises:
            EmptyLayerError: when the mask leaves a hidden layer without a live neuron.
        """

    # ----------------------------------------------------------------- ancestor
    def _ancestor(self) -> tuple[Any, dict[str, float]]:
        key = content_hash(
            {
                "task": self.name,
                "data": self.data_hash,
                "ancestor": self.ancestor_settings,
                "threads": self.threads,
            }
        )
        if key not in _ANCESTORS:
            _ANCESTORS[key] = self._train_ancestor()
        return _ANCESTORS[key]

    def ancestor_weights(self) -> list[Layer]:
        """The trained ancestor's ``(strength (out, in), bias)`` per layer (copies)."""
        return self._strengths(self._ancestor()[0])

    def ancestor_metrics(self) -> dict[str, float]:
        """The trained ancestor's validation metrics (what a search may see)."""
        return split_test_metrics(self._ancestor()[1])[0]

    def ancestor_test_metrics(self) -> dict[str, float]:
        """The trained ancestor's test metrics, for reports (never for the search)."""
        return split_test_metrics(self._ancestor()[1])[1]

    # ------------------------------------------------------------------ lineage
    def remember(self, architecture: Architecture) -> None:
        """Make ``architecture`` available as a parent of later offspring."""
        self._architectures[architecture.hash] = architecture

    @staticmethod
    def _key(architecture: Architecture, seed: int, epochs: int) -> str:
        return content_hash({"architecture": architecture.hash, "seed": seed, "epochs": epochs})

    def _trained_state(self, architecture: Architecture, seed: int, epochs: int) -> Any:
        key = self._key(architecture, seed, epochs)
        if key not in self._states:
            self.fit(architecture, seed=seed, fidelity={"epochs": epochs})
        self._states.move_to_end(key)
        return self._states[key]

    def trained_weights(
        self, architecture: Architecture, seed: int, fidelity: Mapping[str, int]
    ) -> list[Layer]:
        """``(strength (out, in), bias)`` per layer of one trained evaluation, full layout.

        Removed synapses and dead neurons have strength 0. Re-trains (deterministically) when
        the weights are not in memory.
        """
        epochs = self.check_fidelity(fidelity)["epochs"]
        return self._strengths(self._trained_state(architecture, seed, epochs))

    def _initial_state(self, architecture: Architecture, seed: int) -> Any:
        init = dict(architecture.extra.get("init", {"from": "ancestor"}))
        source = check_choice("init.from", init.get("from"), INIT_SOURCES)
        if source == "ancestor":
            return self._ancestor()[0]
        if source == "scratch":
            with torch_determinism(seed, self.threads):
                return self._fresh_state()
        parent = self._architectures.get(str(init.get("architecture")))
        if parent is None:
            raise ValueError(
                f"parent architecture {init.get('architecture')!r} is unknown to this task; "
                "remember() it first"
            )
        return self._trained_state(parent, int(init["seed"]), int(init["epochs"]))

    # ----------------------------------------------------------------- task API
    def prepare(self) -> None:
        """Train the ancestor (once per process; not counted in any ``train_seconds``)."""
        self._ancestor()

    def _fit(
        self, architecture: Architecture, *, seed: int, fidelity: dict[str, int]
    ) -> TaskResult:
        """Train one offspring from its starting weights (see the module docstring).

        Raises:
            EmptyLayerError: when its mask empties a hidden layer (a failed evaluation).
            TrainingDiverged: when training produces a non-finite loss.
        """
        outcome = self._offspring([(architecture, seed, fidelity)])[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def fit_batch(self, requests: Sequence[FitRequest]) -> list[TaskResult | Exception]:
        """Train several offspring through :meth:`_train_offspring_batch` (a batched task
        trains them together; see :meth:`batch_key`)."""
        self.prepare()
        return self._offspring([(a, s, self.check_fidelity(f)) for a, s, f in requests])

    def _offspring(
        self, requests: Sequence[tuple[Architecture, int, dict[str, int]]]
    ) -> list[TaskResult | Exception]:
        """Resolve each offspring's starting weights (from earlier evaluations only), train them
        with :meth:`_train_offspring_batch`, keep their trained weights."""
        out: list[TaskResult | Exception] = []
        items: list[tuple[int, Architecture, Any, int, int]] = []
        for k, (architecture, seed, fidelity) in enumerate(requests):
            try:
                self.remember(architecture)
                initial = self._initial_state(architecture, seed)
            except Exception as exc:  # one failed offspring does not fail the others
                out.append(exc)
                continue
            out.append(ValueError("not trained"))  # replaced below
            items.append((k, architecture, initial, seed, fidelity["epochs"]))
        trained = self._train_offspring_batch([item[1:] for item in items])
        for (k, architecture, _, seed, epochs), outcome in zip(items, trained, strict=True):
            if isinstance(outcome, Exception):
                out[k] = outcome
                continue
            result, state = outcome
            self._states[self._key(architecture, seed, epochs)] = state
            while len(self._states) > KEEP_WEIGHTS:
                self._states.popitem(last=False)
            masks = self.space.masks(self.space.encode(architecture))
            result.metrics["mask_synapses"] = float(sum(int(m.sum()) for m in masks))
            out[k] = result
        return out

    def _train_offspring_batch(
        self, items: Sequence[tuple[Architecture, Any, int, int]]
    ) -> list[tuple[TaskResult, Any] | Exception]:
        """Train ``(architecture, starting state, seed, epochs)`` items; the default trains them
        one by one with :meth:`_train_offspring`, each under its own seed (as :meth:`fit`)."""
        out: list[tuple[TaskResult, Any] | Exception] = []
        for architecture, initial, seed, epochs in items:
            try:
                with torch_determinism(seed, self.threads):
                    out.append(
                        self._train_offspring(architecture, initial, seed=seed, epochs=epochs)
                    )
            except Exception as exc:  # one failed offspring does not fail the others
                out.append(exc)
        return out

    def __getstate__(self) -> dict[str, Any]:
        """Pickles (for worker processes) leave the trained weights behind."""
        state = dict(self.__dict__)
        state["_states"] = OrderedDict()
        return state
