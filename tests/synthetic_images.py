"""Small stand-ins for MNIST, Fashion-MNIST and CIFAR-10, written in the real file formats.

The image datasets cannot be downloaded in the test environment (no network), so tests point
``darwin_bench.data.images.SOURCES`` at ``file://`` copies of these files (with their own md5s):
the real download cache, checksum check and IDX / CIFAR-binary parsers read them. Each class
draws a bright square at its own position over noise, so a network can learn the labels and a
test can tell a working pipeline (images and labels aligned) from a broken one.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from pathlib import Path

import numpy as np

from darwin_bench.data import images
from darwin_bench.data.download import Source
from darwin_bench.data.images import DatasetSource

N_TRAIN = 300
N_TEST = 100


def class_images(labels: np.ndarray, side: int, rng: np.random.Generator) -> np.ndarray:
    """uint8 ``N×side×side`` images: noise plus a bright square placed by the label."""
    out = rng.integers(0, 60, size=(len(labels), side, side)).astype(np.uint8)
    cell = side // 4
    for i, label in enumerate(labels):
        r, c = divmod(int(label), 4)
        out[i, r * cell : (r + 1) * cell, c * cell : (c + 1) * cell] = 230
    return out


def _labels(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.permutation(np.arange(n) % 10).astype(np.uint8)


def _md5(path: Path) -> str:
    return "md5:" + hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


def _idx(array: np.ndarray) -> bytes:
    header = (0x0800 | array.ndim).to_bytes(4, "big")
    header += b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def _remote(path: Path) -> Source:
    return Source(path.as_uri(), _md5(path), f"synthetic-{path.name}")


def idx_source(folder: Path, name: str, seed: int) -> DatasetSource:
    """Write the four gzipped IDX files of a 28×28 dataset and describe them."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for split, n in (("train", N_TRAIN), ("test", N_TEST)):
        labels = _labels(n, rng)
        for role, array in (
            (f"{split}_images", class_images(labels, 28, rng)),
            (f"{split}_labels", labels),
        ):
            path = folder / f"{name}-{role}.gz"
            path.write_bytes(gzip.compress(_idx(array), mtime=0))
            files[role] = _remote(path)
    return DatasetSource("idx", files, images.SOURCES[name].classes, "generated for tests")


def cifar_source(folder: Path, seed: int) -> DatasetSource:
    """Write a CIFAR-10 binary ``.tar.gz`` (5 train batches, 1 test batch) and describe it."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "cifar10-binary.tar.gz"
    batches = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    with tarfile.open(path, "w:gz") as tar:
        for member in batches:
            n = N_TEST if member == "test_batch.bin" else N_TRAIN // 5
            labels = _labels(n, rng)
            grey = class_images(labels, 32, rng)
            pixels = np.stack([grey, grey // 2, 255 - grey], axis=1)  # N×3×32×32 as stored
            data = np.concatenate([labels[:, None], pixels.reshape(n, -1)], axis=1).tobytes()
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{member}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return DatasetSource(
        "cifar10-binary", {"archive": _remote(path)}, images.CIFAR10_CLASSES, "generated for tests"
    )


def synthetic_sources(folder: Path) -> dict[str, DatasetSource]:
    """Generated stand-ins for every image dataset, keyed like ``images.SOURCES``."""
    return {
        "mnist": idx_source(folder / "mnist", "mnist", seed=1),
        "fashion-mnist": idx_source(folder / "fashion-mnist", "fashion-mnist", seed=2),
        "cifar10": cifar_source(folder / "cifar10", seed=3),
    }
