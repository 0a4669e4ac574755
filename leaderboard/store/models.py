"""The leaderboard's tables (SQLAlchemy ORM). Changing them needs a migration in
``leaderboard/store/migrations/versions`` (the schema test compares the two)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    """Declarative base of the leaderboard's tables."""


class EntryRow(Base):
    """One accepted submission: an agent's runs on a track."""

    __tablename__ = "entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    track: Mapped[str] = mapped_column(String(64), index=True)
    agent: Mapped[str] = mapped_column(String(100))
    version: Mapped[str] = mapped_column(String(100))
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    reference: Mapped[bool] = mapped_column(Boolean, default=False)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    source_name: Mapped[str | None] = mapped_column(String(128), nullable=True)
    source: Mapped[str | None] = mapped_column(Text, nullable=True)
    submitted: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    runs: Mapped[list[RunRow]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", order_by="RunRow.seed"
    )


class RunRow(Base):
    """One run of an entry: its log (gzip-compressed JSON Lines) and its numbers."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), index=True)
    seed: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    log: Mapped[bytes] = mapped_column(LargeBinary)
    scores: Mapped[dict[str, Any]] = mapped_column(JSON)
    entry: Mapped[EntryRow] = relationship(back_populates="runs")
