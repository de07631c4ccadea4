"""Schema migrations with Alembic, driven from citybot's own config (`citybot db ...`)."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import TYPE_CHECKING

from .config import Config

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_REVISION = re.compile(r"^(revision|down_revision)\s*(?::[^=\n]*)?=\s*(.+?)\s*$", re.M)


def alembic_config(config: Config) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", config.sqlalchemy_url.replace("%", "%%"))
    return cfg


def upgrade(config: Config, revision: str = "head") -> None:
    if config.sqlalchemy_url.startswith("sqlite"):
        Path(config.instance_dir).mkdir(parents=True, exist_ok=True)
    if revision == "head" and at_head(config):
        return  # nothing to apply: Alembic and the scripts need not even be loaded (`citybot ask` starts sooner)
    from alembic import command

    command.upgrade(alembic_config(config), revision)


def script_heads() -> set[str] | None:
    """The newest revisions of bot/migrations/versions, read from the scripts' text; None when
    a script is not written the plain way (`revision = '0012'`): then Alembic decides."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted((MIGRATIONS / "versions").glob("[!_]*.py")):
        found = dict(_REVISION.findall(path.read_text(encoding="utf-8")))
        try:
            revision, down = ast.literal_eval(found["revision"]), ast.literal_eval(found["down_revision"])
        except (KeyError, ValueError, SyntaxError):
            return None
        downs = down if isinstance(down, (tuple, list)) else (down,) if down is not None else ()
        if not isinstance(revision, str) or not all(isinstance(d, str) for d in downs):
            return None
        revisions.add(revision)
        parents.update(downs)
    return (revisions - parents) or None


def at_head(config: Config) -> bool:
    """The database already carries exactly the scripts' newest revisions."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.pool import NullPool

    heads = script_heads()
    if heads is None:
        return False
    url = config.sqlalchemy_url
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if not path or path == ":memory:" or not Path(path).is_file():
            return False  # a new database: Alembic creates it
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            current = set(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    except SQLAlchemyError:
        return False
    finally:
        engine.dispose()
    return current == heads


def downgrade(config: Config, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(config), revision)


def revision(config: Config, message: str) -> None:
    from alembic import command

    command.revision(alembic_config(config), message=message, autogenerate=True)
