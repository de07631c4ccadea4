"""The disaster service: 災害情報, 避難所 and the disaster desk, in one package.

    __init__.py   災害情報: what the desk has declared, for the resident's district (below)
    nearest.py    避難所: the nearest open evacuation sites, from a shared location
    shelters.py   the designated sites (content/disaster/shelters.yaml), nearest for a hazard
    tables.py     incidents, broadcasts, the room at open sites, their links and safety reports
    incidents.py  declaring, changing, ending (the rules both the desk and the CLI keep); the banner
    room.py       空きあり・混雑・満員・閉鎖 at the open sites: shown to residents, full ones never offered
    safety.py, safety_reports.py, safety_desk.py   避難報告・安否: the chat, the reports, the desk's page
    broadcasts.py, reach.py   composing, approving and sending a broadcast; who it misses
    mode.py       the disaster rich menu while an incident is active (the clock's job too)
    desk.py, desk_broadcasts.py, desk_rooms.py, admin.py, words.py   the desk's pages in /admin
    site_link.py  a site's staff link: its room set from a phone, no account (a signed token)
    importer.py, commands.py  `citybot import shelters`
    incidents_cli.py          `citybot incidents declare|update|end|list` (drills, scripts)

The engine knows none of it: the intents bring their middleware (the banner) and their
job (the menu), admin.py its pages, a panel on the /admin home and its audit sentences,
commands.py its command.

Incidents are declared in /admin or with `citybot incidents` (incidents.py). 「災害情報」 answers those
for the resident's registered district; with none there it says so and still names what
is active elsewhere in the city; with no district registered it shows all of them and
suggests registering one. Training incidents are shown to testers only, marked 【訓練】.
While any incident is active every other answer starts with a one-line notice (the
intent's banner middleware) and the rich menu is the disaster one (mode.py).
"""

from __future__ import annotations

from typing import Any

from pydantic import field_validator

from bot.content.models import IntentContent, Label, NonEmpty, Strict, Text, keys_required, require_keys
from bot.messages import ShareLocation, Tap
from bot.messages import listing
from bot.router import Intent
from handlers.menu import menu_chip

from . import incidents as inc
from . import mode
from .shelters import HAZARDS, SHELTERS, SheltersFile, check_shelters, shelters_of


class Template(Strict):
    """A broadcast the desk starts from (placeholders filled with the incident's fields)."""

    id: NonEmpty
    name: NonEmpty
    text: Text
    ask_safety: bool = False  # the messages carry 「安否を知らせる」 (safety.py) as well


class DisasterContent(IntentContent):
    hazards: dict[str, Text]
    labels: dict[str, Label]
    templates: list[Template]

    @field_validator("hazards")
    @classmethod
    def _hazards(cls, hazards: dict[str, Text]) -> dict[str, Text]:
        unknown = sorted(set(hazards) - set(HAZARDS))
        if unknown:
            raise ValueError(f"unknown hazards: {', '.join(unknown)} (known: {', '.join(HAZARDS)})")
        return require_keys(hazards, frozenset(HAZARDS), "hazards")

    _labels = keys_required("labels", {"shelters", "location", "all"})

    def template(self, template_id: str) -> Template | None:
        return next((t for t in self.templates if t.id == template_id), None)


intent = Intent("disaster", content=DisasterContent, files={SHELTERS: SheltersFile}, checks=[check_shelters],
                middleware=[inc.banner_middleware], topics=["disaster"],
                texts=["level_3", "level_4", "level_5", "banner", "banner_training", "nothing", "whole_city",
                       "incident", "training", "training_mark", "elsewhere", "no_district", "open_shelters", "shelter_hint"])


def incident_text(content, lang: str, incident: inc.Incident, tz) -> str:
    """One incident as residents read it; open sites named in their language (bot.readable)."""
    started = incident.started_at.astimezone(tz)
    text = content.text("disaster.incident", lang, level=incident.level,
                        level_name=inc.level_name(content, lang, incident.level),
                        hazard=inc.hazard_name(content, lang, incident.hazard),
                        districts=inc.district_names(content, lang, incident.districts),
                        status=incident.status_in(lang), started=started.strftime("%m/%d %H:%M"))
    sites = shelters_of(content)
    names = [s.name_in(lang) for i in incident.shelters if (s := sites.get(i))]
    if names:
        text += "\n" + content.text("disaster.open_shelters", lang, shelters=listing(names[:8], lang)
                                    + (" …" if len(names) > 8 else ""))
    if incident.training:
        text = content.text("disaster.training", lang) + "\n" + text
    return text


@intent.entry
def disaster_information(turn):
    reply, content, lang, resident = turn.reply, turn.content, turn.lang, turn.resident
    session, now, config, conversation = turn.session, turn.now, turn.config, turn.conversation
    from zoneinfo import ZoneInfo

    if conversation.active is not None:  # its location chip is for shelters, not an earlier question
        conversation.end()
    tz = ZoneInfo(config.timezone)
    active = inc.seen_by(session, resident, now)
    district = content["settings"].district(resident.district) if resident.district else None
    chips: list[Tap] = [ShareLocation(content["disaster"].labels["location"].get(lang)), menu_chip(content, lang)]
    if not active:
        where = district.name.get(lang) if district else content.text("disaster.whole_city", lang)
        return reply(content.text("disaster.nothing", lang, where=where), quick=chips)
    mine = inc.concerning(active, district.id if district else None)
    messages: list[Any] = []
    if district is None:
        if content["settings"].has_divisions:   # else there is nothing to register
            messages.append(content.text("disaster.no_district", lang))
    elif not mine:
        messages.append(content.text("disaster.elsewhere", lang, district=district.name.get(lang)))
        mine = active
    messages += [incident_text(content, lang, incident, tz) for incident in mine[:3]]
    messages.append(content.text("disaster.shelter_hint", lang))
    what = content.documents.get("advice")  # いま何をすれば (advice.py), where the city keeps it
    if what is not None and what.label is not None:
        chips.insert(1, Tap(what.label.get(lang), "action=advice", what.label.get(lang)))
    reply(*messages[:5], quick=chips)


intent.every("* * * * *", name="disaster.menu", catch_up=False)(mode.follow_incidents)

from .advice import intent as advice_intent  # noqa: E402 - いま何をすれば
from .nearest import intent as shelters_intent  # noqa: E402 - 避難所, the package's second intent
from .safety import intent as safety_intent  # noqa: E402 - 避難報告・安否

intents = [shelters_intent, advice_intent, safety_intent]  # found by bot.bootstrap.handler_intents next to `intent`
