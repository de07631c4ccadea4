"""Importers: a city's published open data -> content files staff can then edit.

Shared CSV reading (encodings, line numbers, headers by name, problem reports) is in
bot.importers.csvfiles; a service's own importers live in its package and add their
commands to this group from its commands.py (handlers/<service>/commands.py), with the
helpers here to report problems and refusals the same way.

Every command refuses to write (exit 1, saying what would be lost) a file that was not
read whole or that would keep fewer than IMPORT_MIN_SHARE of the current entries,
unless --force; sources over IMPORT_MAX_MB are never read (bot.importers.safety).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click


def register_import_commands(main_group: click.Group) -> None:
    """Add `citybot import ...` to the command line."""

    @main_group.group("import")
    def import_group() -> None:
        """Import a city's open data into content files."""



FORCE_HELP = ("write even when the file was not read whole (bad quoting, a column missing) or would keep "
              "fewer than IMPORT_MIN_SHARE of the current entries")


def _limits(ctx: click.Context, force: bool):
    """Size limit and shrink share from the configuration, with the command's --force."""
    from .safety import Limits

    return Limits.of(_config_of(ctx), force)


def _refused(exc, file_order: tuple[str, ...]):
    """What was read, then what would be lost; exit 1."""
    if exc.report is not None:
        _print_problems(exc.report, file_order)
    if exc.summary:
        click.echo(f"{exc.summary}: nothing written")
    for line in exc.lines():
        click.echo(line, err=True)
    sys.exit(1)


def _unread(exc, name: str | None = None):
    """A source that cannot be read at all (too large, a runaway field, not text)."""
    where = f"{name}:{exc.line}: " if name and exc.line else f"{name}: " if name else ""
    click.echo(f"{where}cannot be read: {exc}", err=True)
    click.echo("nothing written")
    sys.exit(1)


def _content_dir(ctx: click.Context) -> Path:
    """The content folder of the Config `citybot` put in the context (from the environment
    when the command runs outside it)."""
    config = (ctx.find_object(dict) or {}).get("config")
    if config is None:
        from ..config import Config

        config = Config.from_env()
    return Path(config.content_dir)


def _today(ctx: click.Context):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(_config_of(ctx).timezone)).date()


def _config_of(ctx: click.Context):
    """The Config the main command put in the context (from the environment otherwise)."""
    obj = ctx.find_object(dict) or {}
    if obj.get("config") is None:
        from ..config import Config

        try:
            obj["config"] = Config.from_env()
        except ValueError as exc:
            raise click.ClickException(f"configuration: {exc}") from None
    return obj["config"]


def _fail(exc, file_order: tuple[str, ...]):
    if exc.conversion is not None:
        _print_problems(exc.conversion.report, file_order)
        click.echo(exc.conversion.summary + ": nothing written")
    click.echo(f"import failed: {exc}", err=True)
    sys.exit(1)


def _print_problems(report, file_order: tuple[str, ...]) -> None:
    for line in report.lines(file_order):
        click.echo(line, err=True)


def _content_left_behind(ctx: click.Context, root: Path) -> None:
    """After an import into a content folder, what the rest of it still says about the data
    the import replaced (large-waste rules naming the sample's areas, say), as file:line with
    the fix, so the folder passes `citybot content check` before anyone starts the bot."""
    if not (root / "messages.yaml").is_file():
        return  # written somewhere else than a content folder: nothing to compare with
    from ..bootstrap import build_router, content_schema
    from ..content.store import ContentError, load_content

    try:
        load_content(root, content_schema(build_router(_config_of(ctx))))
    except ContentError as exc:
        click.echo(f"the content folder {root} does not pass `citybot content check` yet "
                   f"({len(exc.problems)} problem(s)); fix these before starting the bot:")
        for problem in exc.problems:
            click.echo(f"  {root / problem.file}:{problem.line}: {problem.message}")
        return
    click.echo(f"the content folder {root} passes `citybot content check`")
