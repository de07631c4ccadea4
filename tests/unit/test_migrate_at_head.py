"""`citybot ask` skips Alembic when the database is at head: the scripts' heads, read from their
text, must be Alembic's own, and anything short of head still runs the migrations."""

from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from bot import migrate
from bot.config import Config


def test_the_heads_read_from_the_scripts_are_alembics(tmp_path):
    config = Config(env="test", database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}", instance_dir=str(tmp_path))
    assert migrate.script_heads() == set(ScriptDirectory.from_config(migrate.alembic_config(config)).get_heads())


def test_only_a_database_at_head_skips_the_migrations(tmp_path):
    path = tmp_path / "x.sqlite3"
    config = Config(env="test", database_url=f"sqlite:///{path}", instance_dir=str(tmp_path))
    assert not migrate.at_head(config) and not path.exists()  # asking creates nothing
    migrate.upgrade(config)
    assert migrate.at_head(config)
    migrate.downgrade(config, "-1")
    assert not migrate.at_head(config)
    migrate.upgrade(config)  # not at head: Alembic runs and brings it there
    assert migrate.at_head(config)
    engine = create_engine(config.sqlalchemy_url)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM alembic_version"))
    engine.dispose()
    assert not migrate.at_head(config)
