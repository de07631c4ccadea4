"""Pieces of what the booking says, shared by the conversation (chat.py), the buttons outside
it (entry.py) and the reminder (jobs.py): item lines, a booking, its chips."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.content.store import Content
from bot.messages import Tap
from bot.models import Resident
from handlers.garbage import format_date
from handlers.garbage.book import book_for
from handlers.garbage.models import Item
from handlers.menu import menu_chip

from . import domain as lw

if TYPE_CHECKING:
    from .chat import Flow


def bookable_areas(flow: "Flow") -> list:
    return [area for area in flow.book.areas.values() if area.id in flow.rules.days]


def item_chip(lang: str, item: Item) -> Tap:
    data = "action=large_waste.item&step=item&" + urlencode({"name": item.name, "category": item.category})
    return Tap(item.display(lang)[:20], data, item.display(lang))


def pieces_left(flow: "Flow") -> int:
    return flow.rules.limits.pieces - sum(i["quantity"] for i in flow.items)


def display(flow: "Flow", item: dict[str, Any]) -> str:
    return item_name(flow.content, flow.lang, item)


def item_name(content: Content, lang: str, item: dict[str, Any]) -> str:
    found = book_for(content).item(item["name"], item["category"])
    return found.display(lang) if found else item["name"]


def item_lines(flow: "Flow", items: list[dict[str, Any]]) -> str:
    return lines_of(flow.content, flow.lang, items)


def lines_of(content: Content, lang: str, items: list[dict[str, Any]]) -> str:
    return "\n".join(content.text("large_waste.line", lang, item=item_name(content, lang, i), quantity=i["quantity"],
                                  fee=f"{i['fee'] * i['quantity']:,}") for i in items)


def booking_text(content: Content, lang: str, booking: lw.LargeWasteBooking) -> str:
    return content.text("large_waste.booking", lang, number=booking.number,
                        date=format_date(content, lang, booking.date), place=booking.place,
                        items=lines_of(content, lang, booking.items), total=f"{booking.total_fee:,}")


def booked_reply(reply, content: Content, lang: str, booking: lw.LargeWasteBooking, notes: list,
                 offer_address: str | None = None) -> None:
    """The booking number and what to do next; with `offer_address` (typed, and not the one
    registered), a question whether to keep it on the profile, answered by one tap."""
    said = content.text("large_waste.booked", lang, number=booking.number,
                        date=format_date(content, lang, booking.date), place=booking.place,
                        total=f"{booking.total_fee:,}")
    quick = [label_chip(content, lang, "bookings", "action=large_waste.bookings"), menu_chip(content, lang)]
    offer: list[str] = []
    if offer_address:
        offer = [content.text("large_waste.offer_address", lang, address=offer_address)]
        keep = f"action=large_waste.keep_address&number={booking.number}&answer="
        quick = [label_chip(content, lang, "keep_address", keep + "yes"),
                 label_chip(content, lang, "keep_address_no", keep + "no"), *quick]
    reply(*notes, said, lw.rules_of(content).instructions.get(lang), *offer, quick=quick)


def label_chip(content: Content, lang: str, key: str, data: str) -> Tap:
    label = content["large_waste"].labels[key].get(lang)
    return Tap(label, data, label)


def own_booking(session: Session, resident: Resident, number: str) -> lw.LargeWasteBooking | None:
    return session.scalars(select(lw.LargeWasteBooking).where(
        lw.LargeWasteBooking.number == number, lw.LargeWasteBooking.resident_id == resident.id)).first()
