"""On PostgreSQL every answered event leaves dead row versions in the queue tables, which
each claim reads past until a VACUUM; a worker's sweep vacuums them once they churn, so the
claims stay cheap whether autovacuum is off (as on CI's database) or late (a burst)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text


def stats(services) -> dict[str, tuple[int, int]]:
    """(dead versions, times vacuumed) of each queue table."""
    with services.engine.connect() as conn:
        rows = conn.execute(text("SELECT relname, n_dead_tup, vacuum_count FROM pg_stat_user_tables "
                                 "WHERE schemaname = current_schema() "
                                 "AND relname IN ('inbox_events', 'webhook_bodies')")).all()
    return {name: (dead, vacuums) for name, dead, vacuums in rows}


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
    assert {name: vacuums for name, (_, vacuums) in stats(services).items()} == \
        {name: vacuums for name, (_, vacuums) in before.items()}

    monkeypatch.setattr(services, "config", services.config.with_(queue_vacuum_dead_rows=3))
    services.dispatcher.sweep()
    after = stats(services)
    for name, (dead, vacuums) in after.items():
        assert vacuums == before[name][1] + 1 and dead < before[name][0], (name, before, after)
    services.dispatcher.sweep()  # at most once every half minute per process, however many are left
    assert stats(services)["inbox_events"][1] == after["inbox_events"][1]
    assert hana.says("ヘルプ")  # and the bot answers as before
