"""A booking's name, address and phone: read from what residents type, kept no longer than needed.

The crew has to find the house and the office has to call back when a pickup cannot be
made, so a booking asks for a name, the address of collection and a phone number —
after saying why and for how long. They live in `large_waste_contacts` (one row per
booking) and nowhere else: not in logs, not in pushes, not in the audit log (staff
actions record the booking number). They go

- when the collection day (or the day of the cancellation) is `contact.keep_days` old
  (content/large_waste/rules.yaml): `erase_expired`, run by the clock every hour;
- at once, with the booking, on データ削除 or a block (ON DELETE CASCADE from residents);
- from a booking conversation left unfinished, once it has lapsed (the clock again),
  so a name typed into an abandoned chat does not wait for the resident's next message.

A resident who books again while an earlier booking's contact is still kept is offered
it with one tap instead of typing it all again; nothing outlives its booking to do so.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from bot import profile
from bot.models import ConversationState

from .domain import BookingStatus, LargeWasteBooking, LargeWasteContact, RulesFile

NAME_MAX, ADDRESS_MAX = 40, profile.ADDRESS_MAX
CONVERSATION_KEY = "contact"  # where a booking conversation holds what was typed so far
DASHES = "-‐‑‒–—―−ー－"  # ways a hyphen is typed in a phone number (ー on a kana keyboard)


@dataclass(frozen=True)
class Contact:
    name: str
    address: str
    phone: str

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "address": self.address, "phone": self.phone}


def _one_line(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text or "").split())


def clean_name(text: str) -> str | None:
    """A name as typed (spaces tidied), or None when it cannot be one: empty, longer than
    NAME_MAX, or digits only (a phone number sent one question early)."""
    name = _one_line(text)
    if not name or len(name) > NAME_MAX or re.fullmatch(r"[\d\s()+" + re.escape(DASHES) + "]+", name):
        return None
    return name


def clean_address(text: str) -> str | None:
    """An address as typed, or None: fewer than 4 characters says too little to find a house
    (the same reading as an address kept on the profile: bot/profile.py)."""
    return profile.clean_address(text)


def clean_phone(text: str) -> str | None:
    """A Japanese phone number as digits (09012345678), from 090-1234-5678, ０９０ １２３４ ５６７８,
    (03)1234-5678 or +81 90-1234-5678; None unless it is 10 or 11 digits starting with 0."""
    typed = _one_line(text)
    for mark in DASHES + " ()":
        typed = typed.replace(mark, "")
    if typed.startswith("+81"):
        typed = "0" + typed[3:].removeprefix("0")
    return typed if re.fullmatch(r"0\d{9,10}", typed) else None


def shown_phone(phone: str) -> str:
    """Digits grouped for reading aloud: 090-1234-5678, 0120-123-456, else 03-1234-5678 style
    (the area code's length varies; staff dial the digits, this only helps the eye)."""
    if len(phone) == 11:
        return f"{phone[:3]}-{phone[3:7]}-{phone[7:]}"
    if phone.startswith(("0120", "0800")):
        return f"{phone[:4]}-{phone[4:7]}-{phone[7:]}"
    return f"{phone[:2]}-{phone[2:6]}-{phone[6:]}" if len(phone) == 10 else phone


def kept_contact(session: Session, resident_id: int) -> Contact | None:
    """The contact of the resident's latest booking that still keeps one, to offer again."""
    row = session.execute(select(LargeWasteContact).join(LargeWasteBooking, LargeWasteBooking.id ==
                                                         LargeWasteContact.booking_id)
                          .where(LargeWasteBooking.resident_id == resident_id)
                          .order_by(LargeWasteBooking.id.desc()).limit(1)).scalars().first()
    return Contact(row.name, row.address, row.phone) if row else None


def keep_until(rules: RulesFile, booking: LargeWasteBooking, tz: ZoneInfo) -> date:
    """The last day a booking's contact is kept: its collection day (or the day it was
    cancelled) plus contact.keep_days."""
    cancelled = booking.cancelled_at if booking.status == BookingStatus.CANCELLED else None
    last = cancelled.astimezone(tz).date() if cancelled else booking.date
    return last + timedelta(days=rules.contact.keep_days)


def erase_expired(session: Session, rules: RulesFile, now: datetime, tz: ZoneInfo) -> int:
    """Delete every contact kept past its day (see keep_until), in one statement, and the
    contact typed into booking conversations that lapsed unfinished; how many contacts went.
    The caller commits."""
    today = now.astimezone(tz).date()
    keep = timedelta(days=rules.contact.keep_days)
    # cancelled on day c is kept through c + keep: gone from the first instant of c + keep + 1
    cancelled_before = datetime.combine(today - keep, datetime.min.time(), tzinfo=tz)
    expired = select(LargeWasteBooking.id).where(or_(
        and_(LargeWasteBooking.status == BookingStatus.BOOKED, LargeWasteBooking.date < today - keep),
        and_(LargeWasteBooking.status == BookingStatus.CANCELLED, LargeWasteBooking.cancelled_at < cancelled_before)))
    gone = session.execute(delete(LargeWasteContact).where(LargeWasteContact.booking_id.in_(expired))
                           .execution_options(synchronize_session=False)).rowcount or 0
    for state in session.scalars(select(ConversationState).where(ConversationState.conversation == "large_waste",
                                                                 ConversationState.expires_at <= now)):
        if CONVERSATION_KEY in (state.data or {}):
            state.data = {k: v for k, v in state.data.items() if k != CONVERSATION_KEY}
    return gone
