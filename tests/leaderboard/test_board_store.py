"""The store: migrations make the schema, duplicates are refused, names are stored literally."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from leaderboard.board import standings, submit
from leaderboard.store import Store, head_revision, migrate
from leaderboard.store.models import Base
from leaderboard.submission import AgentInfo


def test_migrations_build_exactly_the_models(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'board.sqlite'}"
    store = Store(url)
    assert store.created
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert context.get_current_revision() == head_revision()
        assert compare_metadata(context, Base.metadata) == []
    store.close()
    assert not Store(url).created  # opened again, nothing to do


def test_an_older_schema_is_refused_until_migrated(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    Store(url).close()
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    with pytest.raises(ValueError, match="leaderboard migrate"):
        Store(url)
    with engine.begin() as connection:
        connection.execute(text(f"UPDATE alembic_version SET version_num = '{head_revision()}'"))
    assert migrate(url) == head_revision()
    Store(url).close()


def test_a_foreign_database_is_refused(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'other.sqlite'}"
    with create_engine(url).begin() as connection:
        connection.execute(text("CREATE TABLE notes (x INTEGER)"))
    with pytest.raises(ValueError, match="not a darwin_bench leaderboard database"):
        Store(url)


def test_a_bad_url_is_one_clear_error() -> None:
    with pytest.raises(ValueError, match="db: 'nonsense://' is not a usable SQLAlchemy URL"):
        Store("nonsense://")


def test_submit_stores_ranks_and_refuses_a_duplicate(tmp_path, tiny_live, live_submission) -> None:
    store = Store(f"sqlite:///{tmp_path / 'board.sqlite'}")
    tricky = "Robert'); DROP TABLE entries;-- \" % _ \\"
    named = live_submission.model_copy(
        update={"agent": AgentInfo(name=tricky, version="1' OR '1'='1", config={})}
    )
    outcome = submit(named, store, track=tiny_live, retrain=False)
    assert outcome.entry_id is not None, outcome.report.summary()
    entry = store.entry(outcome.entry_id)
    assert entry is not None
    assert (entry.agent, entry.version) == (tricky, "1' OR '1'='1")  # stored literally
    assert len(entry.runs) == 5 and entry.run_names[0] == live_submission.runs[0].name
    assert store.run_log(entry.id, entry.run_names[0]) == live_submission.runs[0].text

    again = submit(
        live_submission.model_copy(update={"agent": AgentInfo(name="copy", version="2")}),
        store,
        track=tiny_live,
        retrain=False,
    )
    assert again.entry_id is None
    rejection = again.report.rejections[0]
    assert (rejection.check, rejection.field) == ("duplicate", "content_hash")
    assert f"entry #{outcome.entry_id}" in rejection.message
    names = [c.name for c in again.report.checks]
    after = again.report.checks[names.index("duplicate") + 1 :]
    assert after and all(c.status == "skipped" for c in after)  # nothing re-run

    (standing,) = standings(store, tiny_live)
    assert standing.entry.agent == tricky and standing.rank == 1 and not standing.tied
    assert standing.final_reward.iqm.estimate is not None
    assert store.counts() == {"tiny-live": 1}
