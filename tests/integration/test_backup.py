"""`citybot db backup FILE` / `citybot db restore FILE`, end to end through the command.

SQLite always (a backup taken while a connection has fresh writes in the WAL still holds
them); PostgreSQL with pg_dump/pg_restore when the suite runs on PostgreSQL, in a scratch
database of its own so the suite's database is never replaced."""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from bot import migrate
from bot.cli import main
from bot.config import Config
from bot.db import make_engine, make_session_factory
from bot.models import Resident

NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)


def citybot(url: str, tmp_path, *args: str, code: int = 0) -> str:
    env = {"DATABASE_URL": url, "CITYBOT_ENV": "test", "CITYBOT_INSTANCE_DIR": str(tmp_path)}
    result = CliRunner().invoke(main, list(args), env=env)
    assert result.exit_code == code, result.output
    return result.output


def residents(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return sorted(session.scalars(select(Resident.line_user_id)))
    finally:
        engine.dispose()


def add_residents(url: str, *user_ids: str) -> None:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            session.add_all(Resident(line_user_id=u, language="ja", following=True, created_at=NOW, last_seen_at=NOW)
                            for u in user_ids)
            session.commit()
    finally:
        engine.dispose()


def test_sqlite_backup_while_running_then_restore(tmp_path):
    url = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    migrate.upgrade(Config(env="test", database_url=url, instance_dir=str(tmp_path)))
    add_residents(url, "U-before-1", "U-before-2")
    # the bot is running: its connection wrote last, and that write is still in the WAL file
    live = sqlite3.connect(tmp_path / "live.sqlite3")
    live.execute("PRAGMA journal_mode=WAL")
    live.execute("INSERT INTO residents (line_user_id, language, following, created_at, last_seen_at, tester) "
                 "VALUES ('U-in-wal', 'ja', 1, '2026-12-01 00:00:00', '2026-12-01 00:00:00', 0)")
    live.commit()
    assert (tmp_path / "live.sqlite3-wal").stat().st_size > 0

    backup_file = tmp_path / "backups" / "citybot-2026-12-01.sqlite3"
    assert "SQLite" in citybot(url, tmp_path, "db", "backup", str(backup_file))
    naive = tmp_path / "naive-copy.sqlite3"  # what `cp` of the main file alone would have kept
    shutil.copyfile(tmp_path / "live.sqlite3", naive)
    live.close()

    add_residents(url, "U-after")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM residents WHERE line_user_id = 'U-before-1'"))
    engine.dispose()
    assert residents(url) == ["U-after", "U-before-2", "U-in-wal"]

    citybot(url, tmp_path, "db", "restore", str(backup_file), "--yes")
    assert residents(url) == ["U-before-1", "U-before-2", "U-in-wal"]
    assert "U-in-wal" not in str(sqlite3.connect(naive).execute("SELECT line_user_id FROM residents").fetchall())
    assert "restored" in citybot(url, tmp_path, "db", "restore", str(backup_file), "--yes")  # twice is fine


def test_restore_refuses_what_is_not_a_citybot_backup_and_asks_first(tmp_path):
    url = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    migrate.upgrade(Config(env="test", database_url=url, instance_dir=str(tmp_path)))
    add_residents(url, "U-kept")
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is not a database at all" * 100)
    assert "not a citybot SQLite backup" in citybot(url, tmp_path, "db", "restore", str(junk), "--yes", code=1)
    other = tmp_path / "other.sqlite3"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    assert "not a citybot SQLite backup" in citybot(url, tmp_path, "db", "restore", str(other), "--yes", code=1)
    backup_file = tmp_path / "good.sqlite3"
    citybot(url, tmp_path, "db", "backup", str(backup_file))
    result = CliRunner().invoke(main, ["db", "restore", str(backup_file)], input="n\n",
                                env={"DATABASE_URL": url, "CITYBOT_ENV": "test"})
    assert result.exit_code == 1 and "Replace everything" in result.output  # answered no: nothing done
    assert residents(url) == ["U-kept"]


@pytest.mark.postgres
def test_postgresql_backup_and_restore_with_pg_dump(tmp_path):
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip("the suite runs on SQLite (DATABASE_URL is not PostgreSQL)")
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.fail("pg_dump/pg_restore missing: apt-get install postgresql-client (the Makefile does)")
    server = make_url(url)
    scratch = f"{server.database}_backup_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{scratch}"'))
    scratch_url = server.set(database=scratch).render_as_string(hide_password=False)
    try:
        migrate.upgrade(Config(env="test", database_url=scratch_url, instance_dir=str(tmp_path)))
        add_residents(scratch_url, "U-pg-1", "U-pg-2")
        dump = tmp_path / "citybot.dump"
        assert "pg_dump" in citybot(scratch_url, tmp_path, "db", "backup", str(dump))
        assert dump.stat().st_size > 0
        add_residents(scratch_url, "U-pg-later")
        engine = create_engine(scratch_url)
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM residents WHERE line_user_id = 'U-pg-1'"))
            conn.execute(text("DROP TABLE process_heartbeats"))  # even a lost table comes back
        engine.dispose()
        citybot(scratch_url, tmp_path, "db", "restore", str(dump), "--yes")
        assert residents(scratch_url) == ["U-pg-1", "U-pg-2"]
        engine = create_engine(scratch_url)
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(text("process_heartbeats"))).scalar() == 0
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        admin.dispose()
