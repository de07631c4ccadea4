"""Alembic environment: the URL comes from citybot's Config, never from alembic.ini."""

from alembic import context

from bot.db import Base
from bot import models  # noqa: F401 - registers the tables on Base.metadata
from bot.admin import models as admin_models  # noqa: F401 - staff users, audit log, login attempts
from handlers.disaster import tables as disaster_tables  # noqa: F401 - the desk's incidents and broadcasts
from handlers.reports import tables as report_tables  # noqa: F401 - reports (通報), their photos and updates
from handlers.faq import tables as faq_tables  # noqa: F401 - questions the FAQ could not answer, feedback
from handlers.childcare import tables as childcare_tables  # noqa: F401 - nursery places seen, follows
from handlers.garbage import tables as garbage_tables  # noqa: F401 - the resident's collection area
from handlers.large_waste import tables as large_waste_tables  # noqa: F401 - the large-waste booking tables
from bot import heartbeat  # noqa: F401 - worker and clock heartbeats

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
