"""Shared fixtures: every test sees the registered envs; torch runs single-threaded."""

from __future__ import annotations

import os

import pytest
import torch
from hypothesis import settings

import darwin_bench  # noqa: F401  (registers the envs)

torch.set_num_threads(1)

# Property-based tests: 100 examples per property in the suite; HYPOTHESIS_PROFILE=thorough
# runs 2,000 (the counts docs/reliability.md reports).
settings.register_profile("thorough", max_examples=2000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture
def digits_task():
    """The Digits task as flat vectors (one shared instance)."""
    from envs.tasks import make_task

    return make_task("digits")


# --- tiny tables (tests/tiny_tables.py), built once per test process -------------------------


@pytest.fixture(scope="session")
def tiny_tables(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """``{"mlp": path, "cnn": path}`` of the tiny tables."""
    from tiny_tables import build_tiny

    folder = tmp_path_factory.mktemp("tables")
    return {kind: build_tiny(kind, folder / f"tiny-{kind}.npz") for kind in ("mlp", "cnn")}


# --- image datasets: generated stand-ins in the real formats (no network in tests) -----------


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "real_image_sources: keep the published MNIST/CIFAR sources (no stand-ins)"
    )


@pytest.fixture(scope="session")
def synthetic_image_sources(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Small MNIST / Fashion-MNIST / CIFAR-10 files in the real formats (tests/synthetic_images)."""
    from synthetic_images import synthetic_sources

    return synthetic_sources(tmp_path_factory.mktemp("image-sources"))


@pytest.fixture(autouse=True)
def _image_stand_ins(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    synthetic_image_sources: dict,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Point the image datasets at the generated files, so image envs build and step offline.

    Not applied to the loaders' own tests (tests/data), which check the published sources, nor
    to tests marked ``real_image_sources``.
    """
    if request.node.path.parent.name == "data" or request.node.get_closest_marker(
        "real_image_sources"
    ):
        return
    from darwin_bench.data import images

    for name, source in synthetic_image_sources.items():
        monkeypatch.setitem(images.SOURCES, name, source)
    monkeypatch.setenv("DARWIN_BENCH_DATA", str(tmp_path_factory.getbasetemp() / "image-cache"))
