"""粗大ごみ: a large-waste pickup booked entirely in the chat, and never overbooked.

「粗大ごみ」 (or the menu's button) starts a conversation (bot/conversation.py), one
question at a time:

    area -> item -> quantity -> more -> date -> place -> name -> address -> phone
         -> confirm -> booking number

The area comes from the resident's profile when they registered one, else it is asked
(and kept in the conversation only). Items are typed (the garbage dictionary finds them;
only large-waste items are taken) or tapped: by kind, a page at a time
(items.py). Only collection days inside the booking window, before
their cut-off and with places left are offered; the booking itself takes its place
atomically (domain.py). The crew needs a name, an address and a phone: they are
asked after saying why and for how long they are kept (contact.py),
and erased by the clock after the city's retention (contact_data.py). Every
question has 戻る (one step back) and やめる. 確定 carries a token stored with the summary,
so a double tap books once.

「予約確認」 lists upcoming bookings, each with 取り消す and 日にちを変える (until the
cut-off). The evening before collection a reminder goes to each booking's resident.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot import profile
from bot.content.store import Content
from bot.conversation import AGAIN, DONE, NOT_UNDERSTOOD, UNKNOWN, Answer, ConversationControl, Phrasebook
from bot.lookup import normalize
from bot.messages import Tap
from bot.models import Resident
from bot.router import parse_postback
from bot.turn import Turn
from handlers.garbage import format_date
from handlers.garbage.book import GarbageBook, book_for
from handlers.garbage.models import Item
from handlers.menu import menu_chip

from . import contact as contact_steps
from . import domain as lw
from . import items as picker
from .said import bookable_areas, booked_reply, display, item_chip, item_lines, own_booking, pieces_left
from .words import LargeWasteContent, conv, intent  # noqa: F401 - LargeWasteContent: what it was imported as

ORDER = ("area", "item", "quantity", "more", "date", "place", *contact_steps.STEPS, "confirm")
#: Buttons of the bookings list; tapped during a booking, they end it and are answered.
OUTSIDE = ("bookings", "cancel", "change")
#: Buttons of an earlier booked message; tapped during a booking, they are answered and it goes on.
ASIDE = ("keep_address",)
OUTSIDE_HANDLERS: dict[str, Callable[..., Any]] = {}  # their handlers (entry.py)


class Flow(Phrasebook):
    """One event of a booking: the resident, the conversation, what to say next."""

    intent = "large_waste"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.turn.config.timezone)

    @property
    def words(self) -> LargeWasteContent:
        return self.content["large_waste"]

    @property
    def rules(self) -> lw.RulesFile:
        return lw.rules_of(self.content)

    @property
    def book(self) -> GarbageBook:
        return book_for(self.content)

    @property
    def data(self) -> dict[str, Any]:
        return self.conversation.data

    @property
    def items(self) -> list[dict[str, Any]]:
        return list(self.data.get("items", []))

    def start(self, state: str, **data: Any) -> None:
        self.conversation.start(conv.name, state, mode="book", items=[], page=0, **data)
        self.ask(state)

    def ask(self, state: str) -> None:
        question, options, fixed = QUESTIONS[state](self)
        chips, _, _ = self.paging(state, options, fixed)
        self.reply(*self.notes, question, quick=chips)

    def paging(self, state: str, options: list[Tap], fixed: list[Tap]) -> tuple[list[Tap], int, int]:
        """(chips, page, pages): the question's options a page at a time, with ◀ 前へ / 次へ ▶,
        then its own fixed chips, 戻る (where there is a step before) and やめる."""
        fixed = [*fixed, *conv.chips(self.conversation, self.content, self.lang)]
        return picker.pages(options, fixed, self.data.get("page", 0),
                            lambda which, page: self.chip(which, f"action=large_waste.more&step={state}&page={page}"))

    def go(self, state: str, **data: Any) -> None:
        self.conversation.goto(state, page=0, **data)
        self.ask(state)

    def area_name(self, area_id: str) -> str:
        area = self.book.areas.get(area_id)
        return area.name.get(self.lang) if area else area_id

    def date_text(self, day: date) -> str:
        return format_date(self.content, self.lang, day)

    def place_text(self, place: str) -> str:
        chosen = next((p for p in self.rules.places if p.id == place), None)
        return chosen.label.get(self.lang) if chosen else place


# -- the questions: (text, options, fixed chips before 戻る and やめる) ------------------------------
def ask_area(flow: Flow) -> tuple[str, list[Tap], list[Tap]]:
    options = [Tap(a.name.get(flow.lang), f"action=large_waste.area&step=area&id={a.id}", a.name.get(flow.lang))
               for a in bookable_areas(flow)]
    return flow.say("ask_area"), options, []


def ask_item(flow: Flow) -> tuple[str, list[Tap], list[Tap]]:
    """The kinds (家具（24）, 家電（15）…), or the items of the kind chosen, a page at a
    time; the question always says the name can be typed."""
    question = flow.say("ask_item_area", area=flow.area_name(flow.data["area"])) if not flow.items \
        else flow.say("ask_item")
    chosen = open_group(flow)
    if chosen is None:
        options = []
        for g in picker.groups(flow.content):
            label = picker.group_label(flow.content, flow.lang, g)
            data = f"action=large_waste.kind&step=item&id={g.id}"
            options.append(Tap(f"{label}（{len(g.items)}）"[:20], data, label))
        return question, options, []
    options = [item_chip(flow.lang, i) for i in chosen.items]
    if len(picker.groups(flow.content)) > 1:
        _, page, pages = flow.paging("item", options, [])
        question = flow.say("ask_kind_items", kind=picker.group_label(flow.content, flow.lang, chosen),
                            count=len(chosen.items), page=page + 1, pages=pages)
    return question, options, []


def open_group(flow: Flow) -> picker.Group | None:
    """The group whose items are shown: the one chosen, or the only one there is."""
    groups = picker.groups(flow.content)
    if len(groups) == 1:
        return groups[0]
    return picker.group(flow.content, flow.data.get("kind"))


def ask_quantity(flow: Flow) -> tuple[str, list[Tap], list[Tap]]:
    pending = flow.data["pending"]
    most = min(5, pieces_left(flow))
    options = [Tap(str(n), f"action=large_waste.qty&step=quantity&n={n}", str(n)) for n in range(1, most + 1)]
    return flow.say("ask_quantity", item=display(flow, pending), fee=f"{pending['fee']:,}"), options, []


def ask_more(flow: Flow) -> tuple[str, list[Tap], list[Tap]]:
    text = flow.say("ask_more", items=item_lines(flow, flow.items), total=f"{lw.total_fee(flow.items):,}")
    options = [flow.chip("done", "action=large_waste.done&step=more")]
    if pieces_left(flow) > 0 and len(flow.items) < flow.rules.limits.kinds:
        options.insert(0, flow.chip("add", "action=large_waste.add&step=more"))
    return text, options, []


def ask_date(flow: Flow) -> tuple[str, list[Tap], list[Tap]]:
    area = flow.data["area"]
    changing = flow.data.get("mode") == "change"
    dates = lw.offered_dates(flow.session, flow.rules, area, flow.now, flow.tz,
                             excluding=date.fromisoformat(flow.data["was"]) if changing else None)
    if not dates:
        return flow.say("no_dates", area=flow.area_name(area)), [], []
    options = [Tap(flow.date_text(d), f"action=large_waste.date&step=date&d={d.isoformat()}", flow.date_text(d))
               for d in dates]
    if changing:
        return flow.say("ask_new_date", number=flow.data["number"],
                        date=flow.date_text(date.fromisoformat(flow.data["was"]))), options, []
    return flow.say("ask_date", area=flow.area_name(area)), options, []


def ask_place(flow: Flow) -> tuple[str, list[Tap], list[Tap]]:
    if flow.data.get("typing_place"):
        return flow.say("ask_place_other"), [], []
    options = [Tap(p.label.get(flow.lang), f"action=large_waste.place&step=place&id={p.id}", p.label.get(flow.lang))
               for p in flow.rules.places]
    return flow.say("ask_place"), options, []


def ask_confirm(flow: Flow) -> tuple[str, list[Tap], list[Tap]]:
    data = flow.data
    summary = flow.say("summary", items=item_lines(flow, flow.items), total=f"{lw.total_fee(flow.items):,}",
                       date=flow.date_text(date.fromisoformat(data["date"])), place=flow.place_text(data["place"]),
                       **contact_steps.summary_values(flow))
    return summary, [flow.chip("confirm", f"action=large_waste.confirm&step=confirm&token={data['token']}")], []


QUESTIONS: dict[str, Callable[[Flow], tuple[str, list[Tap], list[Tap]]]] = {
    "area": ask_area, "item": ask_item, "quantity": ask_quantity, "more": ask_more, "date": ask_date,
    "place": ask_place, "name": contact_steps.ask_name, "address": contact_steps.ask_address,
    "phone": contact_steps.ask_phone, "confirm": ask_confirm,
}


@conv.on_back
def back_from(conversation: ConversationControl, content: Content) -> tuple[str, dict[str, Any]] | None:
    """(the question 戻る leads to, what it undoes); None where there is none before."""
    state, data = conversation.state, conversation.data
    if data.get("mode") == "change" or state == "area":
        return None
    undo = {"pending": None, "kind": None, "typing_place": False, "page": 0}
    if state == "item":
        if data.get("kind") and len(picker.groups(content)) > 1:
            return "item", undo  # from a kind's items to the kinds
        target = "more" if data.get("items") else ("area" if data.get("asked_area") else None)
        return (target, undo) if target else None
    if state == "more":  # the last item's quantity is asked again
        *items, last = data["items"]
        return "quantity", {"items": items, "page": 0, "pending": {k: last[k] for k in ("name", "category", "fee")}}
    return {"quantity": "item", "date": "more", "place": "date", "name": "place", "address": "name",
            "phone": "address", "confirm": "phone"}[state], undo


# -- the answers ------------------------------------------------------------------------------------
def take_area(flow: Flow, answer: Answer) -> str:
    areas = bookable_areas(flow)
    if answer.verb == "area":
        chosen = next((a for a in areas if a.id == answer.params.get("id")), None)
    else:
        chosen = profile.find(areas, answer.text) if not answer.verb else None
    if chosen is None:
        return UNKNOWN
    flow.conversation.goto("item", area=chosen.id)
    return "item"


def take_item(flow: Flow, answer: Answer) -> str:
    book = flow.book
    if answer.verb == "kind":
        if picker.group(flow.content, answer.params.get("id")) is not None:
            flow.conversation.goto("item", kind=answer.params["id"], page=0)
        return AGAIN
    if answer.verb == "item":
        item = book.item(answer.params.get("name", ""), answer.params.get("category", ""))
        return pick_item(flow, item) if item in lw.bookable_items(book) else UNKNOWN
    if answer.verb or not answer.text.strip():
        return UNKNOWN
    found = book.find(answer.text)
    if found.kind == "none":
        found = book.dictionary.find_contained(answer.text)
    if found.best is not None:
        if found.best not in lw.bookable_items(book):
            flow.note("not_large", item=found.best.display(flow.lang),
                      category=book.category_of(found.best).name.get(flow.lang))
            return AGAIN
        return pick_item(flow, found.best)
    bookable = lw.bookable_items(book)
    hits = [hit.entry for hit in found.hits if hit.entry in bookable]
    if len(hits) == 1:
        return pick_item(flow, hits[0])
    if hits:
        chips = [item_chip(flow.lang, item) for item in hits[:10]]
        flow.reply(*flow.notes, flow.say("choose"), quick=[*chips, *conv.chips(flow.conversation, flow.content,
                                                                                  flow.lang)[-1:]])
        return DONE
    kind = picker.named_group(flow.content, answer.text)  # 「家具」: the kind's buttons
    if kind is not None:
        flow.conversation.goto("item", kind=kind.id, page=0)
        return AGAIN
    flow.note("not_found", text=answer.text.strip()[:30])
    return AGAIN


def pick_item(flow: Flow, item: Item) -> str:
    chosen = {"name": item.name, "category": item.category, "fee": item.fee or 0}
    known = any(i["name"] == item.name and i["category"] == item.category for i in flow.items)
    if pieces_left(flow) <= 0 or (not known and len(flow.items) >= flow.rules.limits.kinds):
        flow.note("too_many", pieces=flow.rules.limits.pieces, kinds=flow.rules.limits.kinds)
        return "more"
    flow.conversation.goto("quantity", pending=chosen, kind=None)
    return "quantity"


def take_quantity(flow: Flow, answer: Answer) -> str:
    if answer.verb == "qty":
        typed = answer.params.get("n", "")
    elif not answer.verb:
        typed = next(iter(re.findall(r"\d+", unicodedata.normalize("NFKC", answer.text))), "")
    else:
        return UNKNOWN
    if not typed.isdigit() or int(typed) < 1:
        return UNKNOWN
    quantity = int(typed)
    if quantity > pieces_left(flow):
        flow.note("too_many", pieces=flow.rules.limits.pieces, kinds=flow.rules.limits.kinds)
        return AGAIN
    pending, items = flow.data["pending"], flow.items
    same = next((i for i in items if i["name"] == pending["name"] and i["category"] == pending["category"]), None)
    if same is not None:
        items[items.index(same)] = {**same, "quantity": same["quantity"] + quantity}
    else:
        items.append({**pending, "quantity": quantity})
    flow.conversation.goto("more", items=items, pending=None, kind=None)
    return "more"


def take_more(flow: Flow, answer: Answer) -> str:
    if answer.verb == "add" or flow.means("add", answer):
        return "item"
    if answer.verb == "done" or flow.means("done", answer):
        return "date"
    return UNKNOWN


def take_date(flow: Flow, answer: Answer) -> str:
    try:
        day = date.fromisoformat(answer.params.get("d", "")) if answer.verb == "date" else None
    except ValueError:
        day = None
    if day is None:
        return UNKNOWN
    data = flow.data
    if data.get("mode") == "change":
        return move_booking(flow, day)
    if day not in lw.offered_dates(flow.session, flow.rules, data["area"], flow.now, flow.tz, limit=100):
        flow.note("day_closed")
        return AGAIN
    flow.conversation.goto("place", date=day.isoformat())
    return "place"


def take_place(flow: Flow, answer: Answer) -> str:
    if answer.verb == "place":
        place = next((p for p in flow.rules.places if p.id == answer.params.get("id")), None)
        if place is None:
            return UNKNOWN
        if place.other:
            flow.conversation.goto("place", typing_place=True)
            return AGAIN
        chosen = place.id
    elif not answer.verb and answer.text.strip():
        chosen = " ".join(answer.text.split())[:50]
    else:
        return UNKNOWN
    flow.conversation.goto("name", place=chosen, typing_place=False, token=uuid.uuid4().hex)
    return "name"


def take_confirm(flow: Flow, answer: Answer) -> str:
    data = flow.data
    if answer.verb == "confirm" and answer.params.get("token") != data["token"]:
        return UNKNOWN
    if answer.verb != "confirm" and not flow.means("confirm", answer):
        return UNKNOWN
    contact = contact_steps.complete(flow)
    if contact is None:  # a conversation from before the contact was asked: ask it now
        return "name"
    outcome = lw.book(flow.session, flow.rules, resident_id=flow.resident.id, area=data["area"],
                      day=date.fromisoformat(data["date"]), place=flow.place_text(data["place"]),
                      items=flow.items, request_key=f"chat:{data['token']}", now=flow.now, tz=flow.tz,
                      contact=contact)
    if outcome.booking is None:
        flow.note("day_full" if outcome.status == "full" else "day_closed")
        return "date"
    offer = contact_steps.address_to_offer(flow)
    flow.conversation.end()
    booked_reply(flow.reply, flow.content, flow.lang, outcome.booking, flow.notes, offer_address=offer)
    return DONE


ANSWERS: dict[str, Callable[[Flow, Answer], str]] = {
    "area": take_area, "item": take_item, "quantity": take_quantity, "more": take_more, "date": take_date,
    "place": take_place, "name": contact_steps.take_name, "address": contact_steps.take_address,
    "phone": contact_steps.take_phone, "confirm": take_confirm,
}


def answer(turn):
    """A question's answer (やめる, 戻る and old buttons are the driver's: bot/conversation.py)."""
    flow, conversation = Flow(turn), turn.conversation
    state = conversation.state
    got = conv.answer(turn)
    if not got.verb and turn.text:  # a button's label typed instead of tapped
        got = typed_button(flow, state, got)
    if got.verb in OUTSIDE:
        conversation.end()
        return OUTSIDE_HANDLERS[got.verb](turn, got.params)
    if got.verb in ASIDE:  # answered, and the booking goes on
        OUTSIDE_HANDLERS[got.verb](turn, got.params)
        return flow.ask(state)
    if got.verb and got.params.get("step") != state:  # a button of this booking's that asks nothing
        flow.note("old_question")
        return flow.ask(state)
    if got.verb == "more":
        conversation.goto(state, page=int(got.params["page"]) if got.params.get("page", "").isdigit() else 0)
        return flow.ask(state)
    outcome = ANSWERS[state](flow, got)
    return flow.settle(state, outcome)


for _state in ORDER:
    conv.state(_state)(answer)


@conv.asks
def ask_again(turn):
    """The question they are at, again: after 戻る, an old button, or back from another subject."""
    Flow(turn).ask(turn.conversation.state)


def typed_button(flow: Flow, state: str, got: Answer) -> Answer:
    """A button's label typed instead of tapped, 「次へ」 and 「前へ」 of a paged question too."""
    typed = normalize(got.text)
    if not typed:
        return got
    options = QUESTIONS[state](flow)[1]
    for tap in options:
        if typed == normalize(tap.label):
            action, params = parse_postback(tap.data)
            return Answer(action.removeprefix(conv.action_prefix), params, got.text)
    chips, page, pages = flow.paging(state, options, [])
    for which, to in (("more", page + 1), ("previous", page - 1)):
        if pages > 1 and 0 <= to < pages and typed == normalize(flow.chip(which, "").label):
            return Answer("more", {"step": state, "page": str(to)}, got.text)
    return got


def move_booking(flow: Flow, day: date) -> str:
    booking = own_booking(flow.session, flow.resident, flow.data["number"])
    if booking is None:
        flow.conversation.end()
        flow.reply(flow.say("unknown_booking"))
        return DONE
    outcome = lw.move(flow.session, flow.rules, booking, day, flow.now, flow.tz)
    if outcome.status == "booked":
        flow.conversation.end()
        flow.reply(flow.say("moved", number=booking.number, date=flow.date_text(day)),
                   quick=[flow.chip("bookings", "action=large_waste.bookings"), menu_chip(flow.content, flow.lang)])
        return DONE
    if outcome.status == "closed" and not flow.rules.changeable(booking.date, flow.now, flow.tz):
        flow.conversation.end()
        flow.reply(flow.say("booking_locked", number=booking.number, date=flow.date_text(booking.date)))
        return DONE
    flow.note("day_full" if outcome.status == "full" else "day_closed")
    return AGAIN
