"""Specialization (seed 004): squeeze a trained base MLP, inherit its weights, refit the output.

:class:`SpecializationTask` wraps a target :class:`ClassificationTask`. It owns a *base*
network (an MLP trained once, deterministically, on a related objective: the target's
training data restricted to ``base_classes``, or all of it) and scores architectures of the
``squeeze`` space (:class:`darwin_bench.spaces.squeeze.SqueezeSpace`) as follows:

1. **Squeeze with inherited weights** (:func:`squeeze_mlp`): every surviving hidden layer keeps
   its highest-scoring neurons (score of neuron k = L2 norm of its incoming weights times L2
   norm of its outgoing weights) with their trained weights and biases. When layers between two
   survivors were removed, the next survivor reads the previous survivor's outputs through its
   own base weights if the widths match (the removed layers are treated as identities), and is
   re-initialized otherwise.
2. **Refit the output layer** (:func:`refit_output`): ridge least squares of one-hot targets on
   the penultimate features of the training data (closed form, deterministic).
3. **Fine-tune** the whole network for ``epochs`` epochs (the fidelity) with the target's
   trainer.

Every step is seeded from the evaluation's seed, so the same architecture and seed give the
same network. Metrics are those of the target task plus ``refit_accuracy`` (validation
accuracy after step 2, before fine-tuning).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from darwin_bench.architecture import Architecture
from darwin_bench.models import build_model
from darwin_bench.seeding import torch_determinism
from darwin_bench.spaces.squeeze import kept_units
from darwin_bench.tasks.base import Task, TaskResult
from darwin_bench.tasks.classification import ClassificationTask, classification_metrics
from darwin_bench.training import TrainConfig, evaluate_classifier, train_classifier


def linear_layers(model: nn.Module) -> list[nn.Linear]:
    """The ``nn.Linear`` layers of ``model``, in order."""
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def neuron_scores(base: nn.Module) -> list[torch.Tensor]:
    """Per hidden layer, each neuron's importance: ``|incoming|_2 * |outgoing|_2``."""
    linears = linear_layers(base)
    return [
        linears[i].weight.detach().norm(dim=1) * linears[i + 1].weight.detach().norm(dim=0)
        for i in range(len(linears) - 1)
    ]


def squeeze_mlp(base: nn.Module, keep: Sequence[float], architecture: Architecture) -> nn.Module:
    """Build ``architecture`` and copy the base's surviving weights into it.

    Args:
        base: the trained base MLP (hidden linears + output linear).
        keep: per base hidden layer, the fraction of neurons that survives (0 removes it).
        architecture: the squeezed network (as the ``squeeze`` space decodes ``keep``).

    Returns:
        The squeezed network; its output layer is freshly initialized (see :func:`refit_output`).
        Call under :func:`~darwin_bench.seeding.torch_determinism` for reproducible inits.
    """
    base_linears = linear_layers(base)
    scores = neuron_scores(base)
    model = build_model(architecture)
    new_linears = linear_layers(model)
    prev_index = torch.arange(base_linears[0].in_features)  # the inputs survive whole
    prev_width = base_linears[0].in_features  # width of the layer prev_index indexes into
    j = 0
    with torch.no_grad():
        for i, fraction in enumerate(keep):
            units = kept_units(base_linears[i].out_features, fraction)
            if units == 0:
                continue
            order = torch.argsort(-scores[i], stable=True)[:units]
            index = torch.sort(order).values
            source, target = base_linears[i], new_linears[j]
            if source.in_features == prev_width:  # adjacent, or removed layers of equal width
                target.weight.copy_(source.weight[index][:, prev_index])
                target.bias.copy_(source.bias[index])
            prev_index, prev_width = index, source.out_features
            j += 1
    return model


def refit_output(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, num_classes: int, ridge: float
) -> None:
    """Set the last linear layer to the ridge least-squares fit of one-hot ``y`` on features.

    ``model`` is a sequential stack whose last module is the output ``nn.Linear``.
    """
    model.eval()
    body = nn.Sequential(*list(model.children())[:-1])
    head = linear_layers(model)[-1]
    with torch.no_grad():
        features = body(x).double()
        design = torch.cat([features, torch.ones(len(x), 1, dtype=torch.float64)], dim=1)
        targets = nn.functional.one_hot(y, num_classes).double()
        gram = design.T @ design + ridge * len(x) * torch.eye(design.shape[1], dtype=torch.float64)
        solution = torch.linalg.solve(gram, design.T @ targets)
        head.weight.copy_(solution[:-1].T.float())
        head.bias.copy_(solution[-1].float())


