"""Content-addressed caches of evaluations: in memory, or in a SQLite file shared by runs."""

from __future__ import annotations

import itertools
import json
import sqlite3
import threading
import time
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

    Several processes may read and write one file at once: it is put in SQLite's
    write-ahead-log mode (readers never block the writer) and a writer waits up to
    ``timeout`` seconds for another's transaction instead of failing. Each ``put`` is one
    committed transaction, so a process killed at any point loses at most the record it was
    writing, and never corrupts the others'.

    Args:
        path: the database file (created with its table when missing).
        timeout: seconds a write waits for another process's lock.

    Raises:
        ValueError: naming ``cache_path`` when the file cannot be created or opened, or is
            not a SQLite database.
    """

    def __init__(self, path: str | Path, timeout: float = 60.0) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path, timeout=timeout, check_same_thread=False)
            self._setup()
        except (OSError, sqlite3.Error) as exc:
            reason: object = exc
            if isinstance(exc, FileExistsError):
                reason = f"{self.path.parent} is a file, not a folder"
            elif isinstance(exc, OSError) and exc.strerror:
                reason = exc.strerror
            raise ValueError(
                f"cache_path {str(path)!r} cannot be used as a cache: {reason}"
            ) from None

    def _setup(self) -> None:
        """WAL mode and the table; retried while another process holds the file's lock."""
        for attempt in itertools.count():
            try:
                self._conn.execute("PRAGMA journal_mode=WAL")
                with self._conn:
                    self._conn.execute(
                        "CREATE TABLE IF NOT EXISTS evaluations "
                        "(id TEXT PRIMARY KEY, record TEXT NOT NULL)"
                    )
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt >= 20:
                    raise
                time.sleep(0.05 * (attempt + 1))

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

    def keys(self) -> list[str]:
        """Every stored evaluation id."""
        with self._lock:
            return [row[0] for row in self._conn.execute("SELECT id FROM evaluations")]

    def __len__(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM evaluations").fetchone()[0])

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()
