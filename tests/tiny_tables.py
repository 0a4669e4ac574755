"""Tiny tables the tests build in seconds: a 4-network MLP space and a 2-network CNN space.

The MLP table goes through the batched trainer (as the live MLP env trains), the CNN one
through the per-model learning curve, so both build paths are covered.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: A 4-network MLP space: one hidden layer of 16 or 32 units, relu or tanh.
TINY_MLP: dict[str, Any] = {
    "space_kwargs": {
        "max_layers": 1,
        "choices": {"width": [16, 32], "activation": ["relu", "tanh"], "dropout": [0.0]},
    },
    "epochs": 3,
}
#: A 2-network CNN space: one conv layer of 8 filters, kernel 1 or 3.
TINY_CNN: dict[str, Any] = {
    "space_kwargs": {
        "max_layers": 1,
        "choices": {
            "filters": [8],
            "kernel": [1, 3],
            "pool": ["none"],
            "activation": ["relu"],
            "head": [0],
            "dropout": [0.0],
        },
    },
    "epochs": 2,
}
LIVE = {"mlp": "darwin_bench/Digits-MLP-v0", "cnn": "darwin_bench/Digits-CNN-v0"}
KWARGS = {"mlp": TINY_MLP, "cnn": TINY_CNN}


def build_tiny(kind: str, out: Path, seeds: int = 2) -> Path:
    """Build the tiny ``kind`` table (``"mlp"`` or ``"cnn"``) into ``out``."""
    from darwin_bench.tables.build import build_table
    from envs.tabular import build_plan

    plan = build_plan(LIVE[kind], KWARGS[kind], seeds=seeds)
    build_table(plan, out, batch_size=8)
    return out


def tabular_kwargs(kind: str, table: Path) -> dict[str, Any]:
    """Env kwargs of a tabular env over the tiny ``kind`` table."""
    base = {"task": "digits", "space": kind, "table": str(table), **KWARGS[kind]}
    if kind == "cnn":
        base["task_kwargs"] = {"image": True}
    return base
