"""Turning an :class:`~darwin_bench.architecture.Architecture` into a PyTorch module."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from darwin_bench.architecture import Architecture
from darwin_bench.models.fcn import build_fcn
from darwin_bench.models.recurrent import build_recurrent
from darwin_bench.models.sequential import build_sequential

ModelBuilder = Callable[[Architecture], nn.Module]

#: Space name -> builder. Spaces whose architectures are plain layer lists use the generic one.
BUILDERS: dict[str, ModelBuilder] = {
    "mlp": build_sequential,
    "cnn": build_sequential,
    "rnn": build_recurrent,
    "fcn": build_fcn,
}


def register_builder(space: str, builder: ModelBuilder) -> None:
    """Use ``builder`` for architectures of ``space``."""
    BUILDERS[space] = builder


def build_model(architecture: Architecture) -> nn.Module:
    """Build the (untrained) module for ``architecture``.

    Architectures of spaces without a registered builder are built as plain sequential stacks.
    """
    return BUILDERS.get(architecture.space, build_sequential)(architecture)


__all__ = ["BUILDERS", "build_model", "build_recurrent", "build_sequential", "register_builder"]
