"""The rules of large-waste pickups: content/large_waste/rules.yaml, read and checked.

When and how many (collection days per area, places per day, the booking window, the
cut-off), where things may be put out, how the items are grouped for the buttons
(`kinds`), and how long a booking's name, address and phone are kept after the pickup
or the cancellation (`contact.keep_days`: the city decides, the clock erases them).
The items and their fees are the garbage book's, never copied here.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Iterable, Mapping
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from bot.content.models import Label, NonEmpty, Strict, Text
from bot.content.store import Content
from bot.content.yamlfile import Problem, YamlDocument
from handlers.garbage.models import Id, Item, Rule

RULES = "large_waste/rules"

def _month_day(value: Any) -> tuple[int, int]:
    found = re.fullmatch(r"(\d{1,2})-(\d{1,2})", str(value).strip())
    if not found:
        raise ValueError(f"{value!r}: write a month and day as MM-DD, for example 12-29")
    month, day = int(found[1]), int(found[2])
    date(2028, month, day)  # a real day of some year (02-29 too)
    return month, day


def _time_of_day(value: str) -> time:
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", str(value)):
        raise ValueError(f"{value!r} is not a time of day written HH:MM (for example 17:00)")
    return time(int(value[:2]), int(value[3:]))


MonthDay = Annotated[tuple[int, int], BeforeValidator(_month_day)]


class Limits(Strict):
    pieces: int = Field(ge=1, le=50)   # items in one booking, counting quantities
    kinds: int = Field(ge=1, le=10)    # different items in one booking


class DateCapacity(Strict):
    date: date
    capacity: int = Field(ge=0)
    areas: list[Id] | None = None      # None: every area


class Capacity(Strict):
    default: int = Field(ge=0)
    areas: dict[Id, int] = {}          # area -> pickups per collection day
    dates: list[DateCapacity] = []     # one day differs (0 closes it)


class Window(Strict):
    from_days: int = Field(ge=0)
    to_days: int = Field(ge=1, le=180)

    @model_validator(mode="after")
    def _ordered(self) -> "Window":
        if self.to_days < self.from_days:
            raise ValueError(f"to_days {self.to_days} is before from_days {self.from_days}")
        return self


def _checked_time(value: str) -> str:
    _time_of_day(value)
    return value


class Cutoff(Strict):
    time: Annotated[str, AfterValidator(_checked_time)]
    working_days_before: int = Field(ge=0, le=10)


class YearEnd(Strict):
    model_config = Strict.model_config | {"populate_by_name": True}

    start: MonthDay = Field(alias="from")
    end: MonthDay = Field(alias="to")

    def covers(self, day: date) -> bool:
        md = (day.month, day.day)
        if self.start <= self.end:
            return self.start <= md <= self.end
        return md >= self.start or md <= self.end  # 12-29 .. 01-03 wraps round the year


class Place(Strict):
    id: Id
    label: Label
    other: bool = False                # "その他": the resident types the place


class Kind(Strict):
    """A group of items for the buttons (家具, 家電...). An item belongs to the kind with the
    longest of these words in its name, aliases or reading (a tie: the kind listed first),
    so imported items find their group without a list of names to keep in step; an item no
    kind names is under その他."""

    id: Id
    label: Label
    words: list[NonEmpty] = Field(min_length=1)


class ContactRule(Strict):
    """The name, address and phone a booking needs: how many days they are kept after the
    collection day (or the day it was cancelled) before the clock erases them."""

    keep_days: int = Field(ge=0, le=365)


class RulesFile(Strict):
    """content/large_waste/rules.yaml."""

    limits: Limits
    days: dict[Id, list[Rule]] = Field(min_length=1)  # area -> collection day rules
    capacity: Capacity
    window: Window
    cutoff: Cutoff
    year_end: YearEnd                  # no collection, and not a working day
    collect_on_holidays: bool = False  # national holidays (jpholiday)
    places: list[Place] = Field(min_length=1, max_length=8)
    instructions: Text
    # at most 10, so the kinds, その他, 戻る and やめる fit in LINE's 13 quick replies
    kinds: list[Kind] = Field(default=[], max_length=10)
    contact: ContactRule = ContactRule(keep_days=14)

    def capacity_of(self, area: str, day: date) -> int:
        for special in self.capacity.dates:
            if special.date == day and (special.areas is None or area in special.areas):
                return special.capacity
        return self.capacity.areas.get(area, self.capacity.default)

    def is_working_day(self, day: date) -> bool:
        import jpholiday  # here, as below: a start whose question books nothing never needs the holidays

        return day.weekday() < 5 and not jpholiday.is_holiday(day) and not self.year_end.covers(day)

    def is_collection_day(self, area: str, day: date) -> bool:
        rules = self.days.get(area, [])
        if not any(rule.matches(day) for rule in rules) or self.year_end.covers(day):
            return False
        import jpholiday

        return self.collect_on_holidays or not jpholiday.is_holiday(day)

    def cutoff_of(self, day: date, tz: ZoneInfo) -> datetime:
        """17:00 (say) of the second working day before the collection day."""
        before, counted = day, 0
        while counted < self.cutoff.working_days_before:
            before -= timedelta(days=1)
            if self.is_working_day(before):
                counted += 1
        return datetime.combine(before, _time_of_day(self.cutoff.time), tzinfo=tz)

    def open_for_booking(self, area: str, day: date, now: datetime, tz: ZoneInfo) -> bool:
        """A collection day inside the window whose cut-off has not passed (places aside)."""
        today = now.astimezone(tz).date()
        return (today + timedelta(days=self.window.from_days) <= day <= today + timedelta(days=self.window.to_days)
                and self.is_collection_day(area, day) and now < self.cutoff_of(day, tz))

    def changeable(self, day: date, now: datetime, tz: ZoneInfo) -> bool:
        return now < self.cutoff_of(day, tz)


def rules_of(content: Content) -> RulesFile:
    return content[RULES]


def bookable_items(book) -> list[Item]:
    """Items of the garbage book the city collects on booking; one without a fee (imported
    data may lack it) cannot be booked until staff add it."""
    return [item for item in book.items if book.category_of(item).large_waste and item.fee is not None]


def unknown_area(area: str, known: set[str]) -> str:
    """The problem, and how to fix it: after `citybot import 5374` the areas are the city's own."""
    some = ", ".join(sorted(known)[:3]) + (", ..." if len(known) > 3 else "")
    return (f"unknown area {area!r}: garbage/areas.yaml has no such area (an import replaces the areas); "
            f"name areas it lists ({some}) or remove this line")


def check_large_waste(content: Content, sources: Mapping[str, YamlDocument]) -> Iterable[Problem]:
    """Areas in the rules are collection areas of garbage/areas.yaml; place ids are unique."""
    if RULES not in content.documents or "garbage/areas" not in content.documents:
        return
    rules, source = rules_of(content), sources[RULES]
    known = {a.id for a in content["garbage/areas"].areas}
    for area in rules.days:
        if area not in known:
            yield source.problem(("days", area), unknown_area(area, known))
    for area in rules.capacity.areas:
        if area not in known:
            yield source.problem(("capacity", "areas", area), unknown_area(area, known))
    for index, special in enumerate(rules.capacity.dates):
        for area in special.areas or ():
            if area not in known:
                yield source.problem(("capacity", "dates", index, "areas"), unknown_area(area, known))
    ids = [p.id for p in rules.places]
    for index, place in enumerate(rules.places):
        if ids.index(place.id) != index:
            yield source.problem(("places", index, "id"), f"place id {place.id!r} is listed twice")
    kinds = [k.id for k in rules.kinds]
    for index, kind in enumerate(rules.kinds):
        if kinds.index(kind.id) != index:
            yield source.problem(("kinds", index, "id"), f"kind id {kind.id!r} is listed twice")

