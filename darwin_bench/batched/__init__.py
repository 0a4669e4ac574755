"""Batched population training: many dense networks trained as one computation.

:func:`train_dense` trains :class:`DenseNet` s (plain MLPs, masked MLPs) together; each keeps its
own seed-determined initialisation, minibatch order and dropout masks, and its result is the
same bit for bit whether it is trained alone or in any batch.
"""

from __future__ import annotations

from darwin_bench.batched.dense import (
    ACTIVATIONS,
    DenseNet,
    LayerWeights,
    dense_layout,
    dense_net,
    load_weights,
)
from darwin_bench.batched.population import DenseRun, train_dense
from darwin_bench.batched.trainer import DenseTrainer

__all__ = [
    "ACTIVATIONS",
    "DenseNet",
    "DenseRun",
    "DenseTrainer",
    "LayerWeights",
    "dense_layout",
    "dense_net",
    "load_weights",
    "train_dense",
]
