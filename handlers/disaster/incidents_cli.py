"""`citybot incidents declare|update|end|list`: the desk's incident page, from the command line.

For drills and for scripts that read official alerts. The rules are the desk's
(incidents.problems), the changes are the desk's (incidents.declare, change, end), the
audit entries are the desk's (incident.declare, incident.change, incident.end, with the
same details), the actor is `cli:<os user>`; the rich menu is switched right after a
declaration or an end as the desk does (a LINE error is a warning: the clock retries
every minute). Exit 1 with every problem on stderr when the incident is refused.
"""

from __future__ import annotations

import getpass
from contextlib import contextmanager
from typing import Any, Iterator

import click

from bot.content.models import LANGUAGES

STATUS_OPTIONS = {"ja": "--status-ja", "en": "--status-en", "easy_ja": "--status-easy-ja"}


def actor() -> str:
    """`cli:<os user>`: whoever ran the command, as the audit log names them."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no name for the uid (a container)
        user = "unknown"
    return f"cli:{user}"[:64]


@contextmanager
def _services(ctx: click.Context) -> Iterator[Any]:
    from bot.bootstrap import bootstrap

    svc = bootstrap(ctx.find_object(dict)["config"].with_(content_reload_seconds=0))
    try:
        yield svc
    finally:
        svc.close()


def _refuse(found: list[str]) -> None:
    for problem in found:
        click.echo(f"error: {problem}", err=True)
    raise SystemExit(1)


def _switch_menu(svc: Any) -> None:
    from bot.messenger import LineError

    from .mode import MenuNotOnLine, sync_menu

    try:
        switched = sync_menu(svc)
    except (LineError, MenuNotOnLine) as err:
        click.echo(f"warning: the rich menu was not switched ({err}); the clock tries again every minute", err=True)
        return
    if switched:
        click.echo(f"rich menu: {switched}")


def _line(incident: Any, content: Any, tz: Any) -> str:
    from . import incidents as inc

    drill = "[DRILL] " if incident.training else ""
    ended = f" ended {incident.ended_at.astimezone(tz):%Y-%m-%d %H:%M}" if incident.ended_at else ""
    return (f"#{incident.id} {drill}{incident.hazard} level {incident.level} "
            f"({inc.level_name(content, 'ja', incident.level)}) {inc.district_names(content, 'ja', incident.districts)}"
            f" · {len(incident.shelters)} site(s) open · declared {incident.started_at.astimezone(tz):%Y-%m-%d %H:%M}"
            f" by {incident.created_by}{ended}")


def status_options(required: bool):  # type: ignore[no-untyped-def]
    def decorate(command):  # type: ignore[no-untyped-def]
        for lang in reversed(LANGUAGES):
            command = click.option(STATUS_OPTIONS[lang], f"status_{lang}", required=required,
                                   help=f"the situation in {lang}, as residents read it")(command)
        return command
    return decorate


def register_incident_commands(main: click.Group) -> None:
    @main.group("incidents")
    def incidents_group() -> None:
        """災害・避難情報: declare, change, end and list incidents (as the desk does in /admin)."""

    @incidents_group.command("declare")
    @click.option("--hazard", required=True, help="flood, landslide, storm_surge, earthquake, tsunami, fire, "
                                                  "inland_flood or volcano")
    @click.option("--level", required=True, type=int, help="alert level: 3, 4 or 5")
    @click.option("--district", "districts", multiple=True,
                  help="a district id of settings.yaml (repeat); none in a city without divisions")
    @click.option("--all-districts", is_flag=True, help="every district of the city")
    @click.option("--shelter", "shelters", multiple=True, help="a site id to open (repeat)")
    @click.option("--open-designated", is_flag=True,
                  help="open every site designated for the hazard in the districts")
    @status_options(required=True)
    @click.option("--training", is_flag=True, help="a drill: shown to testers only, the menu is not switched")
    @click.pass_context
    def declare(ctx: click.Context, hazard: str, level: int, districts: tuple[str, ...], all_districts: bool,
                shelters: tuple[str, ...], open_designated: bool, training: bool, **status: str) -> None:
        """Declare an incident; prints its number."""
        from bot.admin.audit import audit

        from . import incidents as inc
        from .shelters import shelters_of

        with _services(ctx) as svc:
            content = svc.content.current()
            chosen = [d.id for d in content["settings"].districts] if all_districts else list(dict.fromkeys(districts))
            sites = list(dict.fromkeys(shelters))
            if open_designated:
                sites += [s.id for s in shelters_of(content).shelters if s.designated_for(hazard) and s.id not in sites
                          and (not chosen or s.district in chosen)]
            texts = {lang: status[f"status_{lang}"].strip() for lang in LANGUAGES}
            found = inc.problems(content, hazard=hazard, level=level, districts=chosen, shelters=sites, status=texts)
            if found:
                _refuse(found)
            with svc.sessions() as session:
                now = svc.now()
                incident = inc.declare(session, hazard=hazard, level=level, districts=chosen, shelters=sites,
                                       status=texts, by=actor(), now=now, training=training)
                audit("incident.declare", f"incident:{incident.id}", inc.declared(incident), actor=actor(),
                      session=session, at=now)
                session.commit()
                click.echo(f"declared #{incident.id}{' [DRILL]' if training else ''}: {hazard} level {level}, "
                           f"{inc.district_names(content, 'ja', chosen)}, {len(sites)} site(s) open")
                if not sites:
                    click.echo("warning: no site is open; residents are told none is", err=True)
            _switch_menu(svc)

    @incidents_group.command("update")
    @click.argument("incident_id", type=int)
    @click.option("--level", type=int, help="the new alert level")
    @click.option("--district", "districts", multiple=True, help="the districts, replacing them (repeat)")
    @click.option("--shelter", "shelters", multiple=True, help="the open sites, replacing them (repeat)")
    @click.option("--no-shelters", is_flag=True, help="close every site")
    @status_options(required=False)
    @click.pass_context
    def update(ctx: click.Context, incident_id: int, level: int | None, districts: tuple[str, ...],
               shelters: tuple[str, ...], no_shelters: bool, **status: str | None) -> None:
        """Change an active incident's level, districts, open sites or status texts."""
        from bot.admin.audit import audit

        from . import incidents as inc

        with _services(ctx) as svc, svc.sessions() as session:
            content = svc.content.current()
            row = _incident(session, incident_id)
            if row.ended_at is not None:
                raise click.ClickException(f"#{row.id} has ended; it cannot be changed")
            texts = {lang: (status[f"status_{lang}"] or "").strip() or row.status.get(lang, "") for lang in LANGUAGES}
            wanted: dict[str, Any] = {
                "level": row.level if level is None else level,
                "districts": list(dict.fromkeys(districts)) if districts else list(row.districts),
                "shelters": [] if no_shelters else list(dict.fromkeys(shelters)) if shelters else list(row.shelters),
                "status": texts}
            found = inc.problems(content, hazard=row.hazard, **wanted)
            if found:
                _refuse(found)
            changed = {name: value for name, value in wanted.items() if getattr(row, name) != value}
            if not changed:
                click.echo(f"#{row.id}: no change")
                return
            detail = inc.changes(row, changed)
            now = svc.now()
            inc.change(row, now, **changed)
            audit("incident.change", f"incident:{row.id}", detail, actor=actor(), session=session, at=now)
            session.commit()
            click.echo(f"changed #{row.id}: {', '.join(changed)}")

    @incidents_group.command("end")
    @click.argument("incident_id", type=int)
    @click.pass_context
    def end(ctx: click.Context, incident_id: int) -> None:
        """End an incident (it leaves residents' answers; the menu goes back when none is left)."""
        from bot.admin.audit import audit

        from . import incidents as inc

        with _services(ctx) as svc:
            with svc.sessions() as session:
                row = _incident(session, incident_id)
                if row.ended_at is not None:
                    click.echo(f"#{row.id} had already ended")
                    return
                now = svc.now()
                inc.end(row, now)
                audit("incident.end", f"incident:{row.id}", inc.ended(row), actor=actor(), session=session, at=now)
                session.commit()
                click.echo(f"ended #{row.id}")
            _switch_menu(svc)

    @incidents_group.command("list")
    @click.option("--ended", is_flag=True, help="also the 20 that ended last")
    @click.pass_context
    def list_incidents(ctx: click.Context, ended: bool) -> None:
        """The active incidents (drills too), most serious first."""
        from zoneinfo import ZoneInfo

        from sqlalchemy import select

        from . import incidents as inc

        with _services(ctx) as svc, svc.sessions() as session:
            content, tz, now = svc.content.current(), ZoneInfo(svc.config.timezone), svc.now()
            active = inc.active(session, now, include_training=True)
            for row in active:
                click.echo(_line(row, content, tz))
            if not active:
                click.echo("no active incident")
            if ended:
                for row in session.scalars(select(inc.Incident).where(inc.Incident.ended_at <= now)
                                           .order_by(inc.Incident.ended_at.desc()).limit(20)):  # as the desk page
                    click.echo(_line(row, content, tz))


def _incident(session: Any, incident_id: int) -> Any:
    from bot.admin.ids import stored_id

    from .tables import Incident

    row = session.get(Incident, incident_id) if stored_id(incident_id) is not None else None
    if row is None:
        raise click.ClickException(f"no incident #{incident_id}")
    return row
