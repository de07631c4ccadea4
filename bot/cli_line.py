"""`citybot richmenu|fake-line|push|segment`: the LINE side of the command (rich menus,
the fake platform) and what staff check about pushes and segments. Added to the `citybot`
group by bot/cli.py, like the importers' and the services' commands."""

from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from .cli import _bootstrap, _config, _fake_settings, main


# -- LINE platform -------------------------------------------------------------------------
@main.group()
def richmenu() -> None:
    """The rich menu under the chat (content/richmenu.yaml)."""


@richmenu.command("sync")
@click.pass_context
def richmenu_sync(ctx: click.Context) -> None:
    """Create the menus on LINE, upload images, set aliases and the default."""
    from . import richmenu as rm

    svc = _bootstrap(_config(ctx).with_(content_reload_seconds=0))
    try:
        for alias, rich_menu_id in rm.sync(svc.messenger, svc.content.current()).items():
            click.echo(f"{alias}: {rich_menu_id}")
    finally:
        svc.close()


@richmenu.command("render")
@click.option("--font", default=None, help="a font with Japanese glyphs (default: Noto Sans CJK)")
@click.pass_context
def richmenu_render(ctx: click.Context, font: str | None) -> None:
    """Draw each menu's image from its areas in content/richmenu.yaml."""
    from . import richmenu as rm
    from .content.models import RichMenuContent
    from .content.yamlfile import load_yaml

    root = Path(_config(ctx).content_dir)
    doc = load_yaml(root / "richmenu.yaml", "richmenu.yaml")
    menus = RichMenuContent.model_validate(doc.data)
    font_path = rm.find_font(font)
    for menu in menus.menus:
        path = rm.image_path(root, menu)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rm.render(menu, font_path))
        click.echo(f"{path} ({path.stat().st_size} bytes)")


@main.command("fake-line")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8001, show_default=True)
@click.pass_context
def fake_line(ctx: click.Context, host: str, port: int) -> None:
    """Run the fake LINE platform (Messaging API on localhost, validating every request)."""
    settings = _fake_settings(_config(ctx))
    from .fakeline.server import serve_forever

    serve_forever(host, port, settings)


# -- pushes and segments ------------------------------------------------------------------
@main.group()
def push() -> None:
    """Pushes: what was sent, what is pending, what failed."""


@push.command("status")
@click.argument("push_id", required=False, type=int)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def push_status(ctx: click.Context, push_id: int | None, as_json: bool) -> None:
    """Sent/pending/failed per push (the latest 20, or one by ID)."""
    from . import delivery

    svc = _bootstrap(_config(ctx).with_(content_reload_seconds=0))
    try:
        with svc.sessions() as session:
            rows = delivery.status(session, push_id)
    finally:
        svc.close()
    if push_id is not None and not rows:
        raise click.ClickException(f"no push {push_id}")
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    click.echo(f"{'id':>6} {'kind':8} {'recipients':>10} {'sent':>8} {'pending':>8} {'failed':>7}  source")
    for row in rows:
        click.echo(f"{row['id']:>6} {row['kind']:8} {row['recipients']:>10} {row['sent']:>8} {row['pending']:>8} "
                   f"{row['failed']:>7}  {row['source']}{'  URGENT' if row['urgent'] else ''}")
        for error in row["errors"]:
            click.echo(f"{'':8}failed: {error}")


@main.group()
def segment() -> None:
    """Segments: who a push would reach."""


@segment.command("count")
@click.argument("spec")
@click.option("--on", "on_date", default=None, help="date the ages are computed for (default today)")
@click.pass_context
def segment_count(ctx: click.Context, spec: str, on_date: str | None) -> None:
    """How many following residents match SPEC: a name from content/segments.yaml,
    or YAML/JSON such as '{districts: [kita], child_age: {min: 0, max: 2}}'."""
    import datetime as dt

    import yaml
    from pydantic import ValidationError

    from . import segments

    config = _config(ctx)
    svc = _bootstrap(config.with_(content_reload_seconds=0))
    try:
        named = svc.content.current()["segments"].segments
        try:
            parsed = named[spec] if spec in named else segments.Segment.model_validate(yaml.safe_load(spec))
        except (ValidationError, yaml.YAMLError) as exc:
            raise click.BadParameter(f"{spec!r} is neither a named segment ({', '.join(sorted(named))}) "
                                     f"nor a valid segment: {exc}", param_hint="SPEC") from None
        day = dt.date.fromisoformat(on_date) if on_date else svc.now().astimezone(ZoneInfo(config.timezone)).date()
        with svc.sessions() as session:
            click.echo(segments.count(session, parsed, day))
    finally:
        svc.close()
