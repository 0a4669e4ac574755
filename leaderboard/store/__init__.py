"""The leaderboard's storage: SQLAlchemy tables, Alembic migrations, :class:`Store`."""

from __future__ import annotations

from leaderboard.store.store import (
    DuplicateSubmission,
    Store,
    StoredEntry,
    default_url,
    head_revision,
    migrate,
)

__all__ = [
    "DuplicateSubmission",
    "Store",
    "StoredEntry",
    "default_url",
    "head_revision",
    "migrate",
]