class SpecializationTask(Task):
    """The target task, scored by squeezing a trained base network (see the module docstring).

    Args:
        target: the task the specialized networks are for.
        base_hidden: hidden widths of the base MLP.
        activation: hidden activation of the base MLP.
        base_classes: classes the base is trained on (its related objective); ``None`` = all.
        base_epochs: training epochs of the base.
        base_seed: seed of the base's training.
        ridge: ridge penalty of the output refit (times the number of examples).
        finetune_lr: learning rate of the fine-tuning (the target trainer's other settings).
        epochs: default fine-tuning epochs (the fidelity).
    """

    metric = "accuracy"
    higher_is_better = True

    def __init__(
        self,
        target: ClassificationTask,
        *,
        base_hidden: Sequence[int] = (256, 256, 256),
        activation: str = "relu",
        base_classes: Sequence[int] | None = None,
        base_epochs: int = 30,
        base_seed: int = 0,
        ridge: float = 1e-3,
        finetune_lr: float = 1e-3,
        epochs: int = 3,
    ) -> None:
        self.target = target
        self.name = f"{target.name}-specialize"  # type: ignore[misc]
        self.base_hidden = tuple(int(w) for w in base_hidden)
        self.activation = activation
        classes = range(target.num_outputs) if base_classes is None else base_classes
        self.base_classes = tuple(sorted(int(c) for c in classes))
        if not self.base_classes or not set(self.base_classes) <= set(range(target.num_outputs)):
            raise ValueError(
                f"base_classes must be a non-empty subset of 0..{target.num_outputs - 1}; "
                f"got {base_classes!r}"
            )
        self.base_epochs = int(base_epochs)
        self.base_seed = int(base_seed)
        self.ridge = float(ridge)
        self.finetune = TrainConfig(**{**target.train_config.to_dict(), "lr": float(finetune_lr)})
        self.fidelities = {"epochs": int(epochs)}
        self.default_targets = dict(target.default_targets)
        self._base: nn.Sequential | None = None

    # ------------------------------------------------------------ task identity
    @property
    def input_shape(self) -> tuple[int, ...]:
        return self.target.input_shape

    @property
    def num_outputs(self) -> int:
        return self.target.num_outputs

    @property
    def data_hash(self) -> str:
        return self.target.data_hash

    def config(self) -> dict[str, Any]:
        return {
            "target": self.target.config(),
            "base": self.base_architecture().to_dict(),
            "base_classes": list(self.base_classes),
            "base_epochs": self.base_epochs,
            "base_seed": self.base_seed,
            "ridge": self.ridge,
            "finetune": self.finetune.to_dict(),
        }

    def build(self, architecture: Architecture) -> nn.Module:
        return build_model(architecture)

    def example_input(self, batch_size: int = 1) -> torch.Tensor:
        return self.target.example_input(batch_size)

    # ------------------------------------------------------------------- base
    def base_architecture(self) -> Architecture:
        """The base MLP: ``base_hidden`` layers and one output per base class."""
        layers: list[dict[str, Any]] = []
        if len(self.input_shape) > 1:
            layers.append({"type": "flatten"})
        layers += [
            {"type": "dense", "units": w, "activation": self.activation} for w in self.base_hidden
        ]
        layers.append({"type": "dense", "units": len(self.base_classes), "activation": None})
        return Architecture("mlp-base", self.input_shape, len(self.base_classes), tuple(layers))

    def base_model(self) -> nn.Sequential:
        """The trained base network (trained on first use, then kept; deterministic)."""
        if self._base is None:
            t = self.target
            chosen = torch.isin(t.y_train, torch.tensor(self.base_classes))
            remap = torch.full((t.num_outputs,), -1, dtype=torch.int64)
            remap[list(self.base_classes)] = torch.arange(len(self.base_classes))
            with torch_determinism(self.base_seed, t.threads):
                model = build_model(self.base_architecture())
                train_classifier(
                    model,
                    t.x_train[chosen],
                    remap[t.y_train[chosen]],
                    epochs=self.base_epochs,
                    seed=self.base_seed,
                    config=t.train_config,
                )
            model.eval()
            self._base = model  # type: ignore[assignment]
        assert self._base is not None
        return self._base

    # -------------------------------------------------------------------- fit
    def fit(
        self, architecture: Architecture, *, seed: int, fidelity: Mapping[str, int]
    ) -> TaskResult:
        epochs = self.check_fidelity(fidelity)["epochs"]
        if list(architecture.extra.get("base_hidden", [])) != list(self.base_hidden):
            raise ValueError(
                f"architecture was not squeezed from this base ({list(self.base_hidden)}); "
                f"got base_hidden {architecture.extra.get('base_hidden')!r}"
            )
        base = self.base_model()
        t = self.target
        start = time.perf_counter()
        with torch_determinism(seed, t.threads):
            model = squeeze_mlp(base, architecture.extra["keep"], architecture)
            refit_output(model, t.x_train, t.y_train, t.num_outputs, self.ridge)
            refit_acc, _ = evaluate_classifier(model, t.x_val, t.y_val)
            history = train_classifier(
                model, t.x_train, t.y_train, epochs=epochs, seed=seed, config=self.finetune
            )
            metrics, test_metrics = classification_metrics(
                model, history, (t.x_val, t.y_val), (t.x_test, t.y_test)
            )
        metrics["refit_accuracy"] = refit_acc
        seconds = time.perf_counter() - start
        return TaskResult(metrics, model, seconds, {"epochs": epochs}, test_metrics)


def digits_specialization(**kwargs: Any) -> SpecializationTask:
    """The Digits task scored by specializing a base MLP (kwargs of :class:`SpecializationTask`).

    ``image`` is not supported (the base is an MLP over the 64 pixels).
    """
    from darwin_bench.tasks.digits import DigitsTask

    return SpecializationTask(DigitsTask(), **kwargs)
