"""`Store`: the leaderboard's database (any SQLAlchemy URL; a SQLite file by default).

The default database is ``leaderboard.sqlite`` in the user's data directory
(``platformdirs.user_data_dir("darwin-bench")``), or the URL in the environment variable
``DARWIN_BENCH_LEADERBOARD_DB``. Its schema is created and changed only by the migrations in
``leaderboard/store/migrations`` (Alembic): opening a new, empty database applies them; opening
a database made by an older version is refused with the command that upgrades it
(``darwin-bench leaderboard migrate``), so that nothing is rewritten behind the user's back.
Every query is parameterized by SQLAlchemy: names are stored exactly as given.
"""

from __future__ import annotations

import datetime as dt
import gzip
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, func, inspect, select
from sqlalchemy.exc import ArgumentError, IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from leaderboard.ranking import EntryRuns, RunScores
from leaderboard.report import Report
from leaderboard.store.models import EntryRow, RunRow
from leaderboard.submission import Submission

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: Environment variable naming the default database URL.
URL_VARIABLE = "DARWIN_BENCH_LEADERBOARD_DB"


def default_url() -> str:
    """The default database: ``$DARWIN_BENCH_LEADERBOARD_DB``, else a SQLite file in the user's
    data directory."""
    if os.environ.get(URL_VARIABLE):
        return os.environ[URL_VARIABLE]
    import platformdirs

    folder = Path(platformdirs.user_data_dir("darwin-bench", appauthor=False))
    return f"sqlite:///{folder / 'leaderboard.sqlite'}"


