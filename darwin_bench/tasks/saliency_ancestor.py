"""`SaliencyAncestorTask`: saliency FCNs that are kernel masks over one trained ancestor (seed 000).

The saliency counterpart of :class:`darwin_bench.tasks.ancestor.AncestorTask`, with the same
public helpers (``ancestor_weights``, ``ancestor_metrics``, ``trained_weights``, ``remember``),
so :class:`envs.synapses.SynapseEnv` and the ``evo-synthesis`` agent run on it unchanged.

- The ancestor is the chain FCN of :class:`~darwin_bench.spaces.fcn_synapses.FCNSynapseSpace`,
  trained once per process on the task's training split (deterministic, a few seconds).
- An offspring is a kernel mask plus ``extra["init"]``: start from the ancestor's trained
  weights, from an earlier offspring's trained weights (``{"from": "parent", ...}``), or from
  scratch; masked kernels are zero and stay zero (``torch.nn.utils.prune`` masks, which the
  cost counters read), then it is trained with the saliency trainer for ``epochs``.
- ``ancestor_weights`` / ``trained_weights`` give per convolution ``(strength, bias)`` with
  ``strength`` shaped ``(out_channels, in_channels)``: the L1 norm of each kernel, the
  magnitude the synaptic probability model of a kernel synapse is computed from.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.utils import prune

from darwin_bench.architecture import Architecture
from darwin_bench.hashing import content_hash
from darwin_bench.metrics import split_test_metrics
from darwin_bench.models.fcn import build_fcn
from darwin_bench.seeding import torch_determinism
from darwin_bench.spaces.fcn_synapses import FCNSynapseSpace, conv_layers
from darwin_bench.tasks.base import TaskResult
from darwin_bench.tasks.saliency import SaliencyTask
from darwin_bench.validation import check_choice, check_positive_int

#: Trained weight sets kept in memory per task (older ones are re-trained on demand).
KEEP_WEIGHTS = 256

State = list[tuple[np.ndarray, np.ndarray]]
"""Per convolution, its full ``weight`` (PyTorch layout) and ``bias``."""

_ANCESTORS: dict[str, tuple[State, dict[str, float]]] = {}


def _state(model: nn.Module) -> State:
    return [
        (c.weight.detach().numpy().copy(), c.bias.detach().numpy().copy())  # type: ignore[union-attr]
        for c in conv_layers(model)
    ]


def _strengths(state: State) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per convolution ``(L1 norm of each kernel as (out, in), bias)``."""
    out = []
    for weight, bias in state:
        norms = np.abs(weight).sum(axis=(2, 3))
        out.append((norms if weight.shape[0] == len(bias) else norms.T, bias.copy()))
    return out


def masked_fcn(architecture: Architecture, state: State, masks: Sequence[np.ndarray]) -> nn.Module:
    """Build the ancestor FCN, load ``state`` and fix the kernel ``masks`` (``(out, in)`` each)."""
    model = build_fcn(architecture)
    with torch.no_grad():
        for conv, (weight, bias), mask in zip(conv_layers(model), state, masks):
            m = torch.as_tensor(np.asarray(mask, dtype=np.float32))
            if isinstance(conv, nn.ConvTranspose2d):
                m = m.T  # its weight is (in, out, k, k)
            full = m[:, :, None, None].expand_as(conv.weight).contiguous()
            conv.weight.copy_(torch.as_tensor(weight))
            conv.bias.copy_(torch.as_tensor(bias))  # type: ignore[union-attr]
            prune.custom_from_mask(conv, "weight", full)
    return model


