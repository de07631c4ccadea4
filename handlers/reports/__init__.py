"""通報: a resident tells the city about a problem — with photos, the place, a few words.

「道路に穴があいています」, 「公園のブランコが壊れている」 (a kind's thing and something
wrong with it, words.py), the menu's 通報する, or a photo sent out of the blue starts a
conversation (bot/conversation.py), one question at a time:

    kind -> photo (1 to 3, or none where the kind allows) -> place -> description -> confirm

Photos arrive as image events; each is fetched from LINE's data endpoint (`media`),
stripped of its metadata and stored (photos.py). The place is a LINE location message
(the 位置情報を送る chip opens LINE's map) or typed words. 市に送る gives a number
(R-2026-000123); staff see the report in /admin (admin.py) and every status change they
make is pushed to the resident, who is never named to them (tables.py).

Every question has 戻る (from the second on) and やめる; a report left for 30 minutes
lapses politely, and its photos go with the nightly job.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.content.store import Content
from bot.conversation import AGAIN, DONE, NOT_UNDERSTOOD, UNKNOWN, Answer, Conversation, Phrasebook
from bot.lookup import normalize
from bot.messages import Camera, CameraRoll, ShareLocation, Tap
from bot.messenger import LineError
from bot.models import Resident
from bot.router import Intent, parse_postback
from bot.turn import Turn

from ..menu import menu_chip, menu_chips
from . import domain
from .photos import NotAPhoto, clean
from .tables import Report
from .words import MAX_PHOTOS, TEXTS, ReportsContent, kind_typed, kinds_named, recognize

log = logging.getLogger(__name__)

intent = Intent("reports", content=ReportsContent, texts=TEXTS, recognize=recognize)
ORDER = ("kind", "photo", "place", "description", "confirm")
BACK = {"photo": "kind", "place": "photo", "description": "place", "confirm": "description"}
conv = intent.conversation(Conversation("report", "reports", timeout=timedelta(minutes=30),
                                        expired_text="reports.expired", resume_label="resume",
                                        free_text=("place", "description"), back=BACK,
                                        quit_chips=menu_chips))


class Flow(Phrasebook):
    """One event of a report being written: the resident, the conversation, what to say."""

    intent = "reports"

    @property
    def words(self) -> ReportsContent:
        return self.content["reports"]

    @property
    def data(self) -> dict[str, Any]:
        return self.conversation.data

    @property
    def photos(self) -> list[int]:
        return list(self.data.get("photos", []))

    def kind_label(self) -> str:
        kind = self.words.kind(self.data.get("kind", ""))
        return kind.label.get(self.lang) if kind else ""

    def start(self, state: str, **data: Any) -> None:
        self.conversation.start(conv.name, state, photos=[], **data)
        self.ask(state)

    def ask(self, state: str) -> None:
        question, options = QUESTIONS[state](self)
        self.reply(*self.notes, question, quick=[*options, *conv.chips(self.conversation, self.content, self.lang)])

    def go(self, state: str, **data: Any) -> None:
        self.conversation.goto(state, **data)
        self.ask(state)


# -- the questions: (text, chips before 戻る and やめる) --------------------------------------------
def ask_kind(flow: Flow) -> tuple[str, list[Tap]]:
    chips = [Tap(k.label.get(flow.lang), f"action=report.kind&step=kind&id={k.id}", k.label.get(flow.lang))
             for k in flow.words.kinds]
    return flow.say("ask_kind_photo" if flow.photos else "ask_kind"), chips


def ask_photo(flow: Flow) -> tuple[str, list[Tap]]:
    kind = flow.words.kind(flow.data["kind"])
    chips: list[Tap] = [Camera(flow.chip("camera", "").label), CameraRoll(flow.chip("camera_roll", "").label)]
    if flow.photos:
        chips.append(flow.chip("next", "action=report.next&step=photo"))
        return flow.say("photo_received", count=len(flow.photos)), chips
    if kind is not None and not kind.photo_required:
        chips.append(flow.chip("no_photo", "action=report.next&step=photo"))
        return flow.say("ask_photo_optional", kind=flow.kind_label()), chips
    return flow.say("ask_photo", kind=flow.kind_label()), chips


def ask_place(flow: Flow) -> tuple[str, list[Tap]]:
    return flow.say("ask_place"), [ShareLocation(flow.chip("location", "").label)]


def ask_description(flow: Flow) -> tuple[str, list[Tap]]:
    return flow.say("ask_description"), [flow.chip("skip", "action=report.skip&step=description")]


def ask_confirm(flow: Flow) -> tuple[str, list[Tap]]:
    data = flow.data
    place = data.get("place") or (flow.say("on_map") if data.get("latitude") is not None else "")
    summary = flow.say("summary", kind=flow.kind_label(), photos=len(flow.photos), place=place,
                       description=data.get("description") or flow.say("no_description"))
    return summary, [flow.chip("send", f"action=report.send&step=confirm&token={data['token']}")]


QUESTIONS: dict[str, Callable[[Flow], tuple[str, list[Tap]]]] = {
    "kind": ask_kind, "photo": ask_photo, "place": ask_place, "description": ask_description, "confirm": ask_confirm,
}


# -- the answers ------------------------------------------------------------------------------------
def take_kind(flow: Flow, answer: Answer) -> str:
    if answer.verb == "kind":
        kind = flow.words.kind(answer.params.get("id", ""))
    elif not answer.verb and answer.text.strip():
        kind = kind_typed(flow.words, answer.text)
    else:
        kind = None
    if kind is None:
        return UNKNOWN
    flow.conversation.goto("photo", kind=kind.id)
    return "photo"


def take_photo(flow: Flow, answer: Answer) -> str:
    if answer.verb != "next" and not flow.means("next", answer):
        return UNKNOWN
    kind = flow.words.kind(flow.data["kind"])
    if not flow.photos and kind is not None and kind.photo_required:
        flow.note("photo_required", kind=flow.kind_label())
        return AGAIN
    return "place"


def take_place(flow: Flow, answer: Answer, location: dict[str, str] | None) -> str:
    if location is not None:
        try:
            lat, lon = float(location["latitude"]), float(location["longitude"])
        except (KeyError, ValueError):
            return UNKNOWN
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            return UNKNOWN
        named = (location.get("address") or location.get("title") or "").strip()
        flow.conversation.goto("place", latitude=lat, longitude=lon, place=named[:200] or None)
    elif not answer.verb and answer.text.strip():
        flow.conversation.goto("place", latitude=None, longitude=None, place=" ".join(answer.text.split())[:200])
    else:
        return UNKNOWN
    return "confirm" if flow.data.get("described") else "description"


def take_description(flow: Flow, answer: Answer) -> str:
    if answer.verb == "skip" or flow.means("skip", answer):
        flow.conversation.goto("description", description=None)
    elif not answer.verb and answer.text.strip():
        flow.conversation.goto("description", description=answer.text.strip()[:1000])
    else:
        return UNKNOWN
    return "confirm"


def take_confirm(flow: Flow, answer: Answer, tz: ZoneInfo) -> str:
    data = flow.data
    if answer.verb == "send" and answer.params.get("token") != data["token"]:
        return UNKNOWN
    if answer.verb != "send" and not flow.means("send", answer):
        return UNKNOWN
    draft = domain.Draft(kind=data["kind"], photo_ids=tuple(flow.photos), latitude=data.get("latitude"),
                         longitude=data.get("longitude"), place=data.get("place"),
                         description=data.get("description"))
    report, _ = domain.submit(flow.session, flow.resident.id, draft, f"chat:{data['token']}", flow.now, tz)
    flow.conversation.end()
    kind = flow.words.kind(report.kind)
    flow.reply(*flow.notes, flow.say("sent", number=report.number, department=kind.department if kind else ""),
               quick=[menu_chip(flow.content, flow.lang)])
    return DONE


def take_image(flow: Flow, state: str, media: Any) -> str:
    """A photo, whatever the question: kept while there is room for it."""
    if len(flow.photos) >= MAX_PHOTOS:
        flow.note("photos_max")
        return AGAIN
    photo_id = fetch_photo(flow, media)
    if photo_id is None:
        return AGAIN
    photos = [*flow.photos, photo_id]
    flow.conversation.goto(state, photos=photos)
    if state == "photo" and len(photos) >= MAX_PHOTOS:
        flow.note("photos_full")
        return "place"
    if state != "photo":  # answered on the side: say so, then the question again
        flow.note("photo_received", count=len(photos))
    return AGAIN


def fetch_photo(flow: Flow, media: Any) -> int | None:
    """The event's photo, fetched, cleaned and stored; None (and a note why) when it cannot be."""
    try:
        data, _ = media()
        photo = clean(data)
    except LineError as err:
        log.warning("photo not fetched from LINE: %s", err)
        flow.note("photo_failed")
        return None
    except NotAPhoto as err:
        log.info("photo refused: %s", err)
        flow.note("photo_not_image")
        return None
    return domain.keep_draft_photo(flow.session, flow.resident.id, photo, flow.now)


