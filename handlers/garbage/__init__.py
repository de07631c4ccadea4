"""ごみ分別 and collection days: "how do I throw this away?" and "what goes out tomorrow?".

Item names (content/garbage/items.yaml) are synonyms of this intent, so 「ペットボトル」,
「ﾍﾟｯﾄﾎﾞﾄﾙ」 or 「かんでんち」 arrive here; the item dictionary (bot/lookup/dictionary.py)
then decides: one clear item, a few to choose from, or a kind "not found". Collection
days come from the resident's registered area; when it is unknown the answer offers to
register it, once, and remembers it. Residents who follow garbage reminders get one at
their chosen time (the job at the end of this module).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import urlencode
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator
from sqlalchemy import select

from bot import delivery
from bot.content.models import LANGUAGES, IntentContent, NonEmpty
from bot.content.store import Content
from bot.lookup import normalize
from bot.messages import Tap, taps
from bot.messages import listing
from bot.models import Resident, ResidentTopic
from bot.router import Intent, Recognized

from . import tables  # noqa: F401 - the resident's collection area, before anything reads it
from .book import FILES, GarbageBook, book_for, check_garbage
from .models import Category, Item, LooseText


class GarbageContent(IntentContent):
    ask_phrases: list[str] = []
    today_words: list[NonEmpty] = Field(min_length=1)
    tomorrow_words: list[NonEmpty] = Field(min_length=1)
    next_words: list[NonEmpty] = Field(min_length=1)
    weekdays: dict[str, list[NonEmpty]]

    @field_validator("weekdays")
    @classmethod
    def _seven_days(cls, weekdays: dict[str, list[str]]) -> dict[str, list[str]]:
        for lang in LANGUAGES:
            if len(weekdays.get(lang, [])) != 7:
                raise ValueError(f"{lang}: give the 7 weekday names, Monday first")
        return weekdays


#: How much of a message an item's name must be to make the message about that item:
#: 「割れたお皿」 is (おさら, half of it); 「精神障害者保健福祉手帳がほしい」 is not about a 手帳,
#: nor "Where can I vote early?" about a can.
NAMED_SHARE = 30.0


def recognize(content: Content, text: str) -> Recognized | None:
    """Ask the item dictionary itself whether a message names an item (by its name, an
    alias, its reading, in katakana or half-width, with a typo) or a category, so that
    whatever the garbage answer would find reaches it."""
    book = book_for(content)
    query = strip_question(text, content["garbage"])
    if not query:
        return None
    found = book.find(query)
    if found.kind == "exact" or book.dictionary.exact(query) or book.find_several(query):
        return Recognized("exact", 100.0, found.hits[0].matched if found.hits else query)
    category = named_category(book, normalize(text))
    if category is not None:
        return Recognized("contained", 100.0, category.name.ja)
    contained = book.dictionary.find_contained(query, standing_out=True)
    if contained.kind != "none" and contained.hits[0].score >= NAMED_SHARE:
        return Recognized("contained", 100.0, contained.hits[0].matched)
    if found.kind in ("fuzzy", "choices"):
        return Recognized(found.kind, found.hits[0].score, found.hits[0].matched)
    return None


intent = Intent("garbage", content=GarbageContent, recognize=recognize, warm=book_for, files=FILES,
                checks=[check_garbage], topics=["garbage"],
                texts=["intro", "item", "fee", "next_dates", "no_dates", "area_unknown", "choose", "not_found",
                       "day_collection", "day_none", "day_break", "today", "tomorrow", "date",
                       "reminder_evening", "reminder_morning", "large_waste", "holiday", "untranslated"])


# -- the conversation ------------------------------------------------------------------------------
@intent.entry
def garbage(turn):
    reply, content, lang = turn.reply, turn.content, turn.lang
    text, resident, now, config = turn.text, turn.resident, turn.now, turn.config
    words: GarbageContent = content["garbage"]
    book = book_for(content)
    local = now.astimezone(ZoneInfo(config.timezone))
    today, first = local.date(), book.first_day(local)  # `first`: past 8:30, today's collection is gone
    typed = normalize(text)
    query = strip_question(text, words)
    found = book.find(query) if query else None
    if found is not None and found.kind == "exact":  # an item's name wins over the words around it
        return reply(item_answer(content, book, lang, resident, found.best, first))
    if any(normalize(w) in typed for w in words.tomorrow_words):
        return reply(*day_answer(content, book, lang, resident, today + timedelta(days=1), "tomorrow"))
    if any(normalize(w) in typed for w in words.today_words):
        return reply(*day_answer(content, book, lang, resident, today, "today"))
    if found is None or normalize(query) in {normalize(k) for k in words.keywords.all()}:
        return reply(content.text("garbage.intro", lang), quick=taps(words.choices, lang))
    several = book.find_several(query)
    if several:
        return reply(*[item_answer(content, book, lang, resident, item, first, chips=(i == len(several) - 1))
                       for i, item in enumerate(several[:5])])
    wants_next = any(normalize(w) in typed for w in words.next_words)
    category = named_category(book, typed)
    named_items = book.dictionary.exact(query)  # 「かんでんち」 names items, not the category かん
    if category is not None and not named_items and (wants_next or found.kind != "fuzzy"):
        return reply(category_answer(content, book, lang, resident, category, first, wants_next))
    if found.kind == "none":  # 「割れたお皿」: an item named inside a longer phrase
        found = book.dictionary.find_contained(query)
    if found.best is not None:
        return reply(item_answer(content, book, lang, resident, found.best, first))
    if found.kind == "choices":
        chips = [Tap(hit.entry.display(lang)[:20], item_postback(hit.entry), hit.entry.display(lang))
                 for hit in found.hits]
        return reply(content.text("garbage.choose", lang), quick=chips + menu_chip(content, lang))
    return reply(content.text("garbage.not_found", lang, text=query[:30]),
                 quick=[*taps(words.choices[:2], lang), contact_chip(content, lang), *menu_chip(content, lang)])


@intent.postback("garbage.item")
def chosen_item(turn):
    reply, content, lang = turn.reply, turn.content, turn.lang
    params, resident, now, config = turn.params, turn.resident, turn.now, turn.config
    book = book_for(content)
    item = book.item(params.get("name", ""), params.get("category", ""))
    if item is None:  # a button from a version of the content that had this item
        return reply(content.text("garbage.intro", lang), quick=taps(content["garbage"].choices, lang))
    reply(item_answer(content, book, lang, resident, item, book.first_day(now.astimezone(ZoneInfo(config.timezone)))))


def item_postback(item: Item) -> str:
    """Names, not positions: a button must mean the same item after staff edit the list."""
    return "action=garbage.item&" + urlencode({"name": item.name, "category": item.category})


@intent.postback("garbage.day")
def day(turn):
    reply, content, lang = turn.reply, turn.content, turn.lang
    params, resident, now, config = turn.params, turn.resident, turn.now, turn.config
    today = now.astimezone(ZoneInfo(config.timezone)).date()
    when = "tomorrow" if params.get("when") == "tomorrow" else "today"
    target = today + timedelta(days=1) if when == "tomorrow" else today
    reply(*day_answer(content, book_for(content), lang, resident, target, when))


# -- answers -------------------------------------------------------------------------------------
def shown(content: Content, lang: str, text: LooseText) -> str:
    """Imported data is Japanese until staff translate it: an English answer says so
    (garbage.untranslated) rather than pass Japanese off as the answer."""
    if lang == "en" and not text.en:
        return content.text("garbage.untranslated", lang, text=text.ja)
    return text.get(lang)


def shown_item(content: Content, lang: str, item: Item) -> str:
    if lang == "en" and not item.en:
        return content.text("garbage.untranslated", lang, text=item.name)
    return item.display(lang)



def strip_question(text: str, words: GarbageContent) -> str:
    """「ペットボトルの捨て方は？」 -> 「ペットボトル」."""
    query = " ".join(text.split())
    if words.ask_phrases:
        pattern = "|".join(re.escape(p) for p in sorted(words.ask_phrases, key=len, reverse=True))
        query = re.sub(pattern, " ", query, flags=re.IGNORECASE)
    query = " ".join(query.split()).strip(" 　、。!！")
    for particle in ("は", "を", "って", "の", "も"):
        if query.endswith(particle) and len(query) > len(particle) + 1:
            query = query[: -len(particle)]
    return query.strip()


def named_category(book: GarbageBook, typed: str) -> Category | None:
    """The category a question names (「次の燃えないごみはいつ？」, "next burnable waste"),
    the longest name found in it."""
    best, length = None, 0
    for category in book.categories.values():
        for name in {normalize(category.name.get(lang)) for lang in LANGUAGES}:
            if len(name) > length and name in typed:
                best, length = category, len(name)
    return best


def format_date(content: Content, lang: str, day: date) -> str:
    weekday = content["garbage"].weekdays.get(lang, content["garbage"].weekdays["ja"])[day.weekday()]
    return content.text("garbage.date", lang, month=day.month, day=day.day, weekday=weekday)


def area_of(book: GarbageBook, resident: Resident | None):
    return book.areas.get(resident.garbage_area) if resident is not None and resident.garbage_area else None


def item_answer(content: Content, book: GarbageBook, lang: str, resident: Resident | None, item: Item, first: date,
                chips: bool = True) -> dict[str, Any]:
    """One message, in the order a resident needs it: where it goes and when (the next
    date), how to put it out, then the item's own note only when it says something more."""
    category = book.category_of(item)
    lines = [content.text("garbage.item", lang, item=shown_item(content, lang, item),
                          category=shown(content, lang, category.name))]
    quick: list[Tap] = []
    collected = category.collected and not category.large_waste
    if collected:
        lines.append(dates_line(content, book, lang, resident, category, first))
        if area_of(book, resident) is None:
            quick.append(area_chip(content, lang))
    if category.large_waste:
        lines.append(content.text("garbage.large_waste", lang))
        booking = content.intents().get("large_waste")
        if booking is not None and booking.label is not None:  # book the pickup right here
            quick.append(Tap(booking.label.get(lang), "action=large_waste", booking.label.get(lang)))
    elif category.how:
        lines.append(shown(content, lang, category.how))
    if item.fee is not None:
        lines.append(content.text("garbage.fee", lang, fee=f"{item.fee:,}"))
    if item.note and (category.how is None or adds_to(item.note.ja, category.how.ja)):
        lines.append(shown(content, lang, item.note))
    if collected:
        lines.extend(shown(content, lang, remark) for remark in book.remarks)
    message = {"type": "text", "text": "\n".join(lines)}
    if chips:
        from bot.messages import with_quick_reply

        quick += [c for c in taps(content["garbage"].choices, lang) if c.data not in {q.data for q in quick}]
        message = with_quick_reply(message, quick[:13])
    return message


