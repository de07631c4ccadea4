"""The database refuses a status no code knows (CHECK constraints, migration 0013), on
SQLite and on PostgreSQL, and adding them keeps every row."""

from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.exc import IntegrityError, StatementError

from bot import migrate
from bot.config import Config
from bot.db import make_engine, make_session_factory
from bot.models import InboxEvent, InboxStatus

NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)
KNOWN = {"inbox_events": "failed", "push_batches": "failed", "reports": "done", "report_updates": "done"}
STATUS_COLUMNS = [("inbox_events", "status"), ("push_batches", "status"), ("reports", "status"),
                  ("report_updates", "status_from"), ("report_updates", "status_to")]


def seed(conn, inbox_status: str = "pending") -> None:
    """A resident with a report, its photo and its history, an inbox event and a push batch,
    written as SQL: the schema under test may be older than the models."""
    at = "2026-12-01 00:00:00"
    statements = [
        f"INSERT INTO residents (id, line_user_id, language, following, created_at, last_seen_at, tester) "
        f"VALUES (1, 'U1', 'ja', true, '{at}', '{at}', false)",
        f"INSERT INTO reports (id, number, kind, status, resident_id, created_at, updated_at, request_key) "
        f"VALUES (1, 'R-2026-000001', 'road', 'in_progress', 1, '{at}', '{at}', 'k1')",
        f"INSERT INTO report_photos (id, report_id, data, width, height, created_at) VALUES (1, 1, 'x', 1, 1, '{at}')",
        f"INSERT INTO report_updates (id, report_id, at, actor, status_from, status_to) "
        f"VALUES (1, 1, '{at}', 'sato', 'received', 'in_progress')",
        f"INSERT INTO inbox_events (id, webhook_event_id, event_type, occurred_at, received_at, redelivery, status, "
        f"attempts) VALUES (1, 'e1', 'message', '{at}', '{at}', false, '{inbox_status}', 0)",
        f"INSERT INTO pushes (id, source_key, kind, urgent, messages, created_at, recipients_total, sent_count, "
        f"failed_count) VALUES (1, 'p1', 'notice', false, '{{}}', '{at}', 0, 0, 0)",
        f"INSERT INTO push_batches (id, push_id, language, batch_no, urgent, status, recipient_count, attempts, "
        f"next_attempt_at) VALUES (1, 1, 'ja', 0, false, 'sent', 0, 1, '{at}')",
    ]
    for statement in statements:
        conn.execute(text(statement))


@pytest.mark.parametrize("table, column", STATUS_COLUMNS)
def test_the_database_refuses_an_unknown_status(database_url, table, column):
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            seed(conn)
        with pytest.raises(IntegrityError, match="(?i)check"):
            with engine.begin() as conn:
                conn.execute(text(f"UPDATE {table} SET {column} = 'deliverd'"))
        with engine.connect() as conn:  # nothing changed, and a known status is still fine
            assert conn.execute(text(f"SELECT COUNT(*) FROM {table} WHERE {column} = 'deliverd'")).scalar() == 0
        with engine.begin() as conn:
            conn.execute(text(f"UPDATE {table} SET {column} = '{KNOWN[table]}'"))
    finally:
        engine.dispose()


def test_the_models_refuse_an_unknown_status_before_the_database_does(database_url):
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    try:
        with sessions() as session:
            session.add(InboxEvent(webhook_event_id="e2", event_type="message", occurred_at=NOW, received_at=NOW,
                                   status="answerd", attempts=0))
            with pytest.raises(StatementError, match="not a valid InboxStatus"):
                session.commit()
        with sessions() as session:
            session.add(InboxEvent(webhook_event_id="e3", event_type="message", occurred_at=NOW, received_at=NOW,
                                   attempts=0))
            session.commit()
            assert session.scalars(select(InboxEvent)).one().status is InboxStatus.PENDING
    finally:
        engine.dispose()


def test_adding_the_checks_keeps_every_row_and_refuses_unknown_values(tmp_path):
    """On SQLite the tables are copied; the copy of `reports` must not take its photos and
    history with it (foreign keys cascade on DROP TABLE), and a row the checks would refuse
    stops the upgrade, saying where."""
    config = Config(env="test", database_url=f"sqlite:///{tmp_path / 'c.sqlite3'}", instance_dir=str(tmp_path))
    migrate.upgrade(config, "0012")
    engine = create_engine(config.database_url)
    with engine.begin() as conn:
        seed(conn, inbox_status="answerd")
    with pytest.raises(RuntimeError, match=r"inbox_events.status = 'answerd' \(1 rows\)"):
        migrate.upgrade(config)
    with engine.begin() as conn:
        conn.execute(text("UPDATE inbox_events SET status = 'answered'"))
    migrate.upgrade(config)
    with engine.connect() as conn:
        counts = {t: conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar()
                  for t in ("reports", "report_photos", "report_updates", "inbox_events", "push_batches")}
        checks = {t: {c["name"] for c in inspect(conn).get_check_constraints(t)} for t, _ in STATUS_COLUMNS}
        assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
    assert counts == {"reports": 1, "report_photos": 1, "report_updates": 1, "inbox_events": 1, "push_batches": 1}
    assert checks["report_updates"] == {"ck_report_updates_status_from", "ck_report_updates_status_to"}
    assert checks["inbox_events"] == {"ck_inbox_events_status"}
    migrate.downgrade(config, "0012")
    with engine.connect() as conn:
        assert inspect(conn).get_check_constraints("reports") == []
        assert conn.execute(text("SELECT COUNT(*) FROM report_photos")).scalar() == 1
    engine.dispose()


def test_the_migrated_checks_are_the_models(database_url):
    """compare_metadata (test_migrations) does not compare CHECK constraints: this does."""
    engine = create_engine(database_url)
    with engine.connect() as conn:
        found = {(t, c["name"]) for t in {t for t, _ in STATUS_COLUMNS} for c in inspect(conn).get_check_constraints(t)}
    engine.dispose()
    assert found == {(t, f"ck_{t}_{c}") for t, c in STATUS_COLUMNS}