def answer(turn):
    """A question's answer (やめる, 戻る and old buttons are the driver's: bot/conversation.py)."""
    flow = Flow(turn)
    state = turn.conversation.state
    if turn.media is not None:
        outcome = take_image(flow, state, turn.media)
        return flow.go(outcome) if outcome not in (AGAIN,) else flow.ask(state)
    got = conv.answer(turn)
    if not got.verb and turn.text:  # a button's label typed instead of tapped
        got = typed_button(flow, state, got)
    if state == "kind":
        outcome = take_kind(flow, got)
    elif state == "photo":
        outcome = take_photo(flow, got)
    elif state == "place":
        outcome = take_place(flow, got, turn.location)
    elif state == "description":
        outcome = take_description(flow, got)
    else:
        outcome = take_confirm(flow, got, ZoneInfo(turn.config.timezone))
    return flow.settle(state, outcome)


for _state in ORDER:
    conv.state(_state, kinds=("text", "postback", "location", "image"))(answer)


@conv.asks
def ask_again(turn):
    """The question they are at, again: after 戻る, an old button, or back from another subject."""
    Flow(turn).ask(turn.conversation.state)


@conv.on_quit
def drop_photos(session, resident, conversation):
    """やめる: the photos sent for this report go at once."""
    domain.drop_draft_photos(session, resident.id, list(conversation.data.get("photos", [])))


