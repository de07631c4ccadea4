"""`citybot import childcare|vacancies`: a city's nursery lists into content/childcare/.

Both join the engine's `citybot import` group (bot.importers), which also gives them its
way of reporting problems, refusals and unreadable files.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bot.importers import FORCE_HELP, _config_of, _content_dir, _fail, _limits, _print_problems, _refused, _today, \
    _unread


def register(main: click.Group) -> None:
    group = main.commands.get("import")
    if not isinstance(group, click.Group):  # the importers' group is made by bot.importers
        raise RuntimeError("`citybot import` must be registered before the nursery import commands")

    @group.command("childcare")
    @click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
                  help="default: childcare/facilities.yaml of the content folder")
    @click.option("--dry-run", is_flag=True, help="convert and report, write nothing")
    @click.option("--force", is_flag=True, help=FORCE_HELP)
    @click.pass_context
    def import_childcare(ctx: click.Context, csv_file: Path, out: Path | None, dry_run: bool, force: bool) -> None:
        """Nurseries from a 子育て施設一覧 file (the municipal standard layout, 53 or 28 columns).

        Only nurseries taking applications are kept (保育所, 認定こども園, 小規模保育,
        事業所内保育, 家庭的保育); each one's ward or district is found from the divisions of the
        content folder's settings.yaml (one in none is kept without, counted once). Rows left out are printed as file:line: message on stderr.
        The vacancies.yaml beside it loses the facilities that are gone, in the same write.
        Exit 1 when no nursery could be imported, the file was not read whole or the
        facilities would shrink below IMPORT_MIN_SHARE (unless --force): then nothing is
        written."""
        from bot.importers.csvfiles import CsvError
        from bot.importers.safety import Refused

        from . import importer

        content_dir = _content_dir(ctx)
        out = out or content_dir / "childcare" / "facilities.yaml"
        try:
            wards = importer.load_wards(content_dir / "settings.yaml")
            result = importer.facilities_from_file(csv_file, wards, None if dry_run else out, current=out,
                                                   limits=_limits(ctx, force))
        except Refused as exc:
            _refused(exc, (csv_file.name,))
        except CsvError as exc:
            _unread(exc)
        except importer.ImportFailed as exc:
            _fail(exc, (csv_file.name,))
        except OSError as exc:
            raise click.ClickException(f"cannot write {out}: {exc}") from None
        _print_problems(result.report, (csv_file.name,))
        click.echo(f"{result.summary}: {'dry run, nothing written' if dry_run else f'written to {out}'}")
        if not dry_run:  # the vacancy table only names these facilities: what it lost with them
            vacancies = Path(out).parent / "vacancies.yaml"
            for line in result.pruned:
                click.echo(f"{vacancies}: {line}: removed", err=True)

    @group.command("vacancies")
    @click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
                  help="default: childcare/vacancies.yaml of the content folder")
    @click.option("--facilities", "facilities_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                  help="default: childcare/facilities.yaml of the content folder")
    @click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), default=None,
                  help="the table's date (YYYY-MM-DD), when the file has none or has a wrong one")
    @click.option("--partial", is_flag=True,
                  help="the file lists some facilities only: keep the current places of the others")
    @click.option("--force", is_flag=True,
                  help="replace the current table even with an older one (or one dated far ahead), "
                       "and even when " + FORCE_HELP[len("write even when "):])
    @click.option("--dry-run", is_flag=True, help="convert and report, write nothing, tell nobody")
    @click.pass_context
    def import_vacancies(ctx: click.Context, csv_file: Path, out: Path | None, facilities_path: Path | None,
                         as_of, partial: bool, force: bool, dry_run: bool) -> None:
        """A nursery vacancy table: Yokohama's 受入可能数 layout (a title line with the date,
        a column per class: numbers, -, ◎ ○ △ ×) or facility_id,age,places[,as_of].

        Facilities are matched by 施設番号 (the facility id) or name. Rows left out are printed
        as file:line: message on stderr. Once written, the residents following a facility
        that now has places are told. A table must list every facility (else --partial) and
        not be older than the current one; it must be read whole (a column for every class
        the facilities take) and keep IMPORT_MIN_SHARE of the current table's facilities
        (else --force). Exit 1 when nothing usable or refused (nothing written)."""
        from bot.importers.csvfiles import CsvError
        from bot.importers.safety import Refused, read_source

        from . import importer

        content_dir = _content_dir(ctx)
        out = out or content_dir / "childcare" / "vacancies.yaml"
        day = as_of.date() if as_of is not None else None
        limits = _limits(ctx, force)
        try:   # read first: a file that cannot be read stops the import before anyone is told anything
            data = read_source(csv_file, limits.max_bytes)
        except CsvError as exc:
            _unread(exc)
        in_content = Path(out).resolve() == (content_dir / "childcare" / "vacancies.yaml").resolve()
        if in_content and not dry_run and Path(out).is_file():
            # the table residents saw until now is the baseline the new one is compared with
            try:
                earlier = notify_after_import(_config_of(ctx))
            except Exception as exc:  # noqa: BLE001 - reported; the import itself must not be lost
                raise click.ClickException(f"cannot read what residents were told so far: {exc}") from None
            if earlier and "nobody" not in earlier:
                click.echo(f"before this import: {earlier}")
        try:
            known = importer.load_facilities(facilities_path or content_dir / "childcare" / "facilities.yaml")
            previous = importer.load_vacancies(out)
            result = importer.vacancies_from_file(csv_file, list(known.facilities), None if dry_run else out,
                                                  as_of=day, previous=previous, partial=partial, force=force,
                                                  today=_today(ctx), limits=limits, data=data)
        except Refused as exc:
            _refused(exc, (csv_file.name,))
        except importer.ImportFailed as exc:
            _fail(exc, (csv_file.name,))
        except OSError as exc:
            raise click.ClickException(f"cannot write {out}: {exc}") from None
        _print_problems(result.report, (csv_file.name,))
        if dry_run:
            click.echo(f"{result.summary}: dry run, nothing written")
            return
        click.echo(f"{result.summary}: written to {out}")
        config = _config_of(ctx)
        if not in_content:
            click.echo("not the content folder's vacancies.yaml: nobody told", err=True)
            return
        written = importer.load_vacancies(out)
        rewind = written.as_of if written and previous and written.as_of < previous.as_of else None
        try:
            told = notify_after_import(config, rewind_to=rewind)
        except Exception as exc:  # the file is written; say so, and fail loudly for scripts
            click.echo(f"telling residents failed: {exc}", err=True)
            sys.exit(1)
        if told:
            click.echo(told)


def register_import_commands(main: click.Group) -> None:
    """The engine's `citybot import` group with these commands in it, on a command line
    built without bot.cli (as the importers' tests build one)."""
    from bot.importers import register_import_commands as import_group

    import_group(main)
    register(main)


def notify_after_import(config, rewind_to=None) -> str | None:
    """Tell the residents waiting for a facility that now has places (sync.py); None when
    that module is not there."""
    try:
        from .sync import sync_vacancies_now
    except ImportError as exc:
        click.echo(f"residents not told: {exc}", err=True)
        return None
    return sync_vacancies_now(config, rewind_to=rewind_to) if rewind_to else sync_vacancies_now(config)
