"""What the office does for a resident who phones about a large-waste booking.

Staff find the booking by its number (what the resident reads out from the chat or the
処理券) or by its collection day, and change its day or cancel it. Residents may do both
in the chat until the cut-off; staff may until the collection day itself, since a call
the day before is exactly when the chat says no (the page warns that the crews' list may
be printed already). Whatever staff do, the resident is told by a push in their own
language (the change is theirs, not a surprise), and the page writes it to the audit
log with the booking number — never the name, address or phone.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import delivery
from bot.content.models import LANGUAGES
from bot.content.store import Content
from bot.messages import text as text_message
from bot.models import Resident

from . import domain as lw

NUMBER = re.compile(r"^LW-(\d{4})-(\d{1,12})$")


def find_number(session: Session, typed: str) -> lw.LargeWasteBooking | None:
    """The booking a resident reads out: LW-2026-000123 (any case, full-width, spaces), or
    just its last digits (000123, 123)."""
    wanted = "".join(unicodedata.normalize("NFKC", typed or "").split()).upper().replace("ー", "-").replace("−", "-")
    if wanted.isdigit() and len(wanted) <= 12:
        return session.get(lw.LargeWasteBooking, int(wanted))
    found = NUMBER.match(wanted)
    if found is None:
        return None
    booking = session.get(lw.LargeWasteBooking, int(found[2]))
    return booking if booking is not None and booking.number == f"LW-{found[1]}-{int(found[2]):06d}" else None


def typed_day(typed: str, today: date) -> date | None:
    """A collection day typed in the search box: 2026-12-15, 2026/12/15, 12/15, 12月15日."""
    text = "".join(unicodedata.normalize("NFKC", typed or "").split())
    full = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", text)
    short = re.fullmatch(r"(\d{1,2})[/月](\d{1,2})日?", text)
    try:
        if full:
            return date(int(full[1]), int(full[2]), int(full[3]))
        if short:  # this year's, unless that is half a year ago: then next year's (12/2 asked in January)
            day = date(today.year, int(short[1]), int(short[2]))
            return day if day >= today - timedelta(days=183) else day.replace(year=today.year + 1)
    except ValueError:
        return None
    return None


def open_to_staff(booking: lw.LargeWasteBooking, now: datetime, tz: ZoneInfo) -> bool:
    return booking.status == lw.BookingStatus.BOOKED and booking.date > now.astimezone(tz).date()


def past_resident_cutoff(rules: lw.RulesFile, booking: lw.LargeWasteBooking, now: datetime, tz: ZoneInfo) -> bool:
    return not rules.changeable(booking.date, now, tz)


def new_days(session: Session, rules: lw.RulesFile, booking: lw.LargeWasteBooking, now: datetime,
             tz: ZoneInfo) -> list[date]:
    """The days a booking may move to: those residents may book, with a place left."""
    return lw.offered_dates(session, rules, booking.area, now, tz, limit=20, excluding=booking.date)


def day_text(content: Content, lang: str, day: date) -> str:
    """A day as residents read it in the chat (garbage.date: 12月15日(火), Tue, Dec 15)."""
    weekdays = content["garbage"].weekdays
    weekday = weekdays.get(lang, weekdays["ja"])[day.weekday()]
    return content.text("garbage.date", lang, month=day.month, day=day.day, weekday=weekday)


def tell_resident(session: Session, content: Content, booking: lw.LargeWasteBooking, key: str, now: datetime,
                  **values: str | date) -> int | None:
    """Push `large_waste.<key>` to the booking's resident, in their language; the push's
    source key is unique per action, so it is stored once with the change."""
    def said(lang: str) -> str:
        filled = {k: day_text(content, lang, v) if isinstance(v, date) else v for k, v in values.items()}
        return content.text(f"large_waste.{key}", lang, number=booking.number, **filled)

    return delivery.create_push(
        session, source_key=f"large-waste-staff:{booking.number}:{key}:{uuid.uuid4().hex[:12]}", kind="booking",
        messages={lang: [text_message(said(lang))] for lang in LANGUAGES},
        recipients=select(Resident.id).where(Resident.id == booking.resident_id), now=now)


def move(session: Session, content: Content, booking: lw.LargeWasteBooking, day: date, now: datetime,
         tz: ZoneInfo) -> lw.Outcome:
    """Move the booking for the resident and tell them; the caller audits and commits."""
    was = booking.date
    outcome = lw.move(session, lw.rules_of(content), booking, day, now, tz, staff=True)
    if outcome.status == "booked":
        tell_resident(session, content, booking, "staff_moved", now, was=was, date=day)
    return outcome


def cancel(session: Session, content: Content, booking: lw.LargeWasteBooking, now: datetime, tz: ZoneInfo) -> bool:
    """Cancel the booking for the resident and tell them; the caller audits and commits."""
    if not lw.cancel(session, lw.rules_of(content), booking, now, tz, staff=True):
        return False
    tell_resident(session, content, booking, "staff_cancelled", now, date=booking.date)
    return True