class SaliencyAncestorTask(SaliencyTask):
    """Saliency, scored on kernel masks over a trained ancestor FCN.

    Args:
        channels: the ancestor's encoder filters per stage.
        upsample: the ancestor's decoder upsampling (``"bilinear"`` or ``"transposed"``).
        ancestor_epochs: epochs the ancestor is trained for.
        ancestor_seed: the ancestor's initialization and minibatch seed.
        epochs: default training epochs of an offspring (the fidelity).
        **kwargs: those of :class:`~darwin_bench.tasks.saliency.SaliencyTask`.
    """

    def __init__(
        self,
        *,
        channels: Sequence[int] = (16, 32),
        upsample: str = "bilinear",
        ancestor_epochs: int = 12,
        ancestor_seed: int = 0,
        epochs: int = 2,
        **kwargs: Any,
    ) -> None:
        super().__init__(epochs=epochs, **kwargs)
        self.name = "saliency-ancestor"  # type: ignore[misc]
        self.space = FCNSynapseSpace(self.input_shape, 1, channels, upsample)
        self.ancestor_settings: dict[str, Any] = {
            "channels": list(self.space.hidden),
            "upsample": upsample,
            "epochs": check_positive_int("ancestor_epochs", ancestor_epochs),
            "seed": int(ancestor_seed),
        }
        weights = sum(o * i * k for (o, i), k in zip(self.space.shapes, self._kernel_sizes()))
        self.default_targets = {**self.default_targets, "synapses": weights / 48}
        self._weights: OrderedDict[str, State] = OrderedDict()
        self._architectures: dict[str, Architecture] = {}

    def _kernel_sizes(self) -> list[int]:
        model = build_fcn(self.space.ancestor)
        return [int(np.prod(c.kernel_size)) for c in conv_layers(model)]

    def config(self) -> dict[str, Any]:
        return {**super().config(), "ancestor": self.ancestor_settings}

    # ------------------------------------------------------------------ ancestor
    def _ancestor(self) -> tuple[State, dict[str, float]]:
        key = content_hash(
            {
                "data": self.data_hash,
                **self.ancestor_settings,
                "train": self.train_config.to_dict(),
                "threads": self.threads,
            }
        )
        if key not in _ANCESTORS:
            seed = self.ancestor_settings["seed"]
            with torch_determinism(seed, self.threads):
                model = build_fcn(self.space.ancestor)
                self.train(model, seed=seed, epochs=self.ancestor_settings["epochs"])
                metrics, test_metrics = self.evaluate(model)
            _ANCESTORS[key] = (_state(model), {**metrics, **test_metrics})
        return _ANCESTORS[key]

    def ancestor_weights(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """The trained ancestor's ``(kernel L1 norms (out, in), bias)`` per convolution."""
        return _strengths(self._ancestor()[0])

    def ancestor_metrics(self) -> dict[str, float]:
        """The trained ancestor's validation metrics (``f_beta``, ``mae``, ``val_loss``)."""
        return split_test_metrics(self._ancestor()[1])[0]

    def ancestor_test_metrics(self) -> dict[str, float]:
        """The trained ancestor's test metrics, for reports (never for the search)."""
        return split_test_metrics(self._ancestor()[1])[1]

    # ------------------------------------------------------------------ lineage
    def remember(self, architecture: Architecture) -> None:
        """Make ``architecture`` available as a parent of later offspring."""
        self._architectures[architecture.hash] = architecture

    def _key(self, architecture: Architecture, seed: int, epochs: int) -> str:
        return content_hash({"architecture": architecture.hash, "seed": seed, "epochs": epochs})

    def _trained_state(
        self, architecture: Architecture, seed: int, fidelity: Mapping[str, int]
    ) -> State:
        epochs = self.check_fidelity(fidelity)["epochs"]
        key = self._key(architecture, seed, epochs)
        if key not in self._weights:
            self.fit(architecture, seed=seed, fidelity={"epochs": epochs})
        self._weights.move_to_end(key)
        return self._weights[key]

    def trained_weights(
        self, architecture: Architecture, seed: int, fidelity: Mapping[str, int]
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """``(kernel L1 norms (out, in), bias)`` per convolution of one trained evaluation.

        Removed kernels have strength 0. Re-trains (deterministically) when not in memory.
        """
        return _strengths(self._trained_state(architecture, seed, fidelity))

    def _initial_state(self, architecture: Architecture, seed: int) -> State:
        init = dict(architecture.extra.get("init", {"from": "ancestor"}))
        source = check_choice("init.from", init.get("from"), ("ancestor", "parent", "scratch"))
        if source == "ancestor":
            return self._ancestor()[0]
        if source == "scratch":
            with torch_determinism(seed, self.threads):
                return _state(build_fcn(self.space.ancestor))
        parent = self._architectures.get(str(init.get("architecture")))
        if parent is None:
            raise ValueError(
                f"parent architecture {init.get('architecture')!r} is unknown to this task; "
                "remember() it first"
            )
        return self._trained_state(parent, int(init["seed"]), {"epochs": int(init["epochs"])})

    # ------------------------------------------------------------------ task API
    def build(self, architecture: Architecture) -> nn.Module:
        """The masked ancestor (untrained offspring)."""
        masks = self.space.masks(self.space.encode(architecture))
        return masked_fcn(self.space.ancestor, self._ancestor()[0], masks)

    def fit(
        self, architecture: Architecture, *, seed: int, fidelity: Mapping[str, int]
    ) -> TaskResult:
        epochs = self.check_fidelity(fidelity)["epochs"]
        masks = self.space.masks(self.space.encode(architecture))
        self.remember(architecture)
        initial = self._initial_state(architecture, seed)
        start = time.perf_counter()
        with torch_determinism(seed, self.threads):
            model = masked_fcn(self.space.ancestor, initial, masks)
            history = self.train(model, seed=seed, epochs=epochs)
            metrics, test_metrics = self.evaluate(model)
        self._weights[self._key(architecture, seed, epochs)] = _state(model)
        while len(self._weights) > KEEP_WEIGHTS:
            self._weights.popitem(last=False)
        metrics["train_loss"] = history[-1]
        metrics["mask_synapses"] = float(sum(int(m.sum()) for m in masks))
        seconds = time.perf_counter() - start
        return TaskResult(metrics, model, seconds, {"epochs": epochs}, test_metrics)

    def __getstate__(self) -> dict[str, Any]:
        """Pickles (for worker processes) leave the trained weights behind."""
        state = dict(self.__dict__)
        state["_weights"] = OrderedDict()
        return state
