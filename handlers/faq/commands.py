"""`citybot import faq FILE.csv`: the city's FAQ export into content/faq/questions.yaml."""

from __future__ import annotations

import sys
from pathlib import Path

import click


def register(main: click.Group) -> None:
    group = main.commands.get("import")
    if not isinstance(group, click.Group):  # the importers' group is made by bot.importers
        raise RuntimeError("`citybot import` must be registered before the FAQ's import command")

    @group.command("faq")
    @click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
                  help="default: faq/questions.yaml of the content folder")
    @click.option("--dry-run", is_flag=True, help="convert and report, write nothing")
    @click.option("--force", is_flag=True, help="write even when the file was not read whole or would keep fewer "
                                                "than IMPORT_MIN_SHARE of the current questions")
    @click.pass_context
    def import_faq(ctx: click.Context, csv_file: Path, out: Path | None, dry_run: bool, force: bool) -> None:
        """A city's FAQ (よくある質問) exported as CSV: columns by header name (質問, 回答, 別の聞き方,
        URL, 担当課, 分類, and 質問_英語, 回答_英語, 質問_やさしい日本語, 回答_やさしい日本語),
        UTF-8 with or without BOM, or Shift_JIS.

        Rows left out are printed as file:line: message on stderr. Exit 1 when no question
        could be imported, the file was not read whole or the questions would shrink below
        IMPORT_MIN_SHARE (unless --force): then nothing is written."""
        from bot.importers import _limits, _print_problems, _refused, _unread
        from bot.importers.csvfiles import CsvError
        from bot.importers.safety import Refused

        from .importer import ImportFailed, import_faq as run

        config = ctx.find_object(dict)["config"]
        out = out or Path(config.content_dir) / "faq" / "questions.yaml"
        try:
            imported = run(csv_file, out, _limits(ctx, force), dry_run=dry_run)
        except Refused as exc:
            _refused(exc, (csv_file.name,))
        except CsvError as exc:
            _unread(exc, csv_file.name)
        except ImportFailed as exc:
            click.echo(f"import failed: {exc}", err=True)
            sys.exit(1)
        except OSError as exc:
            raise click.ClickException(f"cannot write {out}: {exc}") from None
        _print_problems(imported.report, (csv_file.name,))
        click.echo(f"{imported.summary}: {'dry run, nothing written' if dry_run else f'written to {out}'}")
        if not dry_run:  # faq.yaml's keywords and popular questions may name what the import replaced
            from bot.importers import _content_left_behind

            _content_left_behind(ctx, out.parent.parent)
