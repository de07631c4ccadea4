"""Schema migrations with Alembic, driven from citybot's own config (`citybot db ...`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig

from .config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(config: Config) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", config.sqlalchemy_url.replace("%", "%%"))
    return cfg


def upgrade(config: Config, revision: str = "head") -> None:
    if config.sqlalchemy_url.startswith("sqlite"):
        Path(config.instance_dir).mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(config), revision)


def downgrade(config: Config, revision: str) -> None:
    command.downgrade(alembic_config(config), revision)


def revision(config: Config, message: str) -> None:
    command.revision(alembic_config(config), message=message, autogenerate=True)
