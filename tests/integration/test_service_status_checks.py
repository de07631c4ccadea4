"""The database refuses a large-waste booking or broadcast status no code knows (migration
0014), on SQLite and on PostgreSQL, and adding the checks keeps every booking's contact."""

import pytest
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.exc import IntegrityError, StatementError

from bot import migrate
from bot.config import Config
from bot.db import make_engine, make_session_factory
from handlers.disaster.tables import Broadcast, BroadcastStatus
from handlers.large_waste.tables import BookingStatus, LargeWasteBooking

COLUMNS = {"large_waste_bookings": "cancelled", "broadcasts": "rejected"}  # table -> a known status to set


def seed(conn, booking_status: str = "booked") -> None:
    """A resident's booking with its contact, and a broadcast waiting for approval, written
    as SQL: the schema under test may be older than the models."""
    at = "2026-12-01 00:00:00"
    for statement in [
        f"INSERT INTO residents (id, line_user_id, language, following, created_at, last_seen_at, tester) "
        f"VALUES (1, 'U1', 'ja', true, '{at}', '{at}', false)",
        f"INSERT INTO large_waste_bookings (id, number, resident_id, area, date, place, items, total_fee, status, "
        f"created_at, request_key) VALUES (1, 'LW-2026-000001', 1, 'north', '2026-12-10', '自宅前', '[]', 400, "
        f"'{booking_status}', '{at}', 'k1')",
        "INSERT INTO large_waste_contacts (booking_id, name, address, phone) VALUES (1, '山田', '1-2-3', '0312345678')",
        f"INSERT INTO broadcasts (id, form_key, template, texts, target, districts, training, status, audience, "
        f"created_by, created_at) VALUES (1, 'f1', 'evacuate', '{{}}', 'all', '[]', false, 'pending', 0, 'sato', '{at}')",
    ]:
        conn.execute(text(statement))


@pytest.mark.parametrize("table", sorted(COLUMNS))
def test_the_database_refuses_an_unknown_status(database_url, table):
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            seed(conn)
        with pytest.raises(IntegrityError, match="(?i)check"):
            with engine.begin() as conn:
                conn.execute(text(f"UPDATE {table} SET status = 'collected'"))
        with engine.begin() as conn:  # a known status is still fine
            conn.execute(text(f"UPDATE {table} SET status = '{COLUMNS[table]}'"))
    finally:
        engine.dispose()


def test_the_models_refuse_an_unknown_status_and_load_members(database_url):
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    try:
        with sessions() as session:
            seed(session.connection())
            session.commit()
            booking = session.scalars(select(LargeWasteBooking)).one()
            broadcast = session.scalars(select(Broadcast)).one()
            assert booking.status is BookingStatus.BOOKED and broadcast.status is BroadcastStatus.PENDING
            booking.status = "collected"
            with pytest.raises(StatementError, match="not a valid BookingStatus"):
                session.commit()
    finally:
        engine.dispose()


def test_adding_the_checks_keeps_every_contact_and_refuses_unknown_values(tmp_path):
    config = Config(env="test", database_url=f"sqlite:///{tmp_path / 'c.sqlite3'}", instance_dir=str(tmp_path))
    migrate.upgrade(config, "0013")
    engine = create_engine(config.database_url)
    with engine.begin() as conn:
        seed(conn, booking_status="collected")
    with pytest.raises(RuntimeError, match=r"large_waste_bookings.status = 'collected' \(1 rows\)"):
        migrate.upgrade(config)
    with engine.begin() as conn:
        conn.execute(text("UPDATE large_waste_bookings SET status = 'booked'"))
    migrate.upgrade(config)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM large_waste_contacts")).scalar() == 1
        assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
        assert {c["name"] for c in inspect(conn).get_check_constraints("broadcasts")} == {"ck_broadcasts_status"}
    migrate.downgrade(config, "0013")
    with engine.connect() as conn:
        assert inspect(conn).get_check_constraints("large_waste_bookings") == []
        assert conn.execute(text("SELECT COUNT(*) FROM large_waste_contacts")).scalar() == 1
    engine.dispose()


def test_the_migrated_checks_are_the_models(database_url):
    engine = create_engine(database_url)
    with engine.connect() as conn:
        found = {(t, c["name"]) for t in COLUMNS for c in inspect(conn).get_check_constraints(t)}
    engine.dispose()
    assert found == {(t, f"ck_{t}_status") for t in COLUMNS}
