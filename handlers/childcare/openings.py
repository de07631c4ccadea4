"""Telling followers when a place opens: after `citybot import vacancies` (sync.py) and
every ten minutes by the clock, for hand edits of vacancies.yaml."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import delivery
from bot.content.models import LANGUAGES
from bot.content.store import Content
from bot.messages import flex

from . import places as cc, tables
from .cards import date_text, facility_bubble, ward_or_city
from .chat import intent


# -- telling followers when a place opens --------------------------------------------------------------
def announce_openings(session: Session, content: Content, now: datetime) -> list[tuple[tables.Opening, int]]:
    """Record the current vacancy table; push to the followers of each class that opened.

    Returns (opening, residents told) per opening with followers. One push per facility,
    class and as-of date (its source key), so running this twice tells nobody twice."""
    facilities, table = cc.facilities_of(content), cc.vacancies_of(content)
    told = []
    for opening in tables.record(session, table, facilities):
        facility = facilities.get(opening.facility_id)
        recipients = tables.followers(opening.facility_id, opening.age_class, opening.as_of)
        count = session.scalar(select(func.count()).select_from(recipients.subquery()))
        if not facility or not count:
            continue
        messages = {lang: [opening_message(content, lang, facility, opening)] for lang in LANGUAGES}
        push_id = delivery.create_push(session, source_key=tables.source_key(opening), kind="childcare",
                                       messages=messages, recipients=recipients, now=now)
        if push_id is not None:
            told.append((opening, count))
    return told


def opening_message(content: Content, lang: str, facility: cc.Facility, opening: tables.Opening) -> dict[str, Any]:
    text = content.text("childcare.opening", lang, name=facility.name_in(lang),
                        ward=ward_or_city(content, lang, facility),
                        age=content.text("childcare.age_class", lang, age=opening.age_class),
                        places=opening.places, as_of=date_text(content, lang, opening.as_of))
    card = facility_bubble(content, lang, facility, opening.age_class, opening.places, opening.as_of, None, follow=None)
    card["header"] = {"type": "box", "layout": "vertical",
                      "contents": [{"type": "text", "text": text, "wrap": True, "size": "sm"}]}
    return flex(text, card)


@intent.every("*/10 * * * *")
def vacancies_changed(session, now, content):
    """Hand edits of childcare/vacancies.yaml are announced too, within ten minutes (and
    `citybot import vacancies` runs this at once, sync.py)."""
    return announce_openings(session, content, now)