def typed_button(flow: Flow, state: str, got: Answer) -> Answer:
    typed = normalize(got.text)
    for tap in QUESTIONS[state](flow)[1]:
        if typed and tap.data and typed == normalize(tap.label):
            action, params = parse_postback(tap.data)
            return Answer(action.removeprefix(conv.action_prefix), params, got.text)
    return got


# -- entry points ---------------------------------------------------------------------------------
@intent.entry
def open_report(turn):
    """「通報」 or the menu: which kind; 「道路に穴があいています」: that kind, the words kept."""
    words: ReportsContent = turn.content["reports"]
    flow, text = Flow(turn), turn.text if turn.kind == "text" else ""
    named = kinds_named(words, text) if text else []
    typed = normalize(text)
    is_keyword = typed in {normalize(k) for k in words.keywords.all()}
    said = text.strip()[:1000] if text and not is_keyword and len(typed) >= 6 else None
    start = {"token": uuid.uuid4().hex, "description": said, "described": said is not None}
    if len(named) == 1:
        return flow.start("photo", kind=named[0].id, **start)
    flow.start("kind", **start)


@intent.on("image")
def photo_first(turn):
    """A photo out of the blue: most likely something to report. Kept, then: which kind?"""
    flow = Flow(turn)
    photo_id = fetch_photo(flow, turn.media)
    if photo_id is None:
        return turn.reply(*flow.notes, quick=[menu_chip(turn.content, turn.lang)])
    turn.conversation.start(conv.name, "kind", photos=[photo_id], token=uuid.uuid4().hex, description=None,
                            described=False)
    flow.ask("kind")


@intent.postback("report.start")
def restart(turn):
    open_report(turn)


@intent.postback("report.send")
def sent_before(turn):
    """市に送る tapped again after the report was sent: the same report, never a second (other
    buttons of a report that is over are the driver's: 「もう終わっています」)."""
    report = turn.session.scalars(select(Report).where(Report.request_key == f"chat:{turn.params.get('token', '')}",
                                                       Report.resident_id == turn.resident.id)).first()
    if report is None:
        return restart(turn)
    turn.reply(turn.say("reports.already_sent", number=report.number), quick=[menu_chip(turn.content, turn.lang)])


# -- the night ------------------------------------------------------------------------------------
@intent.every("17 3 * * *")
def prune(session, now):
    """Photos of reports nobody sent (left, timed out) are deleted after a day."""
    domain.prune_draft_photos(session, now)
