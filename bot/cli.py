"""The `citybot` command: what operators, staff and developers run.

Every command builds its objects through bot.bootstrap, like the web process does, so
`citybot ask` answers exactly as the bot would.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any, Sequence

import click

from .config import Config, documented_settings
from .gcpause import paused


def _config(ctx: click.Context) -> Config:
    return ctx.obj["config"]


class LazyGroup(click.Group):
    """A command group defined in a module too heavy to import for every `citybot` command
    (the staff web UI's: Flask and every service's pages): `citybot --help` lists it by its
    help alone, and the module is imported only when one of its commands is asked for.
    `register(main)` is that module's usual function adding a group named `name`."""

    def __init__(self, name: str, help: str, register: str):
        super().__init__(name, help=help)
        self.register = register  # "module:function"
        self._real: click.Group | None = None

    def real(self) -> click.Group:
        if self._real is None:
            import importlib

            module, function = self.register.split(":")
            holder = click.Group()
            getattr(importlib.import_module(module), function)(holder)
            self._real = holder.commands[str(self.name)]  # type: ignore[assignment]
        assert self._real is not None
        return self._real


class Commands(click.Group):
    """`citybot` itself: a lazy group becomes the real one when a command of it runs (or
    asks for its help); listing the commands never loads it."""

    def resolve_command(self, ctx: click.Context, args: list[str]):  # type: ignore[no-untyped-def]
        name, command, rest = super().resolve_command(ctx, args)
        return name, command.real() if isinstance(command, LazyGroup) else command, rest


@click.group(cls=Commands)
@click.pass_context
def main(ctx: click.Context) -> None:
    """citybot: a city's services on LINE."""
    ctx.ensure_object(dict)
    try:
        ctx.obj["config"] = Config.from_env()
    except ValueError as exc:
        raise click.ClickException(f"configuration: {exc}") from None


# -- configuration and database -----------------------------------------------------------
@main.command("config")
def show_config() -> None:
    """Print every setting: environment variable, default, meaning."""
    for env, default, doc in documented_settings():
        click.echo(f"{env:28} {default or '(empty)':40.40} {doc}")


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@click.pass_context
def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Apply migrations (SQLite file under instance/ unless DATABASE_URL is set)."""
    from . import migrate

    config = _config(ctx)
    migrate.upgrade(config, revision)
    click.echo(f"database at {_safe_url(config.sqlalchemy_url)} is at {revision}")


@db.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def db_backup(ctx: click.Context, file: Path) -> None:
    """Copy the database to FILE (SQLite: online backup API; PostgreSQL: pg_dump -Fc)."""
    from . import backup

    try:
        click.echo(backup.backup(_config(ctx).sqlalchemy_url, file))
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None


@db.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--yes", is_flag=True, help="do not ask: replace the database")
@click.pass_context
def db_restore(ctx: click.Context, file: Path, yes: bool) -> None:
    """Replace the database with the backup FILE (stop the web, worker and clock first)."""
    from . import backup

    url = _config(ctx).sqlalchemy_url
    if not yes:
        click.confirm(f"Replace everything in {_safe_url(url)} with {file}?", abort=True)
    try:
        click.echo(backup.restore(url, file))
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("restored; run `citybot db upgrade` if the backup is older than this version")


def _bootstrap(config: Config, warm: bool = True):
    """The services, or the content's problems as file:line and exit 1 (not a traceback)."""
    from .bootstrap import bootstrap
    from .content.store import ContentError

    try:
        return bootstrap(config, warm=warm)
    except ContentError as exc:
        lines = "\n".join(f"  {config.content_dir}/{p.file}:{p.line}: {p.message}" for p in exc.problems)
        raise click.ClickException(f"the content folder does not load ({len(exc.problems)} problem(s); "
                                   f"`citybot content check` lists them too):\n{lines}") from None


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# -- content and routing -------------------------------------------------------------------
@main.group()
def content() -> None:
    """Content staff edit (content/*.yaml)."""


