"""Image-classification datasets: MNIST, Fashion-MNIST and CIFAR-10 (binary version).

Files are downloaded through :func:`darwin_bench.data.download.fetch`, which checks each file's
published md5 before anything here reads it. The parsers then validate the formats themselves:

* MNIST and Fashion-MNIST use gzipped IDX files. The header (magic number, dimensions) is parsed
  with numpy and checked against the payload length and against the label file.
* CIFAR-10 uses the *binary* version (records of 1 label byte + 3072 pixel bytes). Members are
  read from the tar archive in memory; nothing is extracted to disk and nothing is unpickled.

Where files come from is the module-level mapping :data:`SOURCES`, so a caller (or a test) can
point a dataset at mirrors or ``file://`` URLs without touching the parsing code.
"""

from __future__ import annotations

import gzip
import tarfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np

from darwin_bench.data.download import DataIntegrityError, Source
from darwin_bench.hashing import data_hash

__all__ = [
    "CIFAR10_CLASSES",
    "FASHION_MNIST_CLASSES",
    "MNIST_CLASSES",
    "SOURCES",
    "DatasetSource",
    "ImageDataset",
    "load_image_dataset",
    "parse_cifar10_binary_tar",
    "read_idx",
]

MNIST_CLASSES: tuple[str, ...] = tuple(str(i) for i in range(10))
FASHION_MNIST_CLASSES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
CIFAR10_CLASSES: tuple[str, ...] = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)

_IDX_UBYTE = 0x08
_IDX_IMAGES_NDIM = 3
_IDX_LABELS_NDIM = 1
_CIFAR_SIDE = 32
_CIFAR_PIXELS = 3 * _CIFAR_SIDE * _CIFAR_SIDE
_CIFAR_RECORD = 1 + _CIFAR_PIXELS
_CIFAR_TRAIN_MEMBERS = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
_CIFAR_TEST_MEMBERS = ("test_batch.bin",)


@dataclass(frozen=True)
class DatasetSource:
    """Where a dataset's files live and how to read them.

    Attributes:
        format: ``"idx"`` (files ``train_images``, ``train_labels``, ``test_images``,
            ``test_labels``) or ``"cifar10-binary"`` (file ``archive``).
        files: Role -> :class:`~darwin_bench.data.download.Source` (URL and mirrors, checksum,
            cache file name).
        classes: Class names, indexed by label.
        homepage: Where the files and checksums are published.
    """

    format: str
    files: Mapping[str, Source]
    classes: tuple[str, ...]
    homepage: str


_MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
_FASHION_MIRRORS = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)


def _idx_files(prefix: str, mirrors: tuple[str, ...], md5s: Mapping[str, str]) -> dict[str, Source]:
    names = {
        "train_images": "train-images-idx3-ubyte.gz",
        "train_labels": "train-labels-idx1-ubyte.gz",
        "test_images": "t10k-images-idx3-ubyte.gz",
        "test_labels": "t10k-labels-idx1-ubyte.gz",
    }
    return {
        role: Source(
            url=mirrors[0] + fname,
            checksum="md5:" + md5s[role],
            filename=f"{prefix}-{fname}",
            reference="torchvision (md5)",
            mirrors=tuple(m + fname for m in mirrors[1:]),
        )
        for role, fname in names.items()
    }


#: Dataset name -> source. md5s as published by torchvision (MNIST, Fashion-MNIST; they match the
#: Fashion-MNIST README) and on the CIFAR page (binary version). See docs/data-images.md.
SOURCES: dict[str, DatasetSource] = {
    "mnist": DatasetSource(
        format="idx",
        files=_idx_files(
            "mnist",
            _MNIST_MIRRORS,
            {
                "train_images": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
                "train_labels": "d53e105ee54ea40749a09fcbcd1e9432",
                "test_images": "9fb629c4189551a2d022fa330f9573f3",
                "test_labels": "ec29112dd5afa0611ce80d1b7f02629c",
            },
        ),
        classes=MNIST_CLASSES,
        homepage="http://yann.lecun.com/exdb/mnist/",
    ),
    "fashion-mnist": DatasetSource(
        format="idx",
        files=_idx_files(
            "fashion-mnist",
            _FASHION_MIRRORS,
            {
                "train_images": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                "train_labels": "25c81989df183df01b3e8a0aad5dffbe",
                "test_images": "bef4ecab320f06d8554ea6380940ec79",
                "test_labels": "bb300cfdad3c16e7a12a480ee83cd310",
            },
        ),
        classes=FASHION_MNIST_CLASSES,
        homepage="https://github.com/zalandoresearch/fashion-mnist",
    ),
    "cifar10": DatasetSource(
        format="cifar10-binary",
        files={
            "archive": Source(
                url="https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
                checksum="md5:c32a1d4ab5d03f1284b67883e8d87530",
                filename="cifar-10-binary.tar.gz",
                reference="https://www.cs.toronto.edu/~kriz/cifar.html (md5)",
            )
        },
        classes=CIFAR10_CLASSES,
        homepage="https://www.cs.toronto.edu/~kriz/cifar.html",
    ),
}


