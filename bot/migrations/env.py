"""Alembic environment: the URL comes from citybot's Config, never from alembic.ini."""

import importlib
import pkgutil
from pathlib import Path

from alembic import context

from bot.db import Base
from bot import models  # noqa: F401 - registers the tables on Base.metadata
from bot.admin import models as admin_models  # noqa: F401 - staff users, audit log, login attempts
from bot import heartbeat  # noqa: F401 - worker and clock heartbeats
import handlers

# Every service package's tables.py (the desk's incidents and broadcasts, reports, the FAQ's
# unanswered questions, nursery places, the resident's collection area, large-waste
# bookings, ...), found rather than named: a service whose folder was removed leaves its
# tables in the history (one Alembic history) but must not stop `db upgrade`.
for _service in pkgutil.iter_modules(handlers.__path__):
    if _service.ispkg and any(m.name == "tables" for m in pkgutil.iter_modules(
            [str(Path(handlers.__path__[0]) / _service.name)])):
        importlib.import_module(f"handlers.{_service.name}.tables")

config = context.config
target_metadata = Base.metadata


def run_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is None:
        from bot.db import make_engine

        engine = make_engine(config.get_main_option("sqlalchemy.url"))
        with engine.connect() as connection:
            _run(connection)
        engine.dispose()
    else:
        _run(connectable)


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
