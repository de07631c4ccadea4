"""避難報告・安否: during an incident concerning their district, a resident tells the city
where they are and how many they are, in a few taps.

    「安否」, the menu, a broadcast's or the reminder's 「安否を知らせる」
    -> 自宅で無事 / 車の中で無事 / 親せき・知人宅で無事 / 避難所にいる / 助けが必要
    -> (避難所にいる: which of the incident's open sites)
    -> how many (1-5, 6人以上, or a typed number)          the report is saved here
    -> (助けが必要: the place, LINE's location message, then a short note; both skippable)

The report is saved as soon as the count is known, so a resident in trouble who stops
answering has still been counted; the place and note are added to it. Safe residents
are done in three taps, and may add a place or note afterwards (「場所・ひとことを送る」).
Reporting again replaces the report (one row per incident and resident: safety_reports.py).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import Field

from bot.content.models import ConversationContent
from bot.conversation import NOT_UNDERSTOOD, Conversation, Phrasebook
from bot.lookup import normalize
from bot.messages import Share, ShareLocation, Tap
from bot.router import Intent
from bot.turn import Turn
from handlers.menu import menu_chip, menu_chips

from . import incidents as inc
from . import safety_reports as sr
from .shelters import shelters_of
from .tables import SafetyStatus

STATUSES = tuple(SafetyStatus)
PEOPLE_BUTTONS = 5
MORE = 6          # 「6人以上」 counts as 6: at least that many
MAX_PEOPLE = 99
MAX_SITES = 10    # quick replies: the sites, ほかの避難所, 戻る, やめる (13 at most)


class SafetyContent(ConversationContent):
    retention_days: int = Field(ge=1, le=365)   # how long the desk sees reports after the incident ends


def forget_on_block(ctx: Any, call_next: Any) -> None:
    """A block erases the resident's reports at once, even when the rest of what the city
    keeps waits for the grace period (bot/profile.py): where someone is, is not kept."""
    call_next()
    if ctx.incoming.kind == "unfollow" and ctx.resident is not None:
        sr.erase_resident(ctx.session, ctx.resident.id)


intent = Intent("safety", content=SafetyContent, narrower_than=["disaster", "shelters"], middleware=[forget_on_block],
                texts=["ask_status", "before", "ask_shelter", "ask_people", "ask_location", "ask_note", "summary",
                       "saved", "saved_help", "share", "added", "nothing", "reminder", "not_understood", "old_question",
                       "quit", "expired"])


def where_back(conversation: Any, content: Any) -> str | None:
    """戻る: from the count to the site (or the status), from the note to the place."""
    state, data = conversation.state, conversation.data
    if state == "people":
        return "shelter" if data.get("status") == SafetyStatus.SHELTER and data.get("sites") else "status"
    return {"shelter": "status", "note": "location"}.get(state or "")


conv = intent.conversation(Conversation("safety", "safety", timeout=timedelta(minutes=30), expired_text="safety.expired",
                                        resume_label="resume", free_text=("note",), back=where_back,
                                        quit_chips=menu_chips))


class Reporter(Phrasebook):
    intent = "safety"

    @property
    def data(self) -> dict[str, Any]:
        return self.conversation.data

    def status_label(self, status: str) -> str:
        return self.content["safety"].labels[status].get(self.lang)

    def people_label(self, n: int) -> str:
        key = "people_more" if n == MORE else "people"  # typed, 6 is 6人以上 too: at least that many
        return self.content["safety"].labels[key].get(self.lang).format(n=n)

    def sites(self) -> list[tuple[str, str]]:
        """(id, name in the resident's language) of the incident's open sites, theirs first."""
        known = shelters_of(self.content)
        district = self.resident.district
        sites = [s for i in self.data.get("sites", []) if (s := known.get(i))]
        sites.sort(key=lambda s: s.district != district)
        return [(s.id, s.name_in(self.lang)) for s in sites[:MAX_SITES]]

    def ask(self, state: str) -> None:
        chips: list[Tap]
        if state == "status":
            chips = [self.chip(s.value, f"action=safety.status&step=status&is={s.value}") for s in STATUSES]
            question = self.say("ask_status", hazard=inc.hazard_name(self.content, self.lang, self.data["hazard"]),
                                level=self.data["level"])
        elif state == "shelter":
            chips = [Tap(name[:20], f"action=safety.shelter&step=shelter&id={i}", name) for i, name in self.sites()]
            chips.append(self.chip("other_shelter", "action=safety.shelter&step=shelter&id="))
            question = self.say("ask_shelter")
        elif state == "people":
            chips = [Tap(self.people_label(n), f"action=safety.people&step=people&n={n}", self.people_label(n))
                     for n in range(1, PEOPLE_BUTTONS + 1)]
            chips.append(self.chip("people_more", f"action=safety.people&step=people&n={MORE}"))
            question = self.say("ask_people")
        elif state == "location":
            chips = [ShareLocation(self.chip("location", "").label), self.chip("skip", "action=safety.skip&step=location")]
            question = self.say("ask_location")
        else:
            chips = [self.chip("skip", "action=safety.skip&step=note")]
            question = self.say("ask_note")
        self.reply(*self.notes, question, quick=[*chips, *conv.chips(self.conversation, self.content, self.lang)])

    def go(self, state: str, **data: Any) -> None:
        self.conversation.goto(state, **data)
        self.ask(state)

    def report(self) -> Any:
        return sr.report_of(self.session, int(self.data["incident"]), self.resident.id)

    def summary(self, row: Any) -> str:
        status = self.status_label(row.status)
        if row.status == SafetyStatus.SHELTER and row.shelter_id:
            site = shelters_of(self.content).get(row.shelter_id)
            status += f"（{site.name_in(self.lang)}）" if site else ""
        return self.say("summary", status=status, people=self.people_label(row.people))

    def done(self, key: str, row: Any, *chips: Tap) -> None:
        """Said and kept: with 「家族に知らせる」, LINE's share picker holding what was reported."""
        self.conversation.end()
        summary = self.summary(row)
        family = Share(self.content.text("shelters.share_label", self.lang), self.say("share", summary=summary))
        self.reply(*self.notes, self.say(key, summary=summary), quick=[*chips, family, menu_chip(self.content, self.lang)])


# -- entry -----------------------------------------------------------------------------------------
@intent.entry
def report_safety(turn):
    """「安否」, 「助けて」, a broadcast's button: the incident concerning the resident's district."""
    incidents = inc.concerning(inc.seen_by(turn.session, turn.resident, turn.now), turn.resident.district)
    if not incidents:
        return turn.reply(turn.say("safety.nothing"), quick=[menu_chip(turn.content, turn.lang)])
    incident = incidents[0]  # the most serious first
    turn.conversation.start(conv.name, "status", incident=incident.id, hazard=incident.hazard, level=incident.level,
                            sites=list(incident.shelters))
    reporter = Reporter(turn)
    before = sr.report_of(turn.session, incident.id, turn.resident.id)
    if before is not None:
        at = before.updated_at.astimezone(ZoneInfo(turn.config.timezone)).strftime("%m/%d %H:%M")
        reporter.note("before", summary=reporter.summary(before), at=at)
    reporter.ask("status")


@intent.postback("safety.add")
def add_to_report(turn):
    """「場所・ひとことを送る」 after a safe report: its place, then a note."""
    incident_id = sr_id(turn.params.get("incident"))
    row = sr.report_of(turn.session, incident_id, turn.resident.id) if incident_id is not None else None
    active = {i.id for i in inc.seen_by(turn.session, turn.resident, turn.now)}
    if row is None or incident_id not in active:
        return report_safety(turn)
    turn.conversation.start(conv.name, "location", incident=incident_id, status=row.status.value, adding=True)
    Reporter(turn).ask("location")


def sr_id(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 10 else None


# -- the steps ------------------------------------------------------------------------------------
@conv.state("status")
def status(turn):
    reporter, got = Reporter(turn), conv.answer(turn)
    said = got.params.get("is") if got.verb == "status" else typed_status(reporter, got.text)
    if said not in {s.value for s in STATUSES}:
        return unclear(reporter, "status")
    if said == SafetyStatus.SHELTER and reporter.data.get("sites"):
        return reporter.go("shelter", status=said)
    reporter.go("people", status=said, shelter=None)


@conv.state("shelter")
def shelter(turn):
    reporter, got = Reporter(turn), conv.answer(turn)
    sites = dict(reporter.sites())
    if got.verb == "shelter":
        chosen = got.params.get("id") or None
        if chosen is not None and chosen not in reporter.data.get("sites", []):
            return unclear(reporter, "shelter")
    else:
        typed = normalize(got.text)
        chosen = next((i for i, name in sites.items() if typed and typed == normalize(name)), None)
        if chosen is None:
            return unclear(reporter, "shelter")
    reporter.go("people", shelter=chosen)


@conv.state("people")
def people(turn):
    reporter, got = Reporter(turn), conv.answer(turn)
    n = sr_id(got.params.get("n")) if got.verb == "people" else typed_people(got.text)
    if n is None or not 1 <= n <= MAX_PEOPLE:
        return unclear(reporter, "people")
    data = reporter.data
    row = sr.save(turn.session, incident_id=int(data["incident"]), resident_id=turn.resident.id,
                  status=SafetyStatus(data["status"]), people=n, shelter_id=data.get("shelter"), now=turn.now)
    if row.status == SafetyStatus.HELP:
        return reporter.go("location")
    add = reporter.chip("add", f"action=safety.add&incident={row.incident_id}")
    reporter.done("saved", row, add)


@conv.state("location", kinds=("text", "postback", "location"))
def location(turn):
    reporter, got = Reporter(turn), conv.answer(turn)
    row = reporter.report()
    if row is None:  # erased meanwhile (the incident's retention, a deletion): start again
        turn.conversation.end()
        return report_safety(turn)
    place = turn.location
    if place is not None:
        try:
            lat, lon = float(place["latitude"]), float(place["longitude"])
        except (KeyError, ValueError):
            return unclear(reporter, "location")
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            return unclear(reporter, "location")
        sr.add_location(row, lat, lon, turn.now)
        return reporter.go("note")
    if got.verb == "skip" or reporter.means("skip", got):
        return reporter.go("note")
    if not got.verb and got.text.strip():  # words instead of the map: the note
        sr.add_note(row, got.text, turn.now)
        return finish(reporter, row)
    return unclear(reporter, "location")


@conv.state("note")
def note(turn):
    reporter, got = Reporter(turn), conv.answer(turn)
    row = reporter.report()
    if row is None:
        turn.conversation.end()
        return report_safety(turn)
    if got.verb == "skip" or reporter.means("skip", got):
        return finish(reporter, row)
    if got.verb or not got.text.strip():
        return unclear(reporter, "note")
    sr.add_note(row, got.text, turn.now)
    finish(reporter, row)


def finish(reporter: Reporter, row: Any) -> None:
    if reporter.data.get("adding"):
        reporter.conversation.end()
        return reporter.reply(*reporter.notes, reporter.say("added"), quick=[menu_chip(reporter.content, reporter.lang)])
    reporter.done("saved_help" if row.status == SafetyStatus.HELP else "saved", row)


@conv.asks
def ask_again(turn):
    Reporter(turn).ask(turn.conversation.state)


# -- typed answers ---------------------------------------------------------------------------------
def typed_status(reporter: Reporter, text: str) -> str | None:
    """A status button's label typed (「自宅で無事」, "Safe at home") instead of tapped."""
    typed = normalize(text)
    labels = reporter.content["safety"].labels
    for status_ in STATUSES:
        if typed and typed in {normalize(labels[status_.value].get(lang)) for lang in ("ja", "en", "easy_ja")}:
            return status_.value
    return None


KANJI = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}


def typed_people(text: str) -> int | None:
    """「3」「３人」「3名」「三人」"3 people" -> 3; anything else None."""
    typed = unicodedata.normalize("NFKC", text or "").strip().lower()
    found = re.fullmatch(r"(\d{1,2})\s*(人|名|にん|people|persons?)?(です)?", typed)
    if found:
        return int(found.group(1))
    found = re.fullmatch(r"([一二三四五六七八九十])\s*(人|名)(です)?", typed)
    return KANJI[found.group(1)] if found else None


def unclear(reporter: Reporter, state: str) -> Any:
    reporter.note("not_understood")
    reporter.ask(state)
    return NOT_UNDERSTOOD


# -- the clock -------------------------------------------------------------------------------------
@intent.every("*/10 * * * *", name="safety.erase")
def erase_expired(session, now, content):
    """Reports past the city's retention after their incident ended (and any of a resident
    who blocked the account) are erased; the desk stops showing them at that moment anyway."""
    sr.erase_expired(session, now, sr.retention(content))