def adds_to(note: str, said: str) -> bool:
    """Whether an item's note says more than its category's instructions already do.

    Judged on the Japanese texts (the translations follow them), by how many of the note's
    character pairs the instructions already hold: 「中を水ですすいでください」 under a category
    that says so is left out; 「電池は外して、有害ごみに出してください」 is kept."""
    pairs = _pairs(note)
    return not pairs or len(pairs & _pairs(said)) / len(pairs) < REPEATED


#: Share of a note's character pairs found in the category text from which it repeats it.
REPEATED = 0.8


def _pairs(text: str) -> set[str]:
    plain = normalize(text)
    return {plain[i:i + 2] for i in range(len(plain) - 1)}


def category_answer(content, book, lang, resident, category: Category, first: date, wants_next: bool) -> dict:
    from bot.messages import text as text_message

    lines = [shown(content, lang, category.name)]
    if category.how:
        lines.append(shown(content, lang, category.how))
    if category.collected and not category.large_waste:
        lines.extend(shown(content, lang, remark) for remark in book.remarks)
        lines.append(dates_line(content, book, lang, resident, category, first, count=3 if wants_next else 2))
    quick = ([area_chip(content, lang)] if area_of(book, resident) is None else []) + taps(content["garbage"].choices, lang)
    return text_message("\n".join(lines), quick=quick[:13])


