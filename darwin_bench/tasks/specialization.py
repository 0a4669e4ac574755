"""Specialization (seed 004): squeeze a trained base network, inherit its weights, refit the output.

:class:`SpecializationTask` wraps a target :class:`ClassificationTask`. It owns a *base*
network (conv blocks and/or hidden dense layers, trained once, deterministically, on a related
objective: a :class:`~darwin_bench.tasks.pretext.Pretext`, e.g. the object's position in a
scene, or a subset of the target's classes) and scores architectures of the ``squeeze`` space
(:class:`darwin_bench.spaces.squeeze.SqueezeSpace`) as follows:

1. **Squeeze with inherited weights** (:func:`squeeze_network`): every surviving unit (a conv
   layer or a hidden dense layer) keeps its highest-scoring filters or neurons (score of unit k
   = L2 norm of its incoming weights times L2 norm of its outgoing weights) with their trained
   weights and biases. When units between two survivors were removed, the next survivor reads
   the previous survivor's outputs through its own base weights if the layouts match (the
   removed units are treated as identities), and is re-initialized otherwise.
2. **Refit the output layer** (:func:`refit_output`): ridge least squares of one-hot targets on
   the penultimate features of the training data (closed form, deterministic).
3. **Fine-tune** the whole network for ``epochs`` epochs (the fidelity) with the target's
   trainer at ``finetune_lr``.

Every step is seeded from the evaluation's seed, so the same architecture and seed give the
same network. Metrics are those of the target task plus ``refit_accuracy`` (validation
accuracy after step 2, before fine-tuning).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from darwin_bench.architecture import Architecture
from darwin_bench.hashing import data_hash
from darwin_bench.models import build_model
from darwin_bench.seeding import torch_determinism
from darwin_bench.spaces.squeeze import conv_blocks, kept_units, squeezed_layers
from darwin_bench.tasks.base import Task, TaskResult
from darwin_bench.tasks.classification import ClassificationTask, classification_metrics
from darwin_bench.tasks.pretext import ClassSubsetPretext, Pretext
from darwin_bench.training import TrainConfig, evaluate_classifier, train_classifier

WeightLayer = nn.Conv2d | nn.Linear


def weight_layers(model: nn.Module) -> list[WeightLayer]:
    """The ``nn.Conv2d`` and ``nn.Linear`` layers of ``model``, in order."""
    return [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def _width(layer: WeightLayer) -> int:
    return layer.out_channels if isinstance(layer, nn.Conv2d) else layer.out_features


def _fan_in(layer: WeightLayer) -> int:
    return layer.in_channels if isinstance(layer, nn.Conv2d) else layer.in_features


def _spatial(layers: Sequence[WeightLayer], i: int) -> int:
    """Input positions per channel of layer ``i``: H*W for the dense layer after a flatten of
    conv features, else 1."""
    layer, before = layers[i], layers[i - 1] if i > 0 else None
    if isinstance(layer, nn.Linear) and isinstance(before, nn.Conv2d):
        return int(layer.in_features // before.out_channels)
    return 1


def unit_scores(base: nn.Module) -> list[torch.Tensor]:
    """Per hidden unit layer, each filter's or neuron's ``|incoming|_2 * |outgoing|_2``."""
    layers = weight_layers(base)
    scores = []
    for i in range(len(layers) - 1):
        incoming = layers[i].weight.detach().flatten(1).norm(dim=1)
        after = layers[i + 1].weight.detach()
        # Columns of the next layer that read unit k: its channel, or its H*W flattened positions.
        outgoing = after.reshape(after.shape[0], _width(layers[i]), -1).norm(dim=(0, 2))
        scores.append(incoming * outgoing)
    return scores


def squeeze_network(
    base: nn.Module, keep: Sequence[float], architecture: Architecture
) -> nn.Module:
    """Build ``architecture`` and copy the base's surviving weights into it.

    Args:
        base: the trained base network (unit layers, then the output linear).
        keep: per base unit layer, the fraction of filters or neurons that survives (0 removes
            it).
        architecture: the squeezed network (as the ``squeeze`` space decodes ``keep``).

    Returns:
        The squeezed network; its output layer is freshly initialized (see :func:`refit_output`).
        Call under :func:`~darwin_bench.seeding.torch_determinism` for reproducible inits.
    """
    base_layers = weight_layers(base)
    scores = unit_scores(base)
    model = build_model(architecture)
    new_layers = weight_layers(model)
    prev_index = torch.arange(_fan_in(base_layers[0]))  # the inputs survive whole
    prev_width = _fan_in(base_layers[0])  # width of the layer prev_index indexes into
    j = 0
    with torch.no_grad():
        for i, fraction in enumerate(keep):
            source = base_layers[i]
            units = kept_units(_width(source), fraction)
            if units == 0:
                continue
            index = torch.sort(torch.argsort(-scores[i], stable=True)[:units]).values
            spatial = _spatial(base_layers, i)
            if _fan_in(source) == prev_width * spatial:  # adjacent, or removed units of equal width
                columns = (prev_index[:, None] * spatial + torch.arange(spatial)).flatten()
                target = new_layers[j]
                assert source.bias is not None and target.bias is not None  # built with biases
                target.weight.copy_(source.weight[index][:, columns])
                target.bias.copy_(source.bias[index])
            prev_index, prev_width = index, _width(source)
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
    head = weight_layers(model)[-1]
    if not isinstance(head, nn.Linear):
        raise ValueError(f"the last weight layer must be nn.Linear; got {type(head).__name__}")
    with torch.no_grad():
        features = body(x).double()
        design = torch.cat([features, torch.ones(len(x), 1, dtype=torch.float64)], dim=1)
        targets = nn.functional.one_hot(y, num_classes).double()
        gram = design.T @ design + ridge * len(x) * torch.eye(design.shape[1], dtype=torch.float64)
        solution = torch.linalg.solve(gram, design.T @ targets)
        head.weight.copy_(solution[:-1].T.float())
        head.bias.copy_(solution[-1].float())


#: Default ``latency_ms`` targets of the specialized networks, by target task: the median ONNX
#: Runtime latency of random squeeze networks (``darwin-bench perf latency-targets``,
#: docs/costs.md); other target tasks keep their own.
LATENCY_TARGETS: dict[str, float] = {"digits": 0.005, "objects": 0.016}


class SpecializationTask(Task):
    """The target task, scored by squeezing a trained base network (see the module docstring).

    Args:
        target: the task the specialized networks are for.
        pretext: the related objective the base is trained on.
        base_conv: conv blocks of the base (``[{"filters", "kernel", "pool"}, ...]``, see
            :func:`darwin_bench.spaces.squeeze.conv_blocks`); empty for an MLP base.
        base_hidden: hidden dense widths of the base.
        activation: hidden activation of the base.
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
        pretext: Pretext,
        *,
        base_conv: Sequence[Mapping[str, Any]] = (),
        base_hidden: Sequence[int] = (256, 256, 256),
        activation: str = "relu",
        base_epochs: int = 30,
        base_seed: int = 0,
        ridge: float = 1e-3,
        finetune_lr: float = 1e-3,
        epochs: int = 3,
    ) -> None:
        self.target = target
        self.pretext = pretext
        self.name = f"{target.name}-specialize"
        self.base_conv = conv_blocks(base_conv)
        self.base_hidden = tuple(int(w) for w in base_hidden)
        self.activation = activation
        self.base_epochs = int(base_epochs)
        self.base_seed = int(base_seed)
        self.ridge = float(ridge)
        self.finetune = TrainConfig(**{**target.train_config.to_dict(), "lr": float(finetune_lr)})
        self.fidelities = {"epochs": int(epochs)}
        self.threads = target.threads
        self.default_targets = {**target.default_targets}
        if target.name in LATENCY_TARGETS:
            self.default_targets["latency_ms"] = LATENCY_TARGETS[target.name]
        self._base: nn.Module | None = None
        self._base_metrics: dict[str, float] = {}

    # ------------------------------------------------------------ task identity
    @property
    def input_shape(self) -> tuple[int, ...]:
        return self.target.input_shape

    @property
    def num_outputs(self) -> int:
        return self.target.num_outputs

    @property
    def data_hash(self) -> str:
        """Hash of the target's and the pretext's data together."""
        return data_hash(self.target.data_hash, self.pretext.data_hash)

    def config(self) -> dict[str, Any]:
        return {
            "target": self.target.config(),
            "pretext": self.pretext.config(),
            "base": self.base_architecture().to_dict(),
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
    def base_extra(self) -> dict[str, Any]:
        """What identifies this base in a squeezed architecture's ``extra``."""
        extra: dict[str, Any] = {"base_hidden": list(self.base_hidden)}
        if self.base_conv:
            extra["base_conv"] = [dict(b) for b in self.base_conv]
        return extra

    def base_architecture(self, num_outputs: int | None = None) -> Architecture:
        """The base network, with the pretext's head (or ``num_outputs`` outputs)."""
        outputs = self.pretext.num_outputs if num_outputs is None else num_outputs
        keep = [1.0] * (len(self.base_conv) + len(self.base_hidden))
        layers = squeezed_layers(
            self.input_shape, outputs, self.base_conv, self.base_hidden, self.activation, keep
        )
        space = "cnn-base" if self.base_conv else "mlp-base"
        return Architecture(space, self.input_shape, outputs, tuple(layers))

    def scaled_architecture(self, width: float) -> Architecture:
        """The base architecture with every unit scaled by ``width`` and the target's head: the
        family of networks trained from scratch to compare with."""
        keep = [width] * (len(self.base_conv) + len(self.base_hidden))
        layers = squeezed_layers(
            self.input_shape,
            self.num_outputs,
            self.base_conv,
            self.base_hidden,
            self.activation,
            keep,
        )
        return Architecture("scratch", self.input_shape, self.num_outputs, tuple(layers))

    def base_model(self) -> nn.Module:
        """The trained base network (trained on first use, then kept; deterministic)."""
        if self._base is None:
            with torch_determinism(self.base_seed, self.target.threads):
                model = build_model(self.base_architecture())
                self.pretext.train(
                    model,
                    epochs=self.base_epochs,
                    seed=self.base_seed,
                    config=self.target.train_config,
                )
                self._base_metrics = self.pretext.evaluate(model)
            model.eval()
            self._base = model
        return self._base

    def base_metrics(self) -> dict[str, float]:
        """The trained base's quality on its pretext's held-out data."""
        self.base_model()
        return dict(self._base_metrics)

    # -------------------------------------------------------------------- fit
    def prepare(self) -> None:
        """Train the base network (once)."""
        self.base_model()

    def _fit(
        self, architecture: Architecture, *, seed: int, fidelity: dict[str, int]
    ) -> TaskResult:
        for key, value in self.base_extra().items():
            if architecture.extra.get(key) != value:
                raise ValueError(
                    f"architecture was not squeezed from this base ({key} {value}); "
                    f"got {architecture.extra.get(key)!r}"
                )
        t = self.target
        model = squeeze_network(self.base_model(), architecture.extra["keep"], architecture)
        refit_output(model, t.x_train, t.y_train, t.num_outputs, self.ridge)
        refit_acc, _ = evaluate_classifier(model, t.x_val, t.y_val)
        history = train_classifier(
            model, t.x_train, t.y_train, epochs=fidelity["epochs"], seed=seed, config=self.finetune
        )
        metrics, test_metrics = classification_metrics(
            model, history, (t.x_val, t.y_val), (t.x_test, t.y_test)
        )
        metrics["refit_accuracy"] = refit_acc
        return TaskResult(metrics, model, test_metrics=test_metrics)


def digits_specialization(
    *, base_classes: Sequence[int] | None = None, **kwargs: Any
) -> SpecializationTask:
    """The Digits task scored by specializing a base MLP trained on ``base_classes`` (all when
    ``None``); other kwargs are :class:`SpecializationTask`'s.

    ``image`` is not supported (the base is an MLP over the 64 pixels).
    """
    from darwin_bench.tasks.digits import DigitsTask

    target = DigitsTask()
    return SpecializationTask(target, ClassSubsetPretext(target, base_classes), **kwargs)


def objects_specialization(
    *,
    pretext_scenes: int = 2000,
    target_kwargs: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> SpecializationTask:
    """The Objects task scored by specializing a base CNN trained to predict object position on
    ``pretext_scenes`` unlabelled scenes (seed 004's protocol).

    Args:
        pretext_scenes: scenes (with positions, without labels) the base is trained on.
        target_kwargs: arguments of :class:`~darwin_bench.tasks.objects.ObjectsTask`.
        **kwargs: arguments of :class:`SpecializationTask` (``base_conv``, ``base_hidden``,
            ...).
    """
    from darwin_bench.tasks.objects import ObjectsTask

    target = ObjectsTask(**dict(target_kwargs or {}))
    return SpecializationTask(target, target.pretext(pretext_scenes), **kwargs)
