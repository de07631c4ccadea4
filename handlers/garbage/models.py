"""What content/garbage/ holds: categories, items, areas with their collection days, and
the days without collection.

Staff write these by hand or generate them (`citybot import 5374`). Imported data
comes in Japanese only, so item names and notes may carry just `ja`; English and
やさしい日本語 fall back to it until staff add them. Collection days are short rules a
clerk can read aloud:

    mon                          every Monday
    2nd wed                      the second Wednesday of each month (1st .. 5th)
    every other tue from 2026-04-07   every second Tuesday, counting from that date
    2026-12-28                   that date only
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, ConfigDict, Field, StringConstraints, field_validator, model_validator

from bot.content.models import Loose, LooseText, Strict  # noqa: F401 - LooseText: re-exported

Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ORDINALS = {"1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5}


# -- collection day rules ---------------------------------------------------------------------
@dataclass(frozen=True)
class DayRule:
    """One collection-day rule; `matches(day)` says whether it falls on `day`."""

    weekday: int | None = None      # 0 = Monday
    nth: int | None = None          # with weekday: the nth such weekday of the month
    every_other_from: date | None = None
    on: date | None = None

    PATTERN: ClassVar[re.Pattern] = re.compile(
        r"^(?:(?P<nth>1st|2nd|3rd|4th|5th) )?(?P<weekday>mon|tue|wed|thu|fri|sat|sun)$"
        r"|^every other (?P<alt>mon|tue|wed|thu|fri|sat|sun) from (?P<start>\d{4}-\d{2}-\d{2})$"
        r"|^(?P<date>\d{4}-\d{2}-\d{2})$")

    @classmethod
    def parse(cls, text: str) -> "DayRule":
        found = cls.PATTERN.match(" ".join(str(text).strip().lower().split()))
        if not found:
            raise ValueError(f"{text!r} is not a collection day: use 'mon', '2nd wed', "
                             f"'every other tue from 2026-04-07' or '2026-12-28'")
        if found["date"]:
            return cls(on=date.fromisoformat(found["date"]))
        if found["alt"]:
            start = date.fromisoformat(found["start"])
            weekday = WEEKDAYS.index(found["alt"])
            if start.weekday() != weekday:
                raise ValueError(f"{text!r}: {start} is not a {found['alt']}")
            return cls(weekday=weekday, every_other_from=start)
        return cls(weekday=WEEKDAYS.index(found["weekday"]), nth=ORDINALS.get(found["nth"] or ""))

    def matches(self, day: date) -> bool:
        if self.on is not None:
            return day == self.on
        if day.weekday() != self.weekday:
            return False
        if self.nth is not None:
            return (day.day - 1) // 7 + 1 == self.nth
        if self.every_other_from is not None:
            return day >= self.every_other_from and ((day - self.every_other_from).days // 7) % 2 == 0
        return True

    def __str__(self) -> str:
        if self.on is not None:
            return self.on.isoformat()
        if self.every_other_from is not None:
            return f"every other {WEEKDAYS[self.weekday]} from {self.every_other_from.isoformat()}"
        prefix = next((k + " " for k, v in ORDINALS.items() if v == self.nth), "")
        return prefix + WEEKDAYS[self.weekday]


def _rule(value: Any) -> DayRule:
    return value if isinstance(value, DayRule) else DayRule.parse(value)


Rule = Annotated[DayRule, BeforeValidator(_rule)]


# -- the files ----------------------------------------------------------------------------------
class Category(Strict):
    id: Id
    name: Loose
    how: Loose | None = None         # how and when to put it out
    collected: bool = True           # False: the city does not take it (a dealer, the shop...)
    large_waste: bool = False        # True: collected on booking (粗大ごみ)
    color: str = Field(default="#06C755", pattern=r"^#[0-9A-Fa-f]{6}$")


class CategoriesFile(Strict):
    categories: list[Category] = Field(min_length=1)
    remarks: list[Loose] = []        # said with every answer, e.g. "by 8:30 at your station"

    @model_validator(mode="after")
    def _unique(self) -> "CategoriesFile":
        _no_duplicates([c.id for c in self.categories], "category")
        return self


class Item(Strict):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    en: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] | None = None
    aliases: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]] = []
    reading: str | None = None       # kana; computed from the name when absent
    category: Id
    note: Loose | None = None
    fee: int | None = Field(default=None, ge=0)  # yen, for large waste

    def display(self, lang: str) -> str:
        return self.en if lang == "en" and self.en else self.name


class ItemsFile(Strict):
    items: list[Item] = Field(min_length=1)


class Area(Strict):
    id: Id
    name: Loose
    district: Id | None = None
    words: list[str] = []            # other names residents type (town names, 町丁目)
    days: dict[Id, list[Rule]]       # category id -> collection day rules

    def spellings(self) -> list[str]:
        """Ways residents name the area (registration matches typed text against them)."""
        return [self.id, *(n for n in (self.name.ja, self.name.en, self.name.easy_ja) if n), *self.words]

    @field_validator("days")
    @classmethod
    def _some_days(cls, days: dict[str, list[DayRule]]) -> dict[str, list[DayRule]]:
        if not days:
            raise ValueError("an area needs the collection days of at least one category")
        return days


class AreasFile(Strict):
    areas: list[Area] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> "AreasFile":
        _no_duplicates([a.id for a in self.areas], "area")
        return self


class Break(Strict):
    """Days without collection (year-end, disasters); for some areas or all."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)

    start: date = Field(alias="from")
    end: date = Field(alias="to")
    reason: Loose
    areas: list[Id] | None = None

    @model_validator(mode="after")
    def _ordered(self) -> "Break":
        if self.end < self.start:
            raise ValueError(f"to {self.end} is before from {self.start}")
        return self

    def covers(self, day: date, area: str) -> bool:
        return self.start <= day <= self.end and (self.areas is None or area in self.areas)


class CalendarFile(Strict):
    breaks: list[Break] = []
    put_out_by: time = time(8, 30)    # on a collection day, garbage must be out by then
    collect_on_holidays: bool = True  # False: no collection on national holidays
    horizon_days: int = Field(default=120, ge=14, le=800)  # how far ahead to look for the next date


def _no_duplicates(ids: list[str], what: str) -> None:
    seen: set[str] = set()
    for value in ids:
        if value in seen:
            raise ValueError(f"{what} id {value!r} is listed twice")
        seen.add(value)


def next_days(rules: list[DayRule], start: date, horizon: int) -> list[date]:
    """Days in [start, start + horizon) any rule falls on (exceptions not applied)."""
    return [day for day in (start + timedelta(days=n) for n in range(horizon)) if any(r.matches(day) for r in rules)]