def dates_line(content, book, lang, resident, category: Category, first: date, count: int = 2) -> str:
    area = area_of(book, resident)
    if area is None:
        return content.text("garbage.area_unknown", lang)
    dates = book.next_dates(area.id, category.id, first, count)
    if not dates:
        return content.text("garbage.no_dates", lang, area=shown(content, lang, area.name))
    return content.text("garbage.next_dates", lang, area=shown(content, lang, area.name),
                        dates=listing((format_date(content, lang, d) for d in dates), lang))


def day_answer(content, book, lang, resident, day: date, when: str) -> list[dict]:
    from bot.messages import text as text_message

    area = area_of(book, resident)
    if area is None:
        return [text_message(content.text("garbage.area_unknown", lang), quick=[area_chip(content, lang),
                                                                                 *menu_chip(content, lang)])]
    label = content.text(f"garbage.{when}", lang, date=format_date(content, lang, day))
    values = {"day": label, "area": shown(content, lang, area.name)}
    stop = book.no_collection(area.id, day)
    if stop is not None:
        reason = stop.reason.get(lang) if hasattr(stop, "reason") else \
            content.text("garbage.holiday", lang, name=stop)
        body = content.text("garbage.day_break", lang, reason=reason, **values)
    else:
        collected = book.collected_on(area.id, day)
        body = content.text("garbage.day_collection", lang,
                            categories=listing((shown(content, lang, c.name) for c in collected), lang, names=True),
                            **values) if collected else content.text("garbage.day_none", lang, **values)
    return [text_message(body, quick=taps(content["garbage"].choices, lang))]