def _readonly(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


@dataclass(frozen=True)
class ImageDataset:
    """An image-classification dataset held in memory.

    Attributes:
        name: Dataset name (``"mnist"``, ``"fashion-mnist"``, ``"cifar10"``).
        x_train: uint8 images, ``N×H×W`` (grey) or ``N×H×W×C`` (colour), read-only.
        y_train: int64 labels, ``N``, read-only.
        x_test: uint8 test images, same layout as ``x_train``.
        y_test: int64 test labels.
        classes: Class names, indexed by label.
        sha256: :func:`darwin_bench.hashing.data_hash` of the four arrays, in the order above;
            stable across runs and machines.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple[str, ...]
    sha256: str

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of one image: ``(H, W)`` or ``(H, W, C)``."""
        return tuple(int(d) for d in self.x_train.shape[1:])

    @property
    def num_classes(self) -> int:
        """Number of classes."""
        return len(self.classes)


def _decompress(path: Path) -> bytes:
    try:
        return gzip.decompress(path.read_bytes())
    except (OSError, EOFError, zlib.error) as exc:
        raise DataIntegrityError(f"{path.name}: not a valid gzip file ({exc})") from exc


def read_idx(path: Path, *, expected_magic: int | None = None) -> np.ndarray:
    """Read a gzipped IDX file of unsigned bytes.

    Args:
        path: A ``*.gz`` IDX file.
        expected_magic: If given, the 32-bit magic number the file must have
            (2051 = ``0x0803`` for images, 2049 = ``0x0801`` for labels).

    Returns:
        A uint8 array with the shape given by the header.

    Raises:
        DataIntegrityError: Bad gzip stream, wrong magic, or a payload of the wrong length.
    """
    raw = _decompress(path)
    if len(raw) < 4:
        raise DataIntegrityError(f"{path.name}: truncated IDX header ({len(raw)} bytes)")
    magic = int.from_bytes(raw[:4], "big")
    zero, dtype_code, ndim = int.from_bytes(raw[:2], "big"), raw[2], raw[3]
    if expected_magic is not None and magic != expected_magic:
        raise DataIntegrityError(
            f"{path.name}: wrong IDX magic number {magic:#010x}, expected {expected_magic:#010x}"
        )
    if zero != 0 or dtype_code != _IDX_UBYTE or ndim == 0:
        raise DataIntegrityError(
            f"{path.name}: unsupported IDX magic number {magic:#010x} "
            "(need unsigned-byte data with at least one dimension)"
        )
    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise DataIntegrityError(f"{path.name}: truncated IDX header ({len(raw)} bytes)")
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = int(np.prod(dims, dtype=np.int64))
    payload = len(raw) - header_len
    if payload != expected:
        kind = "truncated" if payload < expected else "oversized"
        raise DataIntegrityError(
            f"{path.name}: {kind} IDX payload: header {dims} needs {expected} bytes, "
            f"file has {payload}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header_len).reshape(dims).copy()


def _check_labels(labels: np.ndarray, n_classes: int, where: str) -> np.ndarray:
    if labels.size and int(labels.max()) >= n_classes:
        raise DataIntegrityError(
            f"{where}: label {int(labels.max())} out of range for {n_classes} classes"
        )
    return labels.astype(np.int64)


def _load_idx_pair(images_path: Path, labels_path: Path, n_classes: int) -> tuple[np.ndarray, ...]:
    images = read_idx(images_path, expected_magic=0x00000803)
    labels = read_idx(labels_path, expected_magic=0x00000801)
    if images.ndim != _IDX_IMAGES_NDIM or labels.ndim != _IDX_LABELS_NDIM:
        raise DataIntegrityError(
            f"{images_path.name}/{labels_path.name}: expected 3-D images and 1-D labels, "
            f"got {images.shape} and {labels.shape}"
        )
    if images.shape[0] != labels.shape[0]:
        raise DataIntegrityError(
            f"count mismatch: {images_path.name} has {images.shape[0]} images but "
            f"{labels_path.name} has {labels.shape[0]} labels"
        )
    return images, _check_labels(labels, n_classes, labels_path.name)


def _records_to_arrays(data: bytes, where: str, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    if len(data) == 0 or len(data) % _CIFAR_RECORD:
        raise DataIntegrityError(
            f"{where}: {len(data)} bytes is not a whole number of {_CIFAR_RECORD}-byte records"
        )
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, _CIFAR_RECORD)
    labels = _check_labels(records[:, 0], n_classes, where)
    images = records[:, 1:].reshape(-1, 3, _CIFAR_SIDE, _CIFAR_SIDE).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels


def parse_cifar10_binary_tar(
    path: Path, n_classes: int = len(CIFAR10_CLASSES)
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Read CIFAR-10 (binary version) from its ``.tar.gz`` without extracting it.

    Members are matched by base name (``data_batch_1.bin`` … ``data_batch_5.bin``,
    ``test_batch.bin``) and must be regular files; links and other members are ignored.

    Args:
        path: The ``cifar-10-binary.tar.gz`` archive.
        n_classes: Labels must be below this.

    Returns:
        ``(x_train, y_train, x_test, y_test)`` with images as uint8 ``N×32×32×3``.

    Raises:
        DataIntegrityError: Unreadable archive, missing member, or malformed records.
    """
    wanted = set(_CIFAR_TRAIN_MEMBERS + _CIFAR_TEST_MEMBERS)
    contents: dict[str, bytes] = {}
    try:
        with tarfile.open(path, mode="r:gz") as tar:
            for member in tar:
                base = PurePosixPath(member.name).name
                if base not in wanted or not member.isfile():
                    continue
                if base in contents:
                    raise DataIntegrityError(f"{path.name}: duplicate member {base}")
                handle = tar.extractfile(member)
                if handle is None:  # pragma: no cover - isfile() members always have data
                    raise DataIntegrityError(f"{path.name}: cannot read member {member.name}")
                contents[base] = handle.read()
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise DataIntegrityError(f"{path.name}: unreadable tar.gz archive ({exc})") from exc
    missing = sorted(wanted - contents.keys())
    if missing:
        raise DataIntegrityError(f"{path.name}: missing member(s) {', '.join(missing)}")
    parts = []
    for members in (_CIFAR_TRAIN_MEMBERS, _CIFAR_TEST_MEMBERS):
        arrays = [_records_to_arrays(contents[m], f"{path.name}:{m}", n_classes) for m in members]
        parts.append(np.concatenate([a[0] for a in arrays]))
        parts.append(np.concatenate([a[1] for a in arrays]))
    return parts[0], parts[1], parts[2], parts[3]


def _require_files(name: str, source: DatasetSource, roles: tuple[str, ...]) -> None:
    missing = [r for r in roles if r not in source.files]
    if missing:
        raise ValueError(f"SOURCES[{name!r}].files lacks role(s) {missing}; needs {list(roles)}")


def load_image_dataset(name: str, *, cache: Path | None = None) -> ImageDataset:
    """Download (or reuse from the cache), verify and parse an image-classification dataset.

    Args:
        name: ``"mnist"``, ``"fashion-mnist"`` or ``"cifar10"`` (any key of :data:`SOURCES`).
        cache: Download cache directory; ``None`` uses ``download.cache_dir()``.

    Returns:
        The dataset with read-only arrays and its content hash.

    Raises:
        ValueError: Unknown name or unknown source format.
        DatasetUnavailableError: Offline or no mirror reachable.
        DataIntegrityError: Checksum mismatch or malformed file.
    """
    if name not in SOURCES:
        raise ValueError(f"name must be one of {sorted(SOURCES)}, got {name!r}")
    source = SOURCES[name]
    n_classes = len(source.classes)
    if source.format == "idx":
        roles = ("train_images", "train_labels", "test_images", "test_labels")
        _require_files(name, source, roles)
        paths = {role: source.files[role].fetch(cache=cache) for role in roles}
        x_train, y_train = _load_idx_pair(paths["train_images"], paths["train_labels"], n_classes)
        x_test, y_test = _load_idx_pair(paths["test_images"], paths["test_labels"], n_classes)
    elif source.format == "cifar10-binary":
        _require_files(name, source, ("archive",))
        archive = source.files["archive"].fetch(cache=cache)
        x_train, y_train, x_test, y_test = parse_cifar10_binary_tar(archive, n_classes)
    else:
        raise ValueError(
            f"SOURCES[{name!r}].format must be 'idx' or 'cifar10-binary', got {source.format!r}"
        )
    if x_train.shape[1:] != x_test.shape[1:]:
        raise DataIntegrityError(
            f"{name}: train images {x_train.shape[1:]} and test images {x_test.shape[1:]} differ"
        )
    arrays = [_readonly(a) for a in (x_train, y_train, x_test, y_test)]
    return ImageDataset(
        name=name,
        x_train=arrays[0],
        y_train=arrays[1],
        x_test=arrays[2],
        y_test=arrays[3],
        classes=tuple(source.classes),
        sha256=data_hash(*arrays),
    )
