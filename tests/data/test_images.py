"""Tests for darwin_bench.data.images on small files generated in the real formats."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from pathlib import Path

import numpy as np
import pytest

from darwin_bench.data import images
from darwin_bench.data.download import (
    DataIntegrityError,
    DatasetUnavailableError,
    Source,
    parse_checksum,
)
from darwin_bench.data.images import DatasetSource, load_image_dataset
from darwin_bench.hashing import data_hash


def _md5(path: Path) -> str:
    return "md5:" + hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


def _idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    ndim = array.ndim
    header = (magic if magic is not None else (0x0800 | ndim)).to_bytes(4, "big")
    header += b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def _write_gz(path: Path, payload: bytes) -> Path:
    path.write_bytes(gzip.compress(payload))
    return path


def _remote(path: Path, filename: str, checksum: str | None = None) -> Source:
    return Source(path.as_uri(), checksum or _md5(path), filename)


def _idx_source(
    src: Path,
    arrays: dict[str, np.ndarray],
    classes: tuple[str, ...] = images.MNIST_CLASSES,
    raw: dict[str, bytes] | None = None,
) -> DatasetSource:
    """Write IDX gz files for the given role arrays (or raw payloads) and describe them."""
    files = {}
    for role, array in arrays.items():
        payload = (raw or {}).get(role, _idx_bytes(array))
        path = _write_gz(src / f"{role}.gz", payload)
        files[role] = _remote(path, f"test-{role}.gz")
    return DatasetSource(format="idx", files=files, classes=classes, homepage="test")


@pytest.fixture
def mnist_arrays() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "train_images": rng.integers(0, 256, size=(6, 28, 28), dtype=np.uint8),
        "train_labels": np.array([0, 1, 2, 9, 5, 3], dtype=np.uint8),
        "test_images": rng.integers(0, 256, size=(3, 28, 28), dtype=np.uint8),
        "test_labels": np.array([7, 8, 0], dtype=np.uint8),
    }


def _cifar_records(labels: np.ndarray, pixels: np.ndarray) -> bytes:
    """``pixels`` is N×3×32×32 (CHW, as stored)."""
    rows = np.concatenate([labels[:, None], pixels.reshape(len(labels), -1)], axis=1)
    return rows.astype(np.uint8).tobytes()


def _cifar_tar(
    path: Path,
    members: dict[str, bytes],
    links: tuple[str, ...] = (),
) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name in links:
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.type = tarfile.SYMTYPE
            info.linkname = "/etc/passwd"
            tar.addfile(info)
    return path


def _cifar_members(rng: np.random.Generator, per_batch: int = 2) -> tuple[dict[str, bytes], dict]:
    members: dict[str, bytes] = {"batches.meta.txt": "\n".join(images.CIFAR10_CLASSES).encode()}
    truth: dict[str, list[np.ndarray]] = {"xtr": [], "ytr": [], "xte": [], "yte": []}
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        labels = rng.integers(0, 10, size=per_batch).astype(np.uint8)
        pixels = rng.integers(0, 256, size=(per_batch, 3, 32, 32), dtype=np.uint8)
        members[name] = _cifar_records(labels, pixels)
        key = "te" if name == "test_batch.bin" else "tr"
        truth["x" + key].append(pixels.transpose(0, 2, 3, 1))
        truth["y" + key].append(labels)
    return members, {k: np.concatenate(v) for k, v in truth.items()}


def _cifar_source(archive: Path, checksum: str | None = None) -> DatasetSource:
    return DatasetSource(
        format="cifar10-binary",
        files={"archive": _remote(archive, "test-cifar.tar.gz", checksum)},
        classes=images.CIFAR10_CLASSES,
        homepage="test",
    )


# --- MNIST / Fashion-MNIST ---------------------------------------------------------------------


def test_loads_generated_idx_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mnist_arrays: dict[str, np.ndarray]
) -> None:
    monkeypatch.setitem(images.SOURCES, "mnist", _idx_source(tmp_path, mnist_arrays))
    ds = load_image_dataset("mnist", cache=tmp_path / "cache")
    assert ds.name == "mnist"
    assert ds.x_train.shape == (6, 28, 28) and ds.x_train.dtype == np.uint8
    assert ds.x_test.shape == (3, 28, 28)
    assert ds.y_train.dtype == np.int64 and ds.y_test.dtype == np.int64
    np.testing.assert_array_equal(ds.x_train, mnist_arrays["train_images"])
    np.testing.assert_array_equal(ds.y_train, [0, 1, 2, 9, 5, 3])
    np.testing.assert_array_equal(ds.x_test, mnist_arrays["test_images"])
    np.testing.assert_array_equal(ds.y_test, [7, 8, 0])
    assert ds.shape == (28, 28)
    assert ds.classes == images.MNIST_CLASSES and ds.num_classes == 10
    assert len(ds.sha256) == 64
    assert not ds.x_train.flags.writeable and not ds.y_test.flags.writeable
    # Files land in the cache under their own names.
    assert (tmp_path / "cache" / "test-train_images.gz").exists()


def test_content_hash_is_stable_and_content_sensitive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mnist_arrays: dict[str, np.ndarray]
) -> None:
    monkeypatch.setitem(images.SOURCES, "mnist", _idx_source(tmp_path, mnist_arrays))
    first = load_image_dataset("mnist", cache=tmp_path / "c1")
    second = load_image_dataset("mnist", cache=tmp_path / "c2")
    assert first.sha256 == second.sha256
    assert first.sha256 == data_hash(first.x_train, first.y_train, first.x_test, first.y_test)
    changed = dict(mnist_arrays)
    changed["test_labels"] = np.array([7, 8, 1], dtype=np.uint8)
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.setitem(images.SOURCES, "mnist", _idx_source(other, changed))
    assert load_image_dataset("mnist", cache=tmp_path / "c3").sha256 != first.sha256


def test_fashion_mnist_uses_its_class_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mnist_arrays: dict[str, np.ndarray]
) -> None:
    source = _idx_source(tmp_path, mnist_arrays, classes=images.FASHION_MNIST_CLASSES)
    monkeypatch.setitem(images.SOURCES, "fashion-mnist", source)
    ds = load_image_dataset("fashion-mnist", cache=tmp_path / "cache")
    assert ds.name == "fashion-mnist"
    assert ds.classes[9] == "Ankle boot"


def test_wrong_magic_is_refused_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mnist_arrays: dict[str, np.ndarray]
) -> None:
    # Labels written with the images' magic number (2051).
    raw = {"train_labels": _idx_bytes(mnist_arrays["train_labels"], magic=0x0803)}
    monkeypatch.setitem(images.SOURCES, "mnist", _idx_source(tmp_path, mnist_arrays, raw=raw))
    with pytest.raises(DataIntegrityError, match=r"test-train_labels\.gz.*magic"):
        load_image_dataset("mnist", cache=tmp_path / "cache")


def test_truncated_payload_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mnist_arrays: dict[str, np.ndarray]
) -> None:
    # The checksum matches the truncated file, so only the IDX parser can catch it.
    raw = {"test_images": _idx_bytes(mnist_arrays["test_images"])[:-100]}
    monkeypatch.setitem(images.SOURCES, "mnist", _idx_source(tmp_path, mnist_arrays, raw=raw))
    with pytest.raises(DataIntegrityError, match=r"test-test_images\.gz: truncated IDX payload"):
        load_image_dataset("mnist", cache=tmp_path / "cache")


def test_truncated_header_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mnist_arrays: dict[str, np.ndarray]
) -> None:
    raw = {"train_images": _idx_bytes(mnist_arrays["train_images"])[:10]}
    monkeypatch.setitem(images.SOURCES, "mnist", _idx_source(tmp_path, mnist_arrays, raw=raw))
    with pytest.raises(DataIntegrityError, match="truncated IDX header"):
        load_image_dataset("mnist", cache=tmp_path / "cache")


def test_count_mismatch_between_images_and_labels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mnist_arrays: dict[str, np.ndarray]
) -> None:
    arrays = dict(mnist_arrays)
    arrays["train_labels"] = arrays["train_labels"][:5]
    monkeypatch.setitem(images.SOURCES, "mnist", _idx_source(tmp_path, arrays))
    with pytest.raises(
        DataIntegrityError, match=r"count mismatch.*test-train_images.*6.*test-train_labels.*5"
    ):
        load_image_dataset("mnist", cache=tmp_path / "cache")


def test_label_out_of_range_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mnist_arrays: dict[str, np.ndarray]
) -> None:
    arrays = dict(mnist_arrays)
    arrays["test_labels"] = np.array([7, 10, 0], dtype=np.uint8)
    monkeypatch.setitem(images.SOURCES, "mnist", _idx_source(tmp_path, arrays))
    with pytest.raises(DataIntegrityError, match="label 10 out of range"):
        load_image_dataset("mnist", cache=tmp_path / "cache")


def test_not_gzip_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mnist_arrays: dict[str, np.ndarray]
) -> None:
    source = _idx_source(tmp_path, mnist_arrays)
    bad = tmp_path / "plain"
    bad.write_bytes(_idx_bytes(mnist_arrays["train_images"]))  # IDX, but not gzipped
    files = dict(source.files)
    files["train_images"] = _remote(bad, "test-plain.gz")
    source = DatasetSource("idx", files, source.classes, "test")
    monkeypatch.setitem(images.SOURCES, "mnist", source)
    with pytest.raises(DataIntegrityError, match=r"test-plain\.gz: not a valid gzip file"):
        load_image_dataset("mnist", cache=tmp_path / "cache")


def test_corrupted_file_fails_its_checksum(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mnist_arrays: dict[str, np.ndarray]
) -> None:
    source = _idx_source(tmp_path, mnist_arrays)
    path = tmp_path / "train_images.gz"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))  # the recorded md5 is now wrong
    monkeypatch.setitem(images.SOURCES, "mnist", source)
    with pytest.raises(DataIntegrityError, match="checksum"):
        load_image_dataset("mnist", cache=tmp_path / "cache")
    assert not (tmp_path / "cache" / "test-train_images.gz").exists()


def test_read_idx_rejects_non_ubyte_type(tmp_path: Path) -> None:
    payload = (0x0D03).to_bytes(4, "big") + b"\x00\x00\x00\x01" * 3 + b"\x00" * 4
    path = _write_gz(tmp_path / "floats.gz", payload)
    with pytest.raises(DataIntegrityError, match="unsupported IDX magic"):
        images.read_idx(path)


def test_mirrors_are_tried_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mnist_arrays: dict[str, np.ndarray]
) -> None:
    source = _idx_source(tmp_path, mnist_arrays)
    missing = (tmp_path / "nowhere.gz").as_uri()
    files = {
        role: Source(missing, remote.checksum, remote.filename, mirrors=remote.urls)
        for role, remote in source.files.items()
    }
    monkeypatch.setitem(images.SOURCES, "mnist", DatasetSource("idx", files, source.classes, ""))
    ds = load_image_dataset("mnist", cache=tmp_path / "cache")
    assert len(ds.y_train) == 6


def test_all_mirrors_unreachable_names_every_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mnist_arrays: dict[str, np.ndarray]
) -> None:
    source = _idx_source(tmp_path, mnist_arrays)
    urls = ((tmp_path / "a.gz").as_uri(), (tmp_path / "b.gz").as_uri())
    files = dict(source.files)
    files["train_images"] = Source(
        urls[0], files["train_images"].checksum, "x.gz", mirrors=urls[1:]
    )
    monkeypatch.setitem(images.SOURCES, "mnist", DatasetSource("idx", files, source.classes, ""))
    with pytest.raises(DatasetUnavailableError, match=r"(?s)a\.gz.*b\.gz"):
        load_image_dataset("mnist", cache=tmp_path / "cache")


# --- CIFAR-10 ------------------------------------------------------------------------------------


def test_loads_generated_cifar_binary_tar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    members, truth = _cifar_members(np.random.default_rng(1))
    archive = _cifar_tar(tmp_path / "cifar.tar.gz", members)
    monkeypatch.setitem(images.SOURCES, "cifar10", _cifar_source(archive))
    ds = load_image_dataset("cifar10", cache=tmp_path / "cache")
    assert ds.x_train.shape == (10, 32, 32, 3) and ds.x_train.dtype == np.uint8
    assert ds.x_test.shape == (2, 32, 32, 3)
    assert ds.shape == (32, 32, 3)
    np.testing.assert_array_equal(ds.x_train, truth["xtr"])
    np.testing.assert_array_equal(ds.y_train, truth["ytr"])
    np.testing.assert_array_equal(ds.x_test, truth["xte"])
    np.testing.assert_array_equal(ds.y_test, truth["yte"])
    assert ds.y_train.dtype == np.int64
    assert ds.classes[0] == "airplane" and ds.classes[9] == "truck"
    # Channel order: the first 1024 bytes of a record are red.
    raw = np.frombuffer(members["data_batch_1.bin"], dtype=np.uint8)
    assert ds.x_train[0, 0, 1, 0] == raw[1 + 1] and ds.x_train[0, 0, 0, 2] == raw[1 + 2048]
    # Nothing was extracted next to the archive or into the cache.
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["test-cifar.tar.gz"]
    assert not (tmp_path / "cifar-10-batches-bin").exists()


def test_cifar_partial_record_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    members, _ = _cifar_members(np.random.default_rng(2))
    members["data_batch_3.bin"] = members["data_batch_3.bin"][:-7]
    archive = _cifar_tar(tmp_path / "cifar.tar.gz", members)
    monkeypatch.setitem(images.SOURCES, "cifar10", _cifar_source(archive))
    with pytest.raises(DataIntegrityError, match=r"data_batch_3\.bin.*3073-byte records"):
        load_image_dataset("cifar10", cache=tmp_path / "cache")


def test_cifar_missing_member_and_symlinks_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    members, _ = _cifar_members(np.random.default_rng(3))
    del members["test_batch.bin"]
    archive = _cifar_tar(tmp_path / "cifar.tar.gz", members, links=("test_batch.bin",))
    monkeypatch.setitem(images.SOURCES, "cifar10", _cifar_source(archive))
    with pytest.raises(DataIntegrityError, match=r"missing member\(s\) test_batch\.bin"):
        load_image_dataset("cifar10", cache=tmp_path / "cache")


def test_cifar_truncated_archive_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    members, _ = _cifar_members(np.random.default_rng(4))
    archive = _cifar_tar(tmp_path / "cifar.tar.gz", members)
    archive.write_bytes(archive.read_bytes()[:-200])  # truncated, then checksummed as is
    monkeypatch.setitem(images.SOURCES, "cifar10", _cifar_source(archive))
    with pytest.raises(DataIntegrityError, match=r"test-cifar\.tar\.gz"):
        load_image_dataset("cifar10", cache=tmp_path / "cache")


def test_cifar_label_out_of_range(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    members, _ = _cifar_members(np.random.default_rng(5))
    record = bytearray(members["test_batch.bin"])
    record[0] = 10
    members["test_batch.bin"] = bytes(record)
    archive = _cifar_tar(tmp_path / "cifar.tar.gz", members)
    monkeypatch.setitem(images.SOURCES, "cifar10", _cifar_source(archive))
    with pytest.raises(DataIntegrityError, match=r"test_batch\.bin: label 10 out of range"):
        load_image_dataset("cifar10", cache=tmp_path / "cache")


# --- configuration and offline behaviour ---------------------------------------------------------


def test_unknown_name_lists_known_names() -> None:
    with pytest.raises(ValueError, match=r"cifar10.*fashion-mnist.*mnist.*'svhn'"):
        load_image_dataset("svhn")


def test_offline_with_empty_cache_is_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DARWIN_BENCH_OFFLINE", "1")
    for name in ("mnist", "fashion-mnist", "cifar10"):
        with pytest.raises(DatasetUnavailableError, match="DARWIN_BENCH_OFFLINE"):
            load_image_dataset(name, cache=tmp_path / name)
        assert list((tmp_path / name).iterdir()) == []


def test_published_sources_are_well_formed() -> None:
    assert set(images.SOURCES) == {"mnist", "fashion-mnist", "cifar10"}
    filenames = []
    for source in images.SOURCES.values():
        for remote in source.files.values():
            assert parse_checksum(remote.checksum)[0] == "md5"
            assert remote.urls and all(u.startswith(("http://", "https://")) for u in remote.urls)
            filenames.append(remote.filename)
        assert len(source.classes) == 10
    assert len(filenames) == len(set(filenames)) == 9
    cifar = images.SOURCES["cifar10"].files["archive"]
    assert cifar.urls[0].endswith("cifar-10-binary.tar.gz")