@content.command("check")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
def content_check(ctx: click.Context, directory: Path | None) -> None:
    """Check every content file; print file:line: message per problem, exit 1 if any."""
    from .bootstrap import build_router, content_schema
    from .content.store import ContentError, load_content

    config = _config(ctx)
    root = directory or Path(config.content_dir)
    try:
        loaded = load_content(root, content_schema(build_router(config)))
    except ContentError as exc:
        for problem in exc.problems:
            click.echo(f"{_shown(root, problem.file)}:{problem.line}: {problem.message}")
        click.echo(f"{len(exc.problems)} problem(s) in {root}", err=True)
        sys.exit(1)
    for warning in loaded.warnings:  # loads, but leaves something out (a button of a service not installed)
        click.echo(f"{_shown(root, warning.file)}:{warning.line}: warning: {warning.message}")
    click.echo(f"{root}: {len(loaded.documents)} files OK (version {loaded.version})"
               + (f", {len(loaded.warnings)} warning(s)" if loaded.warnings else ""))


def _shown(root: Path, name: str) -> str:
    path = Path(name) if Path(name).is_absolute() or name == str(root) else root / name
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


@main.command()
@click.pass_context
def routes(ctx: click.Context) -> None:
    """Print the routing table in matching order (first match wins)."""
    from .bootstrap import build_router

    rows = build_router(_config(ctx)).table()
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for order, key, intent, handler in rows:
        click.echo(f"{order:{widths[0]}}  {key:{widths[1]}}  {intent:{widths[2]}}  {handler}")


@main.command()
@click.option("--user", "user_id", default=None, help="LINE userId to speak as (default: a fixed test user)")
@click.option("--lang", type=click.Choice(["ja", "en", "easy_ja"]), default=None)
@click.option("--content", "content_dir", type=click.Path(file_okay=False), default=None)
@click.option("--location", default=None, metavar="LAT,LON", help="send a location instead of text")
@click.option("--postback", default=None, metavar="DATA", help="send a postback (e.g. action=help)")
@click.option("--explain", is_flag=True, help="print how each input was routed, as JSON on stderr")
@click.option("--each-new", is_flag=True,
              help='with TEXT "-": each line from a resident who never wrote before (a first question '
                   'each), instead of one resident saying them in a row')
@click.argument("text", required=False)
@click.pass_context
def ask(ctx: click.Context, user_id: str | None, lang: str | None, content_dir: str | None,
        location: str | None, postback: str | None, explain: bool, each_new: bool, text: str | None) -> None:
    """Run one event through the router and handlers; print the reply messages as JSON.

    With TEXT "-", read one message per line from stdin and print one JSON array per line.
    """
    from . import migrate
    from .fakeline import webhook_events as events

    config = _config(ctx)
    if content_dir:
        config = config.with_(content_dir=content_dir)
    config = config.with_(content_reload_seconds=0, inbox_sweep_seconds=0)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    if not config.is_production:
        migrate.upgrade(config)
    user = user_id or "U" + "0" * 31 + "1"
    specified = [x for x in (location, postback, text) if x is not None]
    if len(specified) != 1:
        raise click.UsageError("give exactly one of TEXT, --location or --postback")
    svc = _bootstrap(config, warm=False)  # one question: build only the indexes it needs

    def run(raw: dict[str, Any]) -> list[dict[str, Any]]:
        with svc.sessions() as session:
            handled = svc.dispatcher.handle(session, raw, lang=lang)
            session.commit()
        if explain:
            why = handled.match.explain() if handled.match else {"how": "ignored"}
            click.echo(json.dumps(why, ensure_ascii=False), err=True)
        return handled.messages

    try:
        if text == "-":
            for number, line in enumerate(sys.stdin, start=2):
                line = line.rstrip("\n")
                if line.strip():
                    speaker = f"U{number:032x}" if each_new else user
                    click.echo(json.dumps(run(events.text_event(speaker, line, reply_token="ask")), ensure_ascii=False))
            return
        if location is not None:
            try:
                lat, lon = (float(x) for x in location.split(","))
            except ValueError:
                raise click.BadParameter("use LAT,LON, e.g. 34.57,135.48", param_hint="--location") from None
            raw = events.location_event(user, lat, lon, reply_token="ask")
        elif postback is not None:
            raw = events.postback_event(user, postback, reply_token="ask")
        else:
            raw = events.text_event(user, text or "", reply_token="ask")
        for message in run(raw):
            click.echo(json.dumps(message, ensure_ascii=False))
    finally:
        svc.close()


