"""The migrations build exactly the tables the models describe (SQLite and PostgreSQL)."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

import re
from pathlib import Path

from bot.db import Base

ENV = Path(__file__).resolve().parents[2] / "bot" / "migrations" / "env.py"
for line in ENV.read_text(encoding="utf-8").splitlines():  # the table modules alembic's env imports
    if re.match(r"from (bot|handlers)[. ].*import", line) and "bot.db" not in line:
        exec(line.split("#")[0])


def test_models_and_migrations_agree(database_url):
    engine = create_engine(database_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False, "render_as_batch": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []
