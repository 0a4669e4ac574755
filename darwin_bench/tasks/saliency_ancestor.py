"""`SaliencyAncestorTask`: saliency FCNs that are kernel masks over one trained ancestor (seed 000).

The saliency counterpart of :class:`darwin_bench.tasks.ancestor.AncestorTask`: the same lineage
(:mod:`darwin_bench.tasks.lineage`) and public helpers, so :class:`envs.synapses.SynapseEnv`
and the ``evo-synthesis`` agent run on it unchanged.

- The ancestor is the chain FCN of :class:`~darwin_bench.spaces.fcn_synapses.FCNSynapseSpace`,
  trained once per process on the task's training split (deterministic, a few seconds).
- An offspring is a kernel mask plus ``extra["init"]``. Dead channels (no incoming or no
  outgoing kernel) are removed and the *smaller* FCN is built
  (:func:`~darwin_bench.models.masked_fcn.masked_fcn`), so removing channels lowers ``params``
  and ``flops`` as well as ``synapses``; its remaining masked kernels are zero and stay zero
  (``torch.nn.utils.prune`` masks, which the cost counters read). It is trained with the
  saliency trainer for ``epochs``. A mask that empties a hidden convolution is a failed
  evaluation; :meth:`SaliencyAncestorTask.build` then gives the uncompacted masked FCN to cost.
- ``ancestor_weights`` / ``trained_weights`` give per convolution ``(strength, bias)`` with
  ``strength`` shaped ``(out_channels, in_channels)``: the L1 norm of each kernel, the
  magnitude the synaptic probability model of a kernel synapse is computed from.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from torch import nn

from darwin_bench.architecture import Architecture
from darwin_bench.models.fcn import build_fcn
from darwin_bench.models.masked_fcn import (
    EmptyLayerError,
    State,
    expand_state,
    fcn_state,
    masked_fcn,
    uncompacted_fcn,
)
from darwin_bench.seeding import torch_determinism
from darwin_bench.spaces.fcn_synapses import FCNSynapseSpace
from darwin_bench.tasks.base import TaskResult
from darwin_bench.tasks.lineage import Layer, LineageTask
from darwin_bench.tasks.saliency import SaliencyTask
from darwin_bench.validation import check_positive_int


class SaliencyAncestorTask(LineageTask, SaliencyTask):
    """Saliency, scored on kernel masks over a trained ancestor FCN.

    Args:
        channels: the ancestor's encoder filters per stage.
        upsample: the ancestor's decoder upsampling (``"bilinear"`` or ``"transposed"``).
        ancestor_epochs: epochs the ancestor is trained for.
        ancestor_seed: the ancestor's initialization and minibatch seed.
        epochs: default training epochs of an offspring (the fidelity).
        **kwargs: those of :class:`~darwin_bench.tasks.saliency.SaliencyTask`.
    """

    space: FCNSynapseSpace

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
        self.name = "saliency-ancestor"
        self.space = FCNSynapseSpace(self.input_shape, 1, channels, upsample)
        self.ancestor_settings = {
            "channels": list(self.space.hidden),
            "upsample": upsample,
            "epochs": check_positive_int("ancestor_epochs", ancestor_epochs),
            "seed": int(ancestor_seed),
            "train": self.train_config.to_dict(),
        }
        weights = sum(o * i * k for (o, i), k in zip(self.space.shapes, self.space.entry_weights))
        # latency_ms: the median ONNX Runtime latency of random masks (perf latency-targets)
        self.default_targets = {
            **self.default_targets,
            "synapses": weights / 48,
            "latency_ms": 0.11,
        }

    def config(self) -> dict[str, Any]:
        return {**super().config(), "ancestor": self.ancestor_settings}

    # ------------------------------------------------------------------ hooks
    def _train_ancestor(self) -> tuple[State, dict[str, float]]:
        seed = self.ancestor_settings["seed"]
        with torch_determinism(seed, self.threads):
            model = build_fcn(self.space.ancestor)
            self.train(model, seed=seed, epochs=self.ancestor_settings["epochs"])
            metrics, test_metrics = self.evaluate(model)
        return fcn_state(model), {**metrics, **test_metrics}

    def _fresh_state(self) -> State:
        return fcn_state(build_fcn(self.space.ancestor))

    def _strengths(self, state: State) -> list[Layer]:
        """Per convolution ``(L1 norm of each kernel (out, in), bias)``."""
        return [(np.abs(w).sum(axis=(2, 3)), b.copy()) for w, b in state]

    def _train_offspring(
        self, architecture: Architecture, initial: State, *, seed: int, epochs: int
    ) -> tuple[TaskResult, State]:
        masks = self.space.masks(self.space.encode(architecture))
        model, kept = masked_fcn(self.space.ancestor, initial, masks)
        history = self.train(model, seed=seed, epochs=epochs)
        metrics, test_metrics = self.evaluate(model)
        metrics["train_loss"] = history[-1]
        result = TaskResult(metrics, model, test_metrics=test_metrics)
        return result, expand_state(fcn_state(model), kept, self.space.ancestor)

    # ------------------------------------------------------------------ task API
    def build(self, architecture: Architecture) -> nn.Module:
        """The compact masked ancestor (untrained offspring); the uncompacted one when the mask
        empties a hidden convolution."""
        masks = self.space.masks(self.space.encode(architecture))
        state = self._ancestor()[0]
        try:
            return masked_fcn(self.space.ancestor, state, masks)[0]
        except EmptyLayerError:
            return uncompacted_fcn(self.space.ancestor, state, masks)