def area_chip(content: Content, lang: str) -> Tap:
    choice = next(c for c in content["garbage"].choices if "settings.edit" in c.postback)
    return Tap(choice.label.get(lang), choice.postback, choice.label.get(lang))


def menu_chip(content: Content, lang: str) -> list[Tap]:
    return [c for c in taps(content["garbage"].choices, lang) if c.data == "action=menu"]


def contact_chip(content: Content, lang: str) -> Tap:
    label = content["contact"].label.get(lang)
    return Tap(label, "action=contact", label)


# -- reminders --------------------------------------------------------------------------------------
@intent.every("*/30 * * * *")
def remind(session, occurrence, content, config):
    """At each resident's chosen time: tomorrow's collection in the evening (from noon),
    today's in the morning. One push per area and time slot; its key makes it once."""
    local = occurrence.astimezone(ZoneInfo(config.timezone))
    slot = local.strftime("%H:%M")
    evening = local.hour >= 12
    day = local.date() + timedelta(days=1) if evening else local.date()
    book = book_for(content)
    wanted = (select(Resident.garbage_area).distinct()
              .join(ResidentTopic, ResidentTopic.resident_id == Resident.id)
              .where(ResidentTopic.topic == "garbage", Resident.reminder_time == slot, Resident.following.is_(True),
                     Resident.garbage_area.is_not(None)))
    for area_id in session.scalars(wanted):
        collected = book.collected_on(area_id, day)
        if not collected or area_id not in book.areas:
            continue
        area = book.areas[area_id]
        messages = {}
        for lang in ("ja", "en", "easy_ja"):
            key = "garbage.reminder_evening" if evening else "garbage.reminder_morning"
            messages[lang] = [{"type": "text", "text": content.text(
                key, lang, date=format_date(content, lang, day), area=shown(content, lang, area.name),
                categories=listing((shown(content, lang, c.name) for c in collected), lang, names=True))}]
        recipients = (select(Resident.id).join(ResidentTopic, ResidentTopic.resident_id == Resident.id)
                      .where(ResidentTopic.topic == "garbage", Resident.reminder_time == slot,
                             Resident.garbage_area == area_id))
        # the resident chose this time: quiet hours must not hold it (21:00 would arrive at 07:00)
        delivery.create_push(session, source_key=f"garbage-reminder:{area_id}:{day.isoformat()}@{slot}",
                             kind="reminder", messages=messages, recipients=recipients, now=occurrence, urgent=True)
