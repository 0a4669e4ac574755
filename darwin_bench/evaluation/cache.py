"""Content-addressed caches of evaluations: in memory, or in a SQLite file shared by runs."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Protocol

from darwin_bench.evaluation.record import Evaluation


class EvaluationCache(Protocol):
    """Maps an evaluation id to its record."""

    def get(self, key: str) -> Evaluation | None:
        """Return the stored record or None."""
        ...

    def put(self, evaluation: Evaluation) -> None:
        """Store a record under its ``evaluation_id``."""
        ...

    def __len__(self) -> int: ...


class MemoryCache:
    """A dict-backed cache, private to one process."""

    def __init__(self) -> None:
        self._data: dict[str, dict] = {}

    def get(self, key: str) -> Evaluation | None:
        data = self._data.get(key)
        return Evaluation.from_dict(json.loads(json.dumps(data))) if data is not None else None

    def put(self, evaluation: Evaluation) -> None:
        self._data[evaluation.evaluation_id] = evaluation.to_dict()

    def __len__(self) -> int:
        return len(self._data)


class SQLiteCache:
    """A cache in a SQLite file; safe to share between runs and processes on one machine.

    Args:
        path: the database file (created with its table when missing).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, timeout=30.0, check_same_thread=False)
        with self._conn:
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS evaluations (id TEXT PRIMARY KEY, record TEXT NOT NULL)"
            )

    def get(self, key: str) -> Evaluation | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT record FROM evaluations WHERE id = ?", (key,)
            ).fetchone()
        return Evaluation.from_dict(json.loads(row[0])) if row else None

    def put(self, evaluation: Evaluation) -> None:
        record = json.dumps(evaluation.to_dict(), allow_nan=False)
        with self._lock, self._conn:
            self._conn.execute(
                "INSERT OR REPLACE INTO evaluations (id, record) VALUES (?, ?)",
                (evaluation.evaluation_id, record),
            )

    def __len__(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM evaluations").fetchone()[0])

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()
