"""Shared fixtures: every test sees the registered envs; torch runs single-threaded."""

from __future__ import annotations

import pytest
import torch

import darwin_bench  # noqa: F401  (registers the envs)

torch.set_num_threads(1)


@pytest.fixture
def digits_task():
    """The Digits task as flat vectors (one shared instance)."""
    from envs.tasks import make_task

    return make_task("digits")
