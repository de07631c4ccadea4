"""Importers: a city's published open data -> content files staff can then edit.

Shared CSV reading (encodings, line numbers, headers by name, problem reports) is in
bot.importers.csvfiles; one module per source layout (five374: Code for Japan's 5374;
childcare: the standard 子育て施設一覧 and nursery vacancy tables; shelters).

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

    @import_group.command("5374")
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
        from . import five374
        from .csvfiles import CsvError
        from .safety import Refused

        try:
            conv = five374.import_5374(src_dir, None if dry_run else out_dir, current=out_dir,
                                       limits=_limits(ctx, force))
        except Refused as exc:
            _refused(exc, five374.FILES)
        except CsvError as exc:
            _unread(exc)
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
        if not dry_run:
            _content_left_behind(ctx, out_dir.parent)

    @import_group.command("childcare")
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
        from . import childcare
        from .csvfiles import CsvError
        from .safety import Refused

        content_dir = _content_dir(ctx)
        out = out or content_dir / "childcare" / "facilities.yaml"
        try:
            wards = childcare.load_wards(content_dir / "settings.yaml")
            result = childcare.facilities_from_file(csv_file, wards, None if dry_run else out, current=out,
                                                    limits=_limits(ctx, force))
        except Refused as exc:
            _refused(exc, (csv_file.name,))
        except CsvError as exc:
            _unread(exc)
        except childcare.ImportFailed as exc:
            _fail(exc, (csv_file.name,))
        except OSError as exc:
            raise click.ClickException(f"cannot write {out}: {exc}") from None
        _print_problems(result.report, (csv_file.name,))
        click.echo(f"{result.summary}: {'dry run, nothing written' if dry_run else f'written to {out}'}")
        if not dry_run:  # the vacancy table only names these facilities: what it lost with them
            vacancies = Path(out).parent / "vacancies.yaml"
            for line in result.pruned:
                click.echo(f"{vacancies}: {line}: removed", err=True)

    @import_group.command("vacancies")
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
        from . import childcare
        from .csvfiles import CsvError
        from .safety import Refused, read_source

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
            known = childcare.load_facilities(facilities_path or content_dir / "childcare" / "facilities.yaml")
            previous = childcare.load_vacancies(out)
            result = childcare.vacancies_from_file(csv_file, list(known.facilities), None if dry_run else out,
                                                   as_of=day, previous=previous, partial=partial, force=force,
                                                   today=_today(ctx), limits=limits, data=data)
        except Refused as exc:
            _refused(exc, (csv_file.name,))
        except childcare.ImportFailed as exc:
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
        written = childcare.load_vacancies(out)
        rewind = written.as_of if written and previous and written.as_of < previous.as_of else None
        try:
            told = notify_after_import(config, rewind_to=rewind)
        except Exception as exc:  # the file is written; say so, and fail loudly for scripts
            click.echo(f"telling residents failed: {exc}", err=True)
            sys.exit(1)
        if told:
            click.echo(told)


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


def notify_after_import(config, rewind_to=None) -> str | None:
    """Tell the residents waiting for a facility that now has places (bot.childcare_sync);
    None when that module is not there."""
    try:
        from ..childcare_sync import sync_vacancies_now
    except ImportError as exc:
        click.echo(f"residents not told: {exc}", err=True)
        return None
    return sync_vacancies_now(config, rewind_to=rewind_to) if rewind_to else sync_vacancies_now(config)


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
