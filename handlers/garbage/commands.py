"""`citybot import 5374 FOLDER --out content/garbage`: Code for Japan's 5374 data into content/garbage/."""

from __future__ import annotations

import sys
from pathlib import Path

import click


def register(main: click.Group) -> None:
    """Add `import 5374` to the importers' group, making the group first when `main` has
    none yet (a bare group in a test)."""
    from bot.importers import FORCE_HELP, register_import_commands

    if "import" not in main.commands:
        register_import_commands(main)
    group = main.commands["import"]
    if not isinstance(group, click.Group):
        raise RuntimeError("`citybot import` is not the importers' group")

    @group.command("5374")
    @click.argument("src_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
    @click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
                  help="folder for categories.yaml, items.yaml, areas.yaml, calendar.yaml (e.g. content/garbage)")
    @click.option("--dry-run", is_flag=True, help="convert and report, write nothing")
    @click.option("--force", is_flag=True, help=FORCE_HELP)
    @click.pass_context
    def import_5374(ctx: click.Context, src_dir: Path, out_dir: Path, dry_run: bool, force: bool) -> None:
        """Garbage data in Code for Japan's 5374 layout (a 5374 deployment's data/ folder:
        area_days.csv, target.csv, description.csv, center.csv, remarks.csv).

        Rows that cannot be converted are printed as file:line: message on stderr and left
        out. Exit 1 when no item or no area could be converted, a file was not read whole
        or the items or areas would shrink below IMPORT_MIN_SHARE (unless --force): then
        nothing is written."""
        from bot.importers import _content_left_behind, _limits, _print_problems, _refused, _unread
        from bot.importers.csvfiles import CsvError
        from bot.importers.safety import Refused

        from . import importer

        try:
            conv = importer.import_5374(src_dir, None if dry_run else out_dir, current=out_dir,
                                        limits=_limits(ctx, force))
        except Refused as exc:
            _refused(exc, importer.FILES)
        except CsvError as exc:
            _unread(exc)
        except importer.ImportFailed as exc:
            if exc.conversion is not None:
                _print_problems(exc.conversion.report, importer.FILES)
                click.echo(exc.conversion.summary() + ": nothing written")
            click.echo(f"import failed: {exc}", err=True)
            sys.exit(1)
        except OSError as exc:
            raise click.ClickException(f"cannot write to {out_dir}: {exc}") from None
        _print_problems(conv.report, importer.FILES)
        where = "dry run, nothing written" if dry_run else f"written to {out_dir}"
        click.echo(f"{conv.summary()}: {where}")
        if not dry_run:
            _content_left_behind(ctx, out_dir.parent)
