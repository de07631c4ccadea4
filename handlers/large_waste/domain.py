"""粗大ごみ (large waste) pickup by booking: the booking service (the tables: tables.py).

The city collects large waste on booked days only, a limited number of pickups per
collection area and day. `content/large_waste/rules.yaml` (read by
handlers/large_waste/rules.py) says which days each area is collected, how many pickups a day
takes, how far ahead residents may book and until when (17:00 two working days before),
where things may be put out and how long a booking's contact details are kept. The
items and their fees are the garbage book's (categories with `large_waste: true`).

A day's places are a row in `large_waste_slots` (area, date, capacity, booked). Booking
takes a place with one conditional UPDATE (`booked < capacity`) in the same transaction
as the booking row, so a day is never overbooked on SQLite or PostgreSQL, whoever books
at the same moment. `request_key` (unique) names the confirming step, so a double tap
books once. Staff export a day's bookings with `citybot bookings export` (no LINE ids).

The crew needs to find the house and the office to call back, so a booking keeps a name,
an address and a phone in its own table (`large_waste_contacts`), which is emptied by
the clock once the pickup (or the cancellation) is `contact.keep_days` old
(contact_data.py), and with the booking by データ削除 or a block.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Iterable, Mapping
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from bot import csvsafe
from bot.db import insert_for

from .rules import (  # noqa: F401 - re-exported: what the rest of citybot imports from here
    RULES,
    ContactRule,
    Kind,
    Place,
    RulesFile,
    bookable_items,
    check_large_waste,
    rules_of,
)
from .tables import BookingStatus, LargeWasteBooking, LargeWasteContact, LargeWasteSlot  # noqa: F401 - re-exported


# -- booking -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    """What a booking attempt came to: booked (or booked before, same request), full, closed."""

    status: str  # booked | repeated | full | closed
    booking: LargeWasteBooking | None = None


def offered_dates(session: Session, rules: RulesFile, area: str, now: datetime, tz: ZoneInfo,
                  limit: int = 10, excluding: date | None = None) -> list[date]:
    """The next days a resident may book: collection days inside the window, before their
    cut-off, with a place left."""
    today = now.astimezone(tz).date()
    days = [today + timedelta(days=n) for n in range(rules.window.from_days, rules.window.to_days + 1)]
    days = [d for d in days if d != excluding and rules.open_for_booking(area, d, now, tz)]
    if not days:
        return []
    taken = dict(session.execute(select(LargeWasteSlot.date, LargeWasteSlot.booked).where(
        LargeWasteSlot.area == area, LargeWasteSlot.date.between(days[0], days[-1]))).all())
    return [d for d in days if taken.get(d, 0) < rules.capacity_of(area, d)][:limit]


def _take_place(session: Session, rules: RulesFile, area: str, day: date) -> bool:
    """One place of the day, or False when it is full: an INSERT of the day's row if it is
    new, then one conditional UPDATE, so two bookings can never take the last place."""
    capacity = rules.capacity_of(area, day)
    session.execute(insert_for(session, LargeWasteSlot).values(area=area, date=day, capacity=capacity, booked=0)
                    .on_conflict_do_nothing(index_elements=["area", "date"]))
    taken = session.execute(update(LargeWasteSlot)
                            .where(LargeWasteSlot.area == area, LargeWasteSlot.date == day,
                                   LargeWasteSlot.booked < capacity)
                            .values(booked=LargeWasteSlot.booked + 1, capacity=capacity)
                            .execution_options(synchronize_session=False))
    return taken.rowcount == 1


def _free_place(session: Session, area: str, day: date) -> None:
    session.execute(update(LargeWasteSlot)
                    .where(LargeWasteSlot.area == area, LargeWasteSlot.date == day, LargeWasteSlot.booked > 0)
                    .values(booked=LargeWasteSlot.booked - 1).execution_options(synchronize_session=False))


def book(session: Session, rules: RulesFile, *, resident_id: int, area: str, day: date, place: str,
         items: list[dict[str, Any]], request_key: str, now: datetime, tz: ZoneInfo,
         contact: Mapping[str, str] | None = None) -> Outcome:
    """Book a pickup in the caller's transaction (the caller commits), with its contact
    (name, address, phone) when given. The same `request_key` twice gives the first
    booking back."""
    earlier = session.scalars(select(LargeWasteBooking).where(LargeWasteBooking.request_key == request_key)).first()
    if earlier is not None:
        return Outcome("repeated", earlier)
    if not rules.open_for_booking(area, day, now, tz):
        return Outcome("closed")
    if not _take_place(session, rules, area, day):
        return Outcome("full")
    booking = LargeWasteBooking(
        number=f"tmp-{uuid.uuid4().hex[:28]}", resident_id=resident_id, area=area, date=day, place=place[:100],
        items=[dict(item) for item in items], total_fee=total_fee(items), status=BookingStatus.BOOKED,
        created_at=now,
        request_key=request_key)
    session.add(booking)
    session.flush()
    booking.number = f"LW-{now.astimezone(tz).year}-{booking.id:06d}"
    if contact:
        session.add(LargeWasteContact(booking_id=booking.id, name=contact["name"][:40],
                                      address=contact["address"][:120], phone=contact["phone"][:16]))
    session.flush()
    return Outcome("booked", booking)


def _open_to_change(rules: RulesFile, booking: LargeWasteBooking, now: datetime, tz: ZoneInfo, staff: bool) -> bool:
    """Residents change a booking until its cut-off; staff, for a resident who phones, until
    the collection day (the crews' list may be printed already: the page says so)."""
    if booking.status != BookingStatus.BOOKED:  # a cancelled booking is final
        return False
    if staff:
        return booking.date > now.astimezone(tz).date()
    return rules.changeable(booking.date, now, tz)


def cancel(session: Session, rules: RulesFile, booking: LargeWasteBooking, now: datetime, tz: ZoneInfo,
           staff: bool = False) -> bool:
    """Cancel before the cut-off (staff: before the day) and free the place; False when it
    is too late (or done)."""
    if not _open_to_change(rules, booking, now, tz, staff):
        return False
    cancelling = BookingStatus.sources(BookingStatus.CANCELLED)  # conditional: a cancel meanwhile wins
    done = session.execute(update(LargeWasteBooking)
                           .where(LargeWasteBooking.id == booking.id, LargeWasteBooking.status.in_(cancelling))
                           .values(status=BookingStatus.CANCELLED, cancelled_at=now)
                           .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        return False
    _free_place(session, booking.area, booking.date)
    session.refresh(booking)
    return True


def move(session: Session, rules: RulesFile, booking: LargeWasteBooking, day: date, now: datetime,
         tz: ZoneInfo, staff: bool = False) -> Outcome:
    """Move a booking to a day residents may book: a place on the new day first, then the
    old one freed (staff may move it until its day, see cancel)."""
    if not _open_to_change(rules, booking, now, tz, staff):
        return Outcome("closed", booking)
    if day == booking.date:
        return Outcome("repeated", booking)
    if not rules.open_for_booking(booking.area, day, now, tz):
        return Outcome("closed", booking)
    if not _take_place(session, rules, booking.area, day):
        return Outcome("full", booking)
    _free_place(session, booking.area, booking.date)
    booking.date = day
    session.flush()
    return Outcome("booked", booking)


def total_fee(items: Iterable[Mapping[str, Any]]) -> int:
    return sum(int(item["fee"]) * int(item["quantity"]) for item in items)


def upcoming(session: Session, resident_id: int, today: date) -> list[LargeWasteBooking]:
    return list(session.scalars(select(LargeWasteBooking).where(
        LargeWasteBooking.resident_id == resident_id, LargeWasteBooking.status == BookingStatus.BOOKED,
        LargeWasteBooking.date >= today).order_by(LargeWasteBooking.date, LargeWasteBooking.id)))


def due_on(session: Session, day: date) -> list[LargeWasteBooking]:
    return list(session.scalars(select(LargeWasteBooking).where(
        and_(LargeWasteBooking.date == day, LargeWasteBooking.status == BookingStatus.BOOKED)).order_by(LargeWasteBooking.id)))


# -- staff: `citybot bookings export` --------------------------------------------------------------
EXPORT_COLUMNS = ("number", "area", "date", "place", "name", "address", "phone", "items", "total_fee", "status")


def bookings_on(session: Session, day: date, area: str | None = None) -> list[LargeWasteBooking]:
    """A day's bookings (cancelled ones too), by area and number: what the crews' list
    and the staff page (/admin/bookings) show."""
    query = select(LargeWasteBooking).where(LargeWasteBooking.date == day)
    if area:
        query = query.where(LargeWasteBooking.area == area)
    return list(session.scalars(query.order_by(LargeWasteBooking.area, LargeWasteBooking.number)))


def contacts_of(session: Session, bookings: Iterable[LargeWasteBooking]) -> dict[int, LargeWasteContact]:
    """booking id -> its contact, for those still kept (one query)."""
    ids = [b.id for b in bookings]
    if not ids:
        return {}
    return {c.booking_id: c for c in session.scalars(select(LargeWasteContact)
                                                     .where(LargeWasteContact.booking_id.in_(ids)))}


def export_row(b: LargeWasteBooking, contact: LargeWasteContact | None = None) -> dict[str, Any]:
    """One booking as the crews' list writes it: the contact while it is kept (blank once
    erased), no resident ids, no LINE user ids."""
    return {"number": b.number, "area": b.area, "date": b.date.isoformat(), "place": b.place,
            "name": contact.name if contact else "", "address": contact.address if contact else "",
            "phone": contact.phone if contact else "",
            "items": "; ".join(f"{i['name']} x{i['quantity']}" for i in b.items),
            "total_fee": b.total_fee, "status": b.status}


def export_rows(session: Session, day: date, area: str | None = None) -> list[dict[str, Any]]:
    """A day's bookings for the collection crews: no resident ids, no LINE user ids."""
    rows = bookings_on(session, day, area)
    contacts = contacts_of(session, rows)
    return [export_row(b, contacts.get(b.id)) for b in rows]


def write_csv(rows: list[dict[str, Any]], out) -> None:
    """The crews' CSV (the CLI's and /admin/bookings.csv): a place, name or address typed
    as a formula is written as text (bot.csvsafe), since residents type them and the crews
    open the list in Excel."""
    writer = csvsafe.DictWriter(out, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