def _fake_settings(config: Config):
    try:
        import jsonschema  # noqa: F401 - the platform validates every request with it
    except ImportError:
        raise click.ClickException("the fake LINE platform needs the demo extra: pip install 'citybot[demo]' "
                                   "(make demo installs it)") from None
    from .fakeline import FakeLineSettings

    return FakeLineSettings(access_token=config.access_token, openapi_dir=config.openapi_dir)


# -- running -------------------------------------------------------------------------------
@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--fake-port", default=8001, show_default=True)
@click.pass_context
def demo(ctx: click.Context, host: str, port: int, fake_port: int) -> None:
    """Everything on one machine: fake LINE platform, the bot, the simulator."""
    import threading

    from werkzeug.serving import make_server

    from . import create_app, migrate
    from . import richmenu as rm

    base = _config(ctx)
    settings = _fake_settings(base)
    from .fakeline.server import start_fake_line

    fake = start_fake_line(settings, host=host, port=_free_port(host, fake_port))
    config = base.with_(env="demo" if base.env != "test" else base.env, line_api_base=fake.url,
                        line_data_api_base=fake.url)
    migrate.upgrade(config)
    app = create_app(config)
    svc = app.extensions["citybot"]
    menus = rm.sync(svc.messenger, svc.content.current())
    staff = _demo_staff(svc)
    from .heartbeat import Heartbeat
    from .scheduler import Clock
    from .worker import Worker

    worker = Worker(svc)  # the worker and the clock run as threads here, as processes in production
    threading.Thread(target=worker.run, name="citybot-worker", daemon=True).start()
    clock = Clock(svc)
    clock.start()
    beats = [Heartbeat(svc.sessions, kind, config.heartbeat_seconds, svc.now).start() for kind in ("worker", "clock")]
    server = make_server(host, _free_port(host, port), app, threaded=True)
    url = f"http://{host}:{server.server_port}"
    click.echo(f"fake LINE platform: {fake.url}  (rich menus: {', '.join(menus)})")
    click.echo(f"webhook:            {url}/callback")
    click.echo(f"simulator:          {url}/simulator/")
    click.echo(f"staff web UI:       {url}/admin/  (demo accounts {', '.join(staff)}; password {DEMO_PASSWORD})")
    click.echo("Open the simulator URL in a browser; Ctrl-C stops everything.")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        for beating in beats:
            beating.stop()
        worker.stop()
        clock.shutdown()
        server.shutdown()
        svc.close()
        fake.stop()


DEMO_PASSWORD = "citybot-demo"
DEMO_STAFF = {"desk-a": "desk", "desk-b": "desk", "editor": "editor", "viewer": "viewer", "admin": "admin"}


def _demo_staff(svc) -> list[str]:
    """Staff accounts to try /admin with on a demo machine (never in production)."""
    from sqlalchemy import select

    from .admin.auth import hash_password
    from .admin.models import StaffUser

    if svc.config.env == "production":
        return []
    with svc.sessions() as session:
        existing = set(session.scalars(select(StaffUser.name)))
        for name, role in DEMO_STAFF.items():
            if name not in existing:
                session.add(StaffUser(name=name, role=role, password_hash=hash_password(DEMO_PASSWORD),
                                      disabled=False, lead=name == "desk-a", created_at=svc.now()))
        session.commit()
    return list(DEMO_STAFF)


