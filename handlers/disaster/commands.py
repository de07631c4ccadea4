"""`citybot import shelters FILE.csv`: a city's 指定緊急避難場所一覧 into content/disaster/shelters.yaml.
`citybot incidents declare|update|end|list`: incidents from the command line, for drills and
for scripts that read official alerts (incidents_cli.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import click


def register(main: click.Group) -> None:
    from bot.importers import FORCE_HELP

    from .incidents_cli import register_incident_commands

    register_incident_commands(main)

    group = main.commands.get("import")
    if not isinstance(group, click.Group):  # the importers' group is made by bot.importers
        raise RuntimeError("`citybot import` must be registered before the shelters' import command")

    @group.command("shelters")
    @click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                  help="the file to write (default: <content dir>/disaster/shelters.yaml)")
    @click.option("--dry-run", is_flag=True, help="convert and report, write nothing")
    @click.option("--force", is_flag=True, help=FORCE_HELP)
    @click.pass_context
    def import_shelters(ctx: click.Context, csv_file: Path, out_path: Path | None, dry_run: bool,
                        force: bool) -> None:
        """Designated emergency evacuation sites (指定緊急避難場所一覧): the municipal standard
        layout, the older recommended one or GSI's <code>_2.csv, UTF-8 or Shift_JIS.

        The district of each site is found from its address with the districts of
        settings.yaml (a site in none is kept without one, counted once). Rows that cannot be used are printed as file:line: message on stderr
        and left out. Exit 1 when no site could be converted, the file was not read whole
        or the sites would shrink below IMPORT_MIN_SHARE (unless --force): then nothing is
        written."""
        from bot.importers import _content_dir, _limits, _print_problems, _refused, _unread
        from bot.importers.csvfiles import CsvError, Report
        from bot.importers.safety import Refused, read_source

        from . import importer as shelters

        content_dir = _content_dir(ctx)
        out = out_path or content_dir / "disaster" / "shelters.yaml"
        try:
            districts = shelters.load_districts(content_dir / "settings.yaml")
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise click.ClickException(f"cannot read the districts of {content_dir}/settings.yaml: {exc}") from None
        report = Report()
        limits = _limits(ctx, force)
        try:
            sites = shelters.import_shelters(read_source(csv_file, limits.max_bytes), csv_file.name, districts,
                                             report)
        except CsvError as exc:
            _unread(exc, csv_file.name)
        if not sites:
            _print_problems(report, (csv_file.name,))
            click.echo(f"{shelters.summary(sites, report)}: nothing written")
            sys.exit(1)
        try:
            text = shelters.render(sites, csv_file.name)
            shelters.refuse_losses(sites, report, out, limits)
        except shelters.ImportFailed as exc:
            _print_problems(report, (csv_file.name,))
            click.echo(f"import failed: {exc}", err=True)
            sys.exit(1)
        except Refused as exc:
            _refused(exc, (csv_file.name,))
        _print_problems(report, (csv_file.name,))
        if not dry_run:
            try:
                shelters.write(text, out)
            except OSError as exc:
                raise click.ClickException(f"cannot write {out}: {exc}") from None
        where = "dry run, nothing written" if dry_run else f"written to {out}"
        click.echo(f"{shelters.summary(sites, report)}: {where}")
