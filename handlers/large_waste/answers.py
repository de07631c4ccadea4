"""「粗大ごみの料金はいくら？」 and 「次の粗大ごみはいつ？」: questions about large waste, answered
as questions (the fee, the days and how to book) with a button to book, instead of
starting a booking the resident did not ask for."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.content.store import Content
from bot.messages import Tap, listing
from bot.models import Resident
from handlers.garbage import format_date, shown, shown_item
from handlers.garbage.book import book_for

from . import domain as lw

#: How many items a fee answer names as examples (the resident can ask for any other).
FEE_EXAMPLES = 6


def book_chip(content: Content, lang: str) -> Tap:
    label = content["large_waste"].labels["book"].get(lang)
    return Tap(label, "action=large_waste.start", label)


def fees(content: Content, lang: str) -> str:
    """One item for each fee, cheapest first (the range, not six items at one price), and
    how to learn any other's."""
    by_fee: dict[int, object] = {}
    for item in lw.bookable_items(book_for(content)):
        by_fee.setdefault(item.fee, item)
    items = [by_fee[fee] for fee in sorted(by_fee)][:FEE_EXAMPLES]
    named = listing((content.text("large_waste.fee_item", lang, item=shown_item(content, lang, item),
                                  fee=f"{item.fee:,}") for item in items), lang)
    return content.text("large_waste.fees", lang, items=named)


def when(content: Content, lang: str, resident: Resident | None, session: Session, now: datetime,
         tz: ZoneInfo) -> str:
    """The next days the resident's area can book (when their area is known), and the rules."""
    rules = lw.rules_of(content)
    book = book_for(content)
    area = resident.garbage_area if resident is not None else None
    how = content.text("large_waste.how_to_book", lang, from_days=rules.window.from_days,
                       to_days=rules.window.to_days, days_before=rules.cutoff.working_days_before,
                       time=rules.cutoff.time)
    if area in rules.days and area in book.areas:
        days = lw.offered_dates(session, rules, area, now, tz, limit=3)
        if days:
            dates = listing((format_date(content, lang, day) for day in days), lang)
            return content.text("large_waste.next_days", lang, area=shown(content, lang, book.areas[area].name),
                                dates=dates) + "\n" + how
    return how