def _free_port(host: str, preferred: int) -> int:
    """The preferred port, or any free one when it is taken (a second demo, say)."""
    import socket

    with socket.socket() as sock:
        try:
            sock.bind((host, preferred))
            return preferred
        except OSError:
            sock.bind((host, 0))
            return sock.getsockname()[1]


@main.command()
@click.option("--once", is_flag=True, help="send what is due, then exit")
@click.pass_context
def worker(ctx: click.Context, once: bool) -> None:
    """Send push batches (multicast, rate-limited, retried) and stray inbound events."""
    from . import logs
    from .worker import Worker

    config = _config(ctx)
    logs.configure(config.log_level, config.log_format)
    svc = _bootstrap(config)
    try:
        runner = Worker(svc)
        if once:
            click.echo(f"{runner.run_once()} batch(es) handled")
            return
        beating = _process_started(svc, "worker")
        runner.install_signal_handlers()
        try:
            runner.run()
        finally:
            beating.stop()
    finally:
        svc.close()


def _process_started(svc, kind: str):
    """A long-running worker or clock: its heartbeat thread, and its /metrics if asked."""
    from . import metrics
    from .heartbeat import Heartbeat

    svc.messenger.prepare()  # the SDK loaded before the first push, not while it waits
    if svc.config.metrics_port:
        metrics.serve(svc.config.metrics_port)
    return Heartbeat(svc.sessions, kind, svc.config.heartbeat_seconds, svc.now).start()


@main.command()
@click.pass_context
def scheduler(ctx: click.Context) -> None:
    """The clock: notices from content/notices and recurring jobs, turned into pushes."""
    import signal
    import threading

    from . import logs
    from .scheduler import Clock

    config = _config(ctx)
    logs.configure(config.log_level, config.log_format)
    svc = _bootstrap(config)
    clock = Clock(svc)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    beating = None
    try:
        clock.start()
        beating = _process_started(svc, "clock")
        click.echo(f"scheduler running: {len(clock.scheduler.get_jobs())} job(s)")
        stop.wait()
    finally:
        if beating is not None:
            beating.stop()
        clock.shutdown()
        svc.close()


@main.command()
@click.pass_context
def sweep(ctx: click.Context) -> None:
    """Answer what is stored and nobody is working on (webhook bodies, events, deferred
    answers), then exit: a worker's round, for an operator without a running worker."""

    svc = _bootstrap(_config(ctx).with_(content_reload_seconds=0))
    try:
        click.echo(f"{svc.dispatcher.sweep() + svc.dispatcher.drain()} event(s) processed")
    finally:
        svc.close()


from . import cli_line  # noqa: E402,F401 - `citybot richmenu|fake-line|push|segment`
from .importers import register_import_commands  # noqa: E402 - the importers add `citybot import ...`

register_import_commands(main)

# `citybot users ...` (staff web UI accounts): bot.admin is the whole web UI, loaded when it runs
main.add_command(LazyGroup("users", "Staff accounts of the web UI at /admin.", "bot.admin.cli:register_user_commands"))


def _service_commands(main_group: click.Group) -> None:
    """A city service's own commands live in its package: handlers/<service>/commands.py
    defines `register(main)` (`citybot import faq`, `citybot reports ...`)."""
    import importlib
    import importlib.util
    import pkgutil

    import handlers

    for info in sorted(pkgutil.iter_modules(handlers.__path__), key=lambda m: m.name):
        if info.ispkg and importlib.util.find_spec(f"handlers.{info.name}.commands") is not None:
            importlib.import_module(f"handlers.{info.name}.commands").register(main_group)


with paused():  # the service packages, imported here for their commands (bot/gcpause.py)
    _service_commands(main)


def run(argv: Sequence[str] | None = None) -> None:
    main(args=argv)


if __name__ == "__main__":  # `python -m bot.cli ...`, as the `citybot` script
    # this file runs as __main__ here, and bot.cli_line adds its commands to the module
    # bot.cli, a second copy: the group to run is that one's
    from bot.cli import run as run_registered

    run_registered()
