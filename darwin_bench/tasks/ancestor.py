"""`AncestorTask`: Digits networks that are masks over one trained ancestor MLP (seed 000).

The ancestor is an MLP (default 64-256-256-10, 84,480 synapses) trained to convergence on the
Digits training split with a fixed seed. It is trained once per process and kept in memory
(a few seconds on one core); nothing is written to disk.

An offspring is a ``synapses``-space architecture: a mask over the ancestor's synapses plus
``extra["init"]``, where its starting weights come from:

- ``{"from": "ancestor"}``: the ancestor's trained weights, masked;
- ``{"from": "parent", "architecture": HASH, "seed": S, "epochs": E}``: the trained weights of
  an earlier offspring (its architecture must be :meth:`AncestorTask.remember`-ed), masked;
- ``{"from": "scratch"}``: a fresh PyTorch initialization from the offspring's seed, masked.

Before training, dead hidden neurons are removed exactly
(:func:`darwin_bench.models.masked.compact`); the compact network is trained with Adam and a
cosine learning-rate schedule, and it is what the evaluator costs and times. Trained weights
are kept (least recently used first out) so that :meth:`AncestorTask.trained_weights` can hand
them to agents; a weight set that was dropped, or trained in another process, is re-trained
deterministically on demand.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from darwin_bench.architecture import Architecture
from darwin_bench.hashing import content_hash
from darwin_bench.metrics import split_test_metrics
from darwin_bench.models.masked import Layer, MaskedMLP, compact, expand
from darwin_bench.seeding import torch_determinism
from darwin_bench.spaces.synapses import DEFAULT_HIDDEN, SynapseSpace
from darwin_bench.tasks.base import TaskResult, TrainingDiverged
from darwin_bench.tasks.digits import DigitsTask
from darwin_bench.training import evaluate_classifier
from darwin_bench.validation import check_choice, check_positive_float, check_positive_int

#: Weight sets kept in memory per task (older ones are re-trained on demand).
KEEP_WEIGHTS = 256

_ANCESTORS: dict[str, tuple[list[Layer], dict[str, float]]] = {}


def train_masked(
    model: MaskedMLP,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int,
    seed: int,
    lr: float,
    batch_size: int,
    schedule: str = "cosine",
) -> float:
    """Train with cross-entropy and Adam; return the last epoch's mean training loss.

    ``schedule="cosine"`` anneals the learning rate from ``lr`` to 0 over all steps;
    ``"constant"`` keeps it. The minibatch order comes from a generator seeded with ``seed``.

    Raises:
        TrainingDiverged: when the loss becomes NaN or infinite.
    """
    check_choice("schedule", schedule, ("cosine", "constant"))
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    n = x.shape[0]
    steps = epochs * math.ceil(n / batch_size)
    step, last = 0, float("nan")
    model.train()
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator)
        total = 0.0
        for start in range(0, n, batch_size):
            if schedule == "cosine":
                for group in optimizer.param_groups:
                    group["lr"] = lr * 0.5 * (1.0 + math.cos(math.pi * step / steps))
            idx = order[start : start + batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            value = float(loss.detach())
            if not math.isfinite(value):
                raise TrainingDiverged(f"loss became {value}")
            loss.backward()
            optimizer.step()
            total += value * idx.numel()
            step += 1
        last = total / n
    return last


class AncestorTask(DigitsTask):
    """Digits, scored on masks over a trained ancestor MLP.

    Args:
        hidden: the ancestor's hidden widths.
        ancestor_epochs: epochs the ancestor is trained for (Adam, constant ``ancestor_lr``).
        ancestor_lr: the ancestor's learning rate.
        ancestor_seed: the ancestor's initialization and minibatch seed.
        epochs: default training epochs of an offspring (the fidelity).
        lr: an offspring's peak learning rate (cosine schedule).
        batch_size: minibatch size.
    """

    def __init__(
        self,
        *,
        hidden: Sequence[int] = DEFAULT_HIDDEN,
        ancestor_epochs: int = 100,
        ancestor_lr: float = 1e-3,
        ancestor_seed: int = 0,
        epochs: int = 60,
        lr: float = 3e-3,
        batch_size: int = 64,
        **kwargs: Any,
    ) -> None:
        super().__init__(epochs=epochs, lr=lr, batch_size=batch_size, **kwargs)
        self.name = "digits-ancestor"  # type: ignore[misc]
        self.space = SynapseSpace(self.input_shape, self.num_outputs, hidden)
        self.ancestor_settings: dict[str, Any] = {
            "hidden": list(self.space.hidden),
            "epochs": check_positive_int("ancestor_epochs", ancestor_epochs),
            "lr": check_positive_float("ancestor_lr", ancestor_lr),
            "seed": int(ancestor_seed),
            "batch_size": int(batch_size),
        }
        total = self.space.size
        self.default_targets = {**self.default_targets, "synapses": total / 48}
        self._weights: OrderedDict[str, list[Layer]] = OrderedDict()
        self._architectures: dict[str, Architecture] = {}

    # ------------------------------------------------------------------ ancestor
    def config(self) -> dict[str, Any]:
        return {**super().config(), "ancestor": self.ancestor_settings, "schedule": "cosine"}

    def _ancestor(self) -> tuple[list[Layer], dict[str, float]]:
        key = content_hash(
            {"data": self.data_hash, **self.ancestor_settings, "threads": self.threads}
        )
        if key not in _ANCESTORS:
            settings = self.ancestor_settings
            with torch_determinism(settings["seed"], self.threads):
                model = MaskedMLP(self._fresh_layers(), self._full_masks())
                train_masked(
                    model,
                    self.x_train,
                    self.y_train,
                    epochs=settings["epochs"],
                    seed=settings["seed"],
                    lr=settings["lr"],
                    batch_size=settings["batch_size"],
                    schedule="constant",
                )
                val_acc, _ = evaluate_classifier(model, self.x_val, self.y_val)
                test_acc, _ = evaluate_classifier(model, self.x_test, self.y_test)
            _ANCESTORS[key] = (model.layers(), {"accuracy": val_acc, "test_accuracy": test_acc})
        return _ANCESTORS[key]

    def ancestor_weights(self) -> list[Layer]:
        """The trained ancestor's ``(weight, bias)`` per layer (copies)."""
        return [(w.copy(), b.copy()) for w, b in self._ancestor()[0]]

    def ancestor_metrics(self) -> dict[str, float]:
        """The trained ancestor's validation ``accuracy``."""
        return split_test_metrics(self._ancestor()[1])[0]

    def ancestor_test_metrics(self) -> dict[str, float]:
        """The trained ancestor's ``test_accuracy``, for reports (never for the search)."""
        return split_test_metrics(self._ancestor()[1])[1]

    def _full_masks(self) -> list[np.ndarray]:
        return [np.ones(s, dtype=bool) for s in self.space.shapes]

    def _fresh_layers(self) -> list[Layer]:
        """PyTorch's default ``nn.Linear`` initialization (under the caller's seed)."""
        out = []
        for rows, cols in self.space.shapes:
            linear = nn.Linear(cols, rows)
            out.append((linear.weight.detach().numpy().copy(), linear.bias.detach().numpy().copy()))
        return out

    # ------------------------------------------------------------------ lineage
    def remember(self, architecture: Architecture) -> None:
        """Make ``architecture`` available as a parent of later offspring."""
        self._architectures[architecture.hash] = architecture

    def _key(self, architecture: Architecture, seed: int, epochs: int) -> str:
        return content_hash({"architecture": architecture.hash, "seed": seed, "epochs": epochs})

    def trained_weights(
        self, architecture: Architecture, seed: int, fidelity: Mapping[str, int]
    ) -> list[Layer]:
        """The trained ``(weight, bias)`` per layer of one evaluation, in the full layout.

        Removed synapses and dead neurons have weight 0. Re-trains (deterministically) when the
        weights are not in memory.
        """
        epochs = self.check_fidelity(fidelity)["epochs"]
        key = self._key(architecture, seed, epochs)
        if key not in self._weights:
            self.fit(architecture, seed=seed, fidelity={"epochs": epochs})
        self._weights.move_to_end(key)
        return [(w.copy(), b.copy()) for w, b in self._weights[key]]

    def _initial_layers(self, architecture: Architecture, seed: int) -> list[Layer]:
        init = dict(architecture.extra.get("init", {"from": "ancestor"}))
        source = check_choice("init.from", init.get("from"), ("ancestor", "parent", "scratch"))
        if source == "ancestor":
            return self.ancestor_weights()
        if source == "scratch":
            with torch_determinism(seed, self.threads):
                return self._fresh_layers()
        parent = self._architectures.get(str(init.get("architecture")))
        if parent is None:
            raise ValueError(
                f"parent architecture {init.get('architecture')!r} is unknown to this task; "
                "remember() it first"
            )
        return self.trained_weights(parent, int(init["seed"]), {"epochs": int(init["epochs"])})

    # ------------------------------------------------------------------ task API
    def build(self, architecture: Architecture) -> nn.Module:
        """The compact masked network with the ancestor's weights (untrained offspring)."""
        masks = self.space.masks(self.space.encode(architecture))
        layers, small_masks, _ = compact(self.ancestor_weights(), masks)
        return MaskedMLP(layers, small_masks)

    def fit(
        self, architecture: Architecture, *, seed: int, fidelity: Mapping[str, int]
    ) -> TaskResult:
        epochs = self.check_fidelity(fidelity)["epochs"]
        start = time.perf_counter()
        masks = self.space.masks(self.space.encode(architecture))
        self.remember(architecture)
        layers, small_masks, kept = compact(self._initial_layers(architecture, seed), masks)
        with torch_determinism(seed, self.threads):
            model = MaskedMLP(layers, small_masks)
            train_loss = train_masked(
                model,
                self.x_train,
                self.y_train,
                epochs=epochs,
                seed=seed,
                lr=self.train_config.lr,
                batch_size=self.train_config.batch_size,
            )
            val_acc, val_loss = evaluate_classifier(model, self.x_val, self.y_val)
            test_acc, test_loss = evaluate_classifier(model, self.x_test, self.y_test)
        if not np.isfinite(val_loss):
            raise TrainingDiverged(f"validation loss is {val_loss}")
        self._weights[self._key(architecture, seed, epochs)] = expand(
            model.layers(), kept, self.space.shapes
        )
        while len(self._weights) > KEEP_WEIGHTS:
            self._weights.popitem(last=False)
        metrics = {
            "accuracy": val_acc,
            "val_loss": val_loss,
            "train_loss": train_loss,
            "clusters": float(sum(len(k) for k in kept)),
            "mask_synapses": float(sum(int(m.sum()) for m in masks)),
        }
        test_metrics = {"test_accuracy": test_acc, "test_loss": test_loss}
        seconds = time.perf_counter() - start
        return TaskResult(metrics, model, seconds, {"epochs": epochs}, test_metrics)

    def __getstate__(self) -> dict[str, Any]:
        """Pickles (for worker processes) leave the trained weights behind."""
        state = dict(self.__dict__)
        state["_weights"] = OrderedDict()
        return state
