"""Time image tasks where their data cannot be downloaded: random images of the real sizes.

A benchmarking tool for docs/tasks.md, not part of the darwin_bench package: it replaces the
image loader for its own process only. Usage (any ``darwin-bench`` command line after the
script)::

    python scripts/stand_in_images.py bench-task --env darwin_bench/MNIST-CNN-v0 \\
        --genome 1,1,1,1,0,2,1,1,0,0,0,0,0,2,0 --repeats 3

Before running the command, :func:`install` makes the image tasks load random uint8 images of
the real sizes (60,000 + 10,000 for MNIST / Fashion-MNIST, 50,000 + 10,000 for CIFAR-10) with
random labels. Training, scoring and costing then take the time they take on the real data; the
accuracies printed are those of random labels (about 0.1) and mean nothing. docs/tasks.md uses
this for the image rows' seconds only.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from darwin_bench.hashing import data_hash

#: Real sizes of the image sets: (train images, test images, image shape).
REAL_SIZES: dict[str, tuple[int, int, tuple[int, ...]]] = {
    "mnist": (60000, 10000, (28, 28)),
    "fashion-mnist": (60000, 10000, (28, 28)),
    "cifar10": (50000, 10000, (32, 32, 3)),
}


def install() -> None:
    """Make :mod:`darwin_bench.tasks.images` load random images of the real sizes."""
    from darwin_bench.data import images
    from darwin_bench.tasks import images as image_tasks

    def stand_in(name: str, *, cache: Any = None) -> images.ImageDataset:
        n_train, n_test, shape = REAL_SIZES[name]
        rng = np.random.default_rng(0)
        x_train = rng.integers(0, 256, size=(n_train, *shape), dtype=np.uint8)
        y_train = rng.integers(0, 10, size=n_train).astype(np.int64)
        x_test = rng.integers(0, 256, size=(n_test, *shape), dtype=np.uint8)
        y_test = rng.integers(0, 10, size=n_test).astype(np.int64)
        digest = data_hash(x_train, y_train, x_test, y_test)
        classes = images.SOURCES[name].classes
        return images.ImageDataset(name, x_train, y_train, x_test, y_test, classes, digest)

    image_tasks.load_image_dataset = stand_in


def main(argv: list[str] | None = None) -> int:
    """Install the stand-in, then run ``darwin-bench`` with ``argv``."""
    from darwin_bench.cli import main as cli_main

    install()
    return cli_main(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    raise SystemExit(main())