def _alembic(connection: Any = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration of this version."""
    head = ScriptDirectory.from_config(_alembic()).get_current_head()
    assert head is not None
    return head


def _engine(url: str) -> Engine:
    try:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).expanduser().parent.mkdir(
                parents=True, exist_ok=True
            )
            return create_engine(url, connect_args={"check_same_thread": False})
        return create_engine(url)
    except (ArgumentError, ImportError) as exc:
        raise ValueError(f"db: {url!r} is not a usable SQLAlchemy URL ({exc})") from None


def migrate(url: str | None = None) -> str:
    """Upgrade the database at ``url`` to this version's schema; returns the revision."""
    engine = _engine(url or default_url())
    with engine.begin() as connection:
        command.upgrade(_alembic(connection), "head")
    engine.dispose()
    return head_revision()


class DuplicateSubmission(ValueError):
    """The same results are already on the board."""

    def __init__(self, entry_id: int) -> None:
        super().__init__(f"duplicate: these results are already entry #{entry_id}")
        self.entry_id = entry_id


@dataclass
class StoredEntry:
    """An entry as the pages show it."""

    id: int
    track: str
    agent: str
    version: str
    config: dict[str, Any]
    reference: bool
    content_hash: str
    submitted: dt.datetime
    report: Report
    source_name: str | None
    source: str | None
    runs: list[RunScores] = field(default_factory=list)
    run_names: list[str] = field(default_factory=list)


class Store:
    """The leaderboard database.

    Args:
        url: a SQLAlchemy URL (default: :func:`default_url`).

    Raises:
        ValueError: for an unusable URL, a database of another program, or one whose schema is
            older than this version's (with the command that upgrades it).
    """

    def __init__(self, url: str | None = None) -> None:
        self.url = url or default_url()
        self.engine = _engine(self.url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.created = self._prepare()

    def _prepare(self) -> bool:
        """Create a new database's schema (True), or check an existing one's (False)."""
        with self.engine.begin() as connection:
            revision = MigrationContext.configure(connection).get_current_revision()
            tables = set(inspect(connection).get_table_names())
            if revision is None and not tables:
                command.upgrade(_alembic(connection), "head")
                return True
        head = head_revision()
        if revision is None:
            raise ValueError(
                f"db: {self.url} holds tables but no leaderboard schema version: not a "
                "darwin_bench leaderboard database"
            )
        if revision != head:
            raise ValueError(
                f"db: {self.url} has schema revision {revision}; this version needs {head}: run "
                f"`darwin-bench leaderboard migrate --db {self.url}`"
            )
        return False

    def session(self) -> Session:
        """A new session."""
        return self._sessions()

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    # --------------------------------------------------------------------- writes
    def find(self, content_hash: str) -> int | None:
        """The entry holding these results, if any."""
        with self.session() as s:
            return s.scalar(select(EntryRow.id).where(EntryRow.content_hash == content_hash))

    def add(
        self,
        submission: Submission,
        report: Report,
        content_hash: str,
        runs: list[tuple[str, RunScores]],
        *,
        reference: bool = False,
    ) -> int:
        """Store an accepted submission; returns its entry id.

        Args:
            submission: the submission (its files are kept).
            report: its verification report.
            content_hash: its identity (:func:`leaderboard.verify.content_hash`).
            runs: ``(file name, scores)`` of each run.
            reference: an entry the project produced (a built-in agent's reference run).

        Raises:
            DuplicateSubmission: when the same results are already stored.
        """
        texts = {r.name: r.text for r in submission.runs}
        row = EntryRow(
            track=submission.track,
            agent=submission.agent.name,
            version=submission.agent.version,
            config=submission.agent.config,
            reference=reference,
            content_hash=content_hash,
            source_name=submission.source.name if submission.source else None,
            source=submission.source.text if submission.source else None,
            submitted=dt.datetime.now(dt.timezone.utc),
            report=report.to_dict(),
            runs=[
                RunRow(
                    seed=scores.seed,
                    name=name,
                    log=gzip.compress(texts[name].encode("utf-8"), mtime=0),
                    scores=scores.to_dict(),
                )
                for name, scores in runs
            ],
        )
        with self.session() as s:
            s.add(row)
            try:
                s.commit()
            except IntegrityError:
                s.rollback()
                existing = self.find(content_hash)
                if existing is None:
                    raise
                raise DuplicateSubmission(existing) from None
            return int(row.id)

    # ---------------------------------------------------------------------- reads
    def counts(self) -> dict[str, int]:
        """Entries per track."""
        with self.session() as s:
            rows = s.execute(select(EntryRow.track, func.count()).group_by(EntryRow.track))
            return {str(track): int(n) for track, n in rows}

    def standings_input(self, track: str) -> list[EntryRuns]:
        """Every entry of ``track`` with its runs' scores (what :func:`ranking.rank` takes)."""
        with self.session() as s:
            rows = s.scalars(
                select(EntryRow)
                .where(EntryRow.track == track)
                .options(selectinload(EntryRow.runs))
                .order_by(EntryRow.id)
            ).all()
            return [
                EntryRuns(
                    entry_id=row.id,
                    agent=row.agent,
                    version=row.version,
                    reference=row.reference,
                    runs=[RunScores.from_dict(r.scores) for r in row.runs],
                )
                for row in rows
            ]

    def entry(self, entry_id: int) -> StoredEntry | None:
        """One entry with its report and runs, or ``None``."""
        with self.session() as s:
            row = s.get(EntryRow, entry_id, options=[selectinload(EntryRow.runs)])
            if row is None:
                return None
            return StoredEntry(
                id=row.id,
                track=row.track,
                agent=row.agent,
                version=row.version,
                config=dict(row.config),
                reference=row.reference,
                content_hash=row.content_hash,
                submitted=row.submitted,
                report=Report.from_dict(row.report),
                source_name=row.source_name,
                source=row.source,
                runs=[RunScores.from_dict(r.scores) for r in row.runs],
                run_names=[r.name for r in row.runs],
            )

    def run_log(self, entry_id: int, name: str) -> str | None:
        """The text of one stored run log."""
        with self.session() as s:
            log = s.scalar(
                select(RunRow.log).where(RunRow.entry_id == entry_id, RunRow.name == name)
            )
            return None if log is None else gzip.decompress(log).decode("utf-8")
