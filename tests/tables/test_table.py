"""The table file: round trip, content hash, lazy shared loading, bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from darwin_bench.tables import Table, load_table, table_path
from darwin_bench.tables.table import FORMAT


def test_round_trip_keeps_every_array_and_the_hash(tiny_tables: dict, tmp_path: Path) -> None:
    table = Table.load(tiny_tables["mlp"])
    assert table.meta["format"] == FORMAT
    assert (table.num_architectures, table.num_seeds, table.max_epochs) == (4, 2, 3)
    copy = Table(dict(table.meta), dict(table.arrays))
    again = Table.load(copy.save(tmp_path / "copy.npz"))
    assert sorted(again.arrays) == sorted(table.arrays)
    for name, values in table.arrays.items():
        assert values.dtype == again.arrays[name].dtype
        assert np.array_equal(values, again.arrays[name], equal_nan=values.dtype.kind == "f")
    assert again.content_hash == table.content_hash
    changed = dict(table.arrays)
    changed["metric:accuracy"] = changed["metric:accuracy"].copy()
    changed["metric:accuracy"][0, 0, 0] += 1 / 360
    assert Table(table.meta, changed).content_hash != table.content_hash


def test_exact_float32_metrics_are_stored_compactly(tiny_tables: dict) -> None:
    table = Table.load(tiny_tables["mlp"])
    assert table.arrays["metric:accuracy"].dtype == np.float32  # float32 accuracies, exact
    assert table.arrays["seconds"].dtype == np.float32
    assert table.arrays["cost:flops"].dtype == np.float64
    assert table.metric_names == ["accuracy", "train_loss", "val_loss"]
    assert table.test_metric_names == ["test_accuracy", "test_loss"]


def test_tables_load_once_per_process(tiny_tables: dict) -> None:
    assert load_table(tiny_tables["mlp"]) is load_table(str(tiny_tables["mlp"]))


def test_rows_by_architecture_hash(tiny_tables: dict) -> None:
    table = Table.load(tiny_tables["mlp"])
    first = table.arrays["hashes"][0].decode("ascii")
    assert table.row(first) == 0
    with pytest.raises(KeyError):
        table.row("0" * 64)


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"not a zip", "not a readable .npz table"), (None, "has no meta record")],
)
def test_bad_files_are_refused(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "bad.npz"
    if content is None:
        np.savez(path, genomes=np.zeros((1, 1)))
    else:
        path.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        Table.load(path)


def test_another_format_is_refused(tiny_tables: dict, tmp_path: Path) -> None:
    table = Table.load(tiny_tables["mlp"])
    path = Table({**table.meta, "format": "darwin_bench.table/99"}, table.arrays).save(
        tmp_path / "future.npz"
    )
    with pytest.raises(ValueError, match="format 'darwin_bench.table/99'"):
        Table.load(path)


def test_unknown_table_names_the_packaged_ones() -> None:
    with pytest.raises(ValueError, match="table must be a packaged table"):
        table_path("no-such-table")
    with pytest.raises(ValueError, match="no file"):
        table_path("/nowhere/missing.npz")
