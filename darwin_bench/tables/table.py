"""`Table`: every network of a bounded space, pre-evaluated, in one compact ``.npz`` file.

File format ``darwin_bench.table/1`` (documented in ``docs/tabular.md``): a NumPy ``.npz``
archive (zip, deflate-compressed; read with ``numpy.load(path, allow_pickle=False)``) holding

====================  ===========  ============================================================
array                 shape        content
====================  ===========  ============================================================
``meta``              (bytes,)     UTF-8 JSON: format, problem, task spec (data hash), space,
                                   cost settings, epochs, seeds, failure reasons, build record
``genomes``           (A, G)       int64 canonical genome of each architecture (row)
``hashes``            (A,)         ``S64`` architecture content hash (hex)
``seeds``             (A, S)       int64 training seed of each (row, seed index)
``metric:<name>``     (A, S, E)    validation metric after epoch ``e`` (index ``e - 1``)
``test:<name>``       (A, S, E)    test metric after epoch ``e``
``seconds``           (A, S, E)    float32 training seconds of a fit of ``e`` epochs
``failure``           (A, S, E)    uint8: 0 ok, ``i`` = ``meta["reasons"][i - 1]``
``cost:<name>``       (A, S)       float64 cost of the fully trained network
``train_flops``       (A,)         int64 forward + backward FLOPs of one training sample
====================  ===========  ============================================================

Metric arrays are float32 when every value round-trips exactly (accuracies and losses computed
in float32), else float64; a missing value (a failed fit) is NaN. The table's content hash is
:func:`darwin_bench.hashing.data_hash` of the meta record, the array names in order, then the
arrays in that order.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from darwin_bench.hashing import data_hash

FORMAT = "darwin_bench.table/1"

#: Where the packaged tables live; a table is named by its file stem (``digits-mlp``).
PACKAGED = Path(__file__).resolve().parent / "data"


@dataclass
class Table:
    """A loaded table (see the module docstring for the layout).

    Attributes:
        meta: the JSON metadata.
        arrays: every array of the file by name (``meta`` excluded).
        path: the file it was read from, if any.
    """

    meta: dict[str, Any]
    arrays: dict[str, np.ndarray]
    path: Path | None = None
    _rows: dict[str, int] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ shape
    @property
    def genomes(self) -> np.ndarray:
        """Canonical genomes, one row per architecture."""
        return self.arrays["genomes"]

    @property
    def seeds(self) -> np.ndarray:
        """Training seeds, ``(architectures, seeds)``."""
        return self.arrays["seeds"]

    @property
    def num_architectures(self) -> int:
        """Rows of the table."""
        return int(self.genomes.shape[0])

    @property
    def num_seeds(self) -> int:
        """Training seeds per architecture."""
        return int(self.seeds.shape[1])

    @property
    def max_epochs(self) -> int:
        """The largest fidelity: every ``epochs`` from 1 to this is a lookup."""
        return int(self.meta["epochs"])

    @property
    def metric_names(self) -> list[str]:
        """Validation metric names (``accuracy``, ``val_loss``, ...)."""
        return sorted(k.split(":", 1)[1] for k in self.arrays if k.startswith("metric:"))

    @property
    def test_metric_names(self) -> list[str]:
        """Test metric names (``test_accuracy``, ...)."""
        return sorted(k.split(":", 1)[1] for k in self.arrays if k.startswith("test:"))

    @property
    def cost_names(self) -> list[str]:
        """Cost names, as in ``info["costs"]``."""
        return sorted(k.split(":", 1)[1] for k in self.arrays if k.startswith("cost:"))

    @cached_property
    def content_hash(self) -> str:
        """SHA-256 of the table's content (meta included), as run logs record it."""
        names = sorted(self.arrays)
        return data_hash(self.meta, names, *(self.arrays[n] for n in names))

    def row(self, architecture_hash: str) -> int:
        """The row of an architecture.

        Raises:
            KeyError: when the architecture is not in the table.
        """
        if not self._rows:
            hashes = self.arrays["hashes"]
            self._rows.update((h.decode("ascii"), i) for i, h in enumerate(hashes))
        return self._rows[architecture_hash]

    def reason(self, code: int) -> str:
        """The failure reason of a nonzero ``failure`` code."""
        return str(self.meta["reasons"][int(code) - 1])

    # ------------------------------------------------------------------- files
    def save(self, path: str | Path) -> Path:
        """Write the table to ``path`` atomically (a temporary file, then a rename)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        meta = np.frombuffer(_meta_bytes(self.meta), dtype=np.uint8)
        with tmp.open("wb") as f:
            members: dict[str, Any] = {"meta": meta, **self.arrays}
            np.savez_compressed(f, **members)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> Table:
        """Read a table file.

        Raises:
            ValueError: when the file is not a darwin_bench table of a known format.
        """
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {name: data[name] for name in data.files}
        except (OSError, ValueError) as exc:
            raise ValueError(f"table: {path} is not a readable .npz table ({exc})") from None
        if "meta" not in arrays:
            raise ValueError(f"table: {path} has no meta record")
        meta = json.loads(arrays.pop("meta").tobytes().decode("utf-8"))
        if meta.get("format") != FORMAT:
            raise ValueError(
                f"table: {path} has format {meta.get('format')!r}; this darwin_bench reads "
                f"{FORMAT!r}"
            )
        return cls(meta, arrays, path)


def _meta_bytes(meta: Mapping[str, Any]) -> bytes:
    return json.dumps(meta, sort_keys=True, separators=(",", ":")).encode("utf-8")


def packaged_tables() -> list[str]:
    """Names of the tables shipped with the package."""
    return sorted(p.stem for p in PACKAGED.glob("*.npz"))


def table_path(name_or_path: str | Path) -> Path:
    """Resolve a packaged table name (``"digits-mlp"``) or a file path.

    Raises:
        ValueError: when it is neither (the packaged names are listed).
    """
    path = Path(name_or_path)
    if path.suffix == ".npz" or path.exists():
        if not path.exists():
            raise ValueError(f"table: no file {path}")
        return path
    packaged = PACKAGED / f"{name_or_path}.npz"
    if packaged.exists():
        return packaged
    raise ValueError(
        f"table must be a packaged table ({', '.join(packaged_tables()) or 'none built'}) or a "
        f".npz file; got {str(name_or_path)!r}"
    )


_LOADED: dict[tuple[str, int, int], Table] = {}


def load_table(name_or_path: str | Path) -> Table:
    """Load a table once per process (by path, size and modification time) and share it."""
    path = table_path(name_or_path).resolve()
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _LOADED:
        _LOADED[key] = Table.load(path)
    return _LOADED[key]
