"""The clock's large-waste jobs: the evening-before reminder, and emptying contact details
once the city's retention is over (contact_data.py)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot import delivery
from bot.messages import text as text_message
from bot.models import Resident
from handlers.garbage import format_date

from . import contact_data as large_waste_contact
from . import domain as lw
from .said import lines_of
from .words import intent


# -- the evening before ------------------------------------------------------------------------------
@intent.every("0 18 * * *")
def remind(session, occurrence, content, config):
    """Tomorrow's pickups: one push per booking, to its resident; the key makes it once."""
    tomorrow = occurrence.astimezone(ZoneInfo(config.timezone)).date() + timedelta(days=1)
    for booking in lw.due_on(session, tomorrow):
        messages = {lang: [text_message(content.text(
            "large_waste.reminder", lang, date=format_date(content, lang, booking.date), number=booking.number,
            items=lines_of(content, lang, booking.items), place=booking.place))] for lang in ("ja", "en", "easy_ja")}
        delivery.create_push(session, source_key=f"large-waste-reminder:{booking.number}", kind="reminder",
                             messages=messages, recipients=select(Resident.id).where(Resident.id == booking.resident_id),
                             now=occurrence)


# -- the contact details' retention -----------------------------------------------------------------
@intent.every("7 * * * *")
def erase_contacts(session, now, content, config):
    """Every hour: names, addresses and phones whose booking was collected or cancelled
    more than contact.keep_days ago are deleted (contact_data.py)."""
    return large_waste_contact.erase_expired(session, lw.rules_of(content), now, ZoneInfo(config.timezone))
