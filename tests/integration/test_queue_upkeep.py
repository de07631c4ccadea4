"""On PostgreSQL every answered event leaves dead row versions in the queue tables, which
each claim reads past until a VACUUM; a worker's sweep vacuums them once they churn, so the
claims stay cheap whether autovacuum is off (as on CI's database) or late (a burst)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text


def stats(services) -> dict[str, tuple[int, object]]:
    with services.engine.connect() as conn:
        rows = conn.execute(text("SELECT relname, n_dead_tup, last_vacuum FROM pg_stat_user_tables "
                                 "WHERE relname IN ('inbox_events', 'webhook_bodies')")).all()
    return {name: (dead, vacuumed) for name, dead, vacuumed in rows}


def test_a_sweep_vacuums_the_queue_tables_once_they_churn(chat, services, database_url, monkeypatch):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite keeps no dead row versions to read past")
    hana = chat.resident()
    for typed in ("ヘルプ", "メニュー", "ヘルプ"):
        hana.says(typed)
    deadline = time.monotonic() + 15  # PostgreSQL counts them once a connection reports (idle, within a second)
    while not all(dead >= 3 for dead, _ in stats(services).values()) and time.monotonic() < deadline:
        time.sleep(0.2)
    before = stats(services)
    assert all(dead >= 3 for dead, _ in before.values()), before

    services.dispatcher.sweep()  # QUEUE_VACUUM_DEAD_ROWS 2000: not yet
    assert all(vacuumed is None for _, vacuumed in stats(services).values())

    monkeypatch.setattr(services, "config", services.config.with_(queue_vacuum_dead_rows=3))
    services.dispatcher.sweep()
    after = stats(services)
    assert {name: dead for name, (dead, _) in after.items()} == {"inbox_events": 0, "webhook_bodies": 0}
    assert all(vacuumed is not None for _, vacuumed in after.values())
    assert hana.says("ヘルプ")  # and the bot answers as before
