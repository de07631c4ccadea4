"""`citybot bookings export --date YYYY-MM-DD`: a collection day's large-waste pickups, for the crews."""

from __future__ import annotations

import sys
from datetime import datetime

import click


def register(main: click.Group) -> None:
    """Add `citybot bookings ...` to the command line."""

    @main.group("bookings")
    def bookings_group() -> None:
        """Large-waste pickups residents booked in the chat."""

    @bookings_group.command("export")
    @click.option("--date", "day", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
                  help="collection day, YYYY-MM-DD")
    @click.option("--area", default=None, help="one collection area id (default: every area)")
    @click.option("--format", "fmt", type=click.Choice(["csv"]), default="csv", show_default=True)
    @click.pass_context
    def export(ctx: click.Context, day: datetime, area: str | None, fmt: str) -> None:
        """The bookings of one collection day, for the crews: with names, addresses and phones
        while they are kept (no LINE user ids)."""
        from bot.db import make_engine, make_session_factory

        from .domain import export_rows, write_csv

        engine = make_engine(ctx.obj["config"].sqlalchemy_url)
        try:
            with make_session_factory(engine)() as session:
                write_csv(export_rows(session, day.date(), area), sys.stdout)
        finally:
            engine.dispose()
