"""Importers: a city's published open data -> content files staff can then edit.

Shared CSV reading (encodings, line numbers, headers by name, problem reports) is in
bot.importers.csvfiles; one module per source layout (five374: Code for Japan's 5374).
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

    @import_group.command("5374")
    @click.argument("src_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
    @click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
                  help="folder for categories.yaml, items.yaml, areas.yaml, calendar.yaml (e.g. content/garbage)")
    @click.option("--dry-run", is_flag=True, help="convert and report, write nothing")
    def import_5374(src_dir: Path, out_dir: Path, dry_run: bool) -> None:
        """Garbage data in Code for Japan's 5374 layout (a 5374 deployment's data/ folder:
        area_days.csv, target.csv, description.csv, center.csv, remarks.csv).

        Rows that cannot be converted are printed as file:line: message on stderr and left
        out. Exit 1 when no item or no area could be converted (then nothing is written)."""
        from . import five374

        try:
            conv = five374.import_5374(src_dir, None if dry_run else out_dir)
        except five374.ImportFailed as exc:
            if exc.conversion is not None:
                _print_problems(exc.conversion.report, five374.FILES)
                click.echo(exc.conversion.summary() + ": nothing written")
            click.echo(f"import failed: {exc}", err=True)
            sys.exit(1)
        except OSError as exc:
            raise click.ClickException(f"cannot write to {out_dir}: {exc}") from None
        _print_problems(conv.report, five374.FILES)
        where = "dry run, nothing written" if dry_run else f"written to {out_dir}"
        click.echo(f"{conv.summary()}: {where}")


def _print_problems(report, file_order: tuple[str, ...]) -> None:
    for line in report.lines(file_order):
        click.echo(line, err=True)
