"""`citybot db backup FILE` and `citybot db restore FILE`: the database to a file and back.

SQLite: sqlite3's online backup API copies the database page by page under its own lock,
so a backup taken while the bot runs is consistent (a plain `cp` of a WAL database can
miss what is still in the -wal file). Restore uses the same API the other way round, into
the live file, after checking that FILE is a citybot database (it has alembic_version).

PostgreSQL: pg_dump's custom format (`-Fc`) and pg_restore (`--clean --if-exists
--no-owner`), from the postgresql-client package, with the password passed in the
environment, never on the command line.

Restore replaces everything: stop the web, worker and clock processes first, and run
`citybot db upgrade` afterwards if the backup is older than the code.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(Exception):
    pass


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite"):
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(parsed.database)


def backup(url: str, target: Path) -> str:
    """Write the database at `url` to `target`; returns what was done, for the operator."""
    source = sqlite_path(url)
    if source is not None:
        if not source.exists():
            raise BackupError(f"no database at {source}")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        partial.unlink(missing_ok=True)
        with sqlite3.connect(source) as src, sqlite3.connect(partial) as dst:
            src.backup(dst)
        dst.close()
        os.replace(partial, target)  # a crash leaves the old backup, never half a new one
        return f"SQLite {source} -> {target} ({target.stat().st_size} bytes)"
    _pg("pg_dump", url, ["--format=custom", "--no-owner", f"--file={target}"])
    return f"PostgreSQL {make_url(url).database} -> {target} (pg_dump custom format)"


def restore(url: str, source: Path) -> str:
    """Replace the database at `url` with the backup `source`."""
    if not source.is_file():
        raise BackupError(f"no backup file {source}")
    target = sqlite_path(url)
    if target is not None:
        _check_sqlite_backup(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        dst.close()
        return f"SQLite {source} -> {target}"
    _pg("pg_restore", url, ["--clean", "--if-exists", "--no-owner", "--single-transaction", str(source)])
    return f"PostgreSQL {source} -> {make_url(url).database}"


def _check_sqlite_backup(path: Path) -> None:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            version = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a citybot SQLite backup ({exc})") from None
    if version is None:
        raise BackupError(f"{path} is not a citybot SQLite backup (no schema version)")


def _pg(tool: str, url: str, args: list[str]) -> None:
    if shutil.which(tool) is None:
        raise BackupError(f"{tool} is not installed (Debian/Ubuntu: apt-get install postgresql-client)")
    parsed = make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        raise BackupError(f"no backup method for {parsed.drivername} databases")
    env = {**os.environ, "PGPASSWORD": parsed.password or os.environ.get("PGPASSWORD", "")}
    command = [tool, f"--dbname={parsed.database}"]
    if parsed.host:
        command.append(f"--host={parsed.host}")
    if parsed.port:
        command.append(f"--port={parsed.port}")
    if parsed.username:
        command.append(f"--username={parsed.username}")
    done = subprocess.run(command + args, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{tool} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
