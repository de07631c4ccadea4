"""The garbage rules of one content version: what goes where, and when it is collected.

Built once per content version (the item dictionary with its readings takes a moment)
and shared by the chat handler, the reminders and `citybot ask`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Iterable, Mapping

from bot.content.derived import per_version
from bot.content.store import Content
from bot.content.yamlfile import Problem, YamlDocument
from bot.lookup.dictionary import Dictionary, Found, fold, split_items

from .models import Area, AreasFile, CalendarFile, CategoriesFile, Category, Item, ItemsFile

#: More parts than this in one message is a pasted list, not a question about each.
MAX_ITEMS_ASKED = 10

FILES = {"garbage/categories": CategoriesFile, "garbage/items": ItemsFile, "garbage/areas": AreasFile,
         "garbage/calendar": CalendarFile}


@dataclass
class GarbageBook:
    categories: dict[str, Category]
    items: list[Item]
    areas: dict[str, Area]
    calendar: CalendarFile
    remarks: list
    dictionary: Dictionary[Item] = field(repr=False, default_factory=Dictionary)

    @classmethod
    def from_content(cls, content: Content) -> "GarbageBook":
        categories: CategoriesFile = content["garbage/categories"]
        items: ItemsFile = content["garbage/items"]
        book = cls(categories={c.id: c for c in categories.categories}, items=list(items.items),
                   areas={a.id: a for a in content["garbage/areas"].areas}, calendar=content["garbage/calendar"],
                   remarks=list(categories.remarks))
        dictionary: Dictionary[Item] = Dictionary()
        for item in book.items:
            dictionary.add(item, [item.name, *item.aliases, *([item.reading] if item.reading else []),
                                  *([item.en] if item.en else [])])
        book.dictionary = dictionary.freeze()
        return book

    # -- what goes where ---------------------------------------------------------------------
    def find(self, text: str) -> Found[Item]:
        return self.dictionary.find(text)

    def find_several(self, text: str) -> list[Item] | None:
        """Two or more items named in one message, each clearly; None otherwise (also for
        a list longer than anyone asks about at once: each part costs a dictionary pass)."""
        parts = split_items(text)
        if len(parts) < 2:
            parts = self._split_on_particles(text)
        if not 2 <= len(parts) <= MAX_ITEMS_ASKED:
            return None
        found = [self.dictionary.find(part) for part in parts]
        if not all(f.kind in ("exact", "fuzzy") for f in found):
            return None
        unique: dict[int, Item] = {}
        for f in found:
            unique.setdefault(id(f.best), f.best)  # type: ignore[arg-type]
        return list(unique.values())

    def _split_on_particles(self, text: str) -> list[str]:
        """「ぺっとぼとるとでんち」: try every と/や as a joint between two exact names.

        Only joints with a name's length on either side can qualify, so a long message
        costs one fold, not one per character."""
        folded = fold(text)
        longest = self.dictionary.longest
        if len(folded) > 2 * longest + 1:
            return []
        for index in range(max(1, len(folded) - 1 - longest), min(len(folded) - 1, longest + 1)):
            if folded[index] in "とや":
                left, right = folded[:index], folded[index + 1:]
                if self.dictionary.exact_folded(left) and self.dictionary.exact_folded(right):
                    return [left, right]
        return []

    def item(self, name: str, category: str) -> Item | None:
        return next((i for i in self.items if i.name == name and i.category == category), None)

    def category_of(self, item: Item) -> Category:
        return self.categories[item.category]

    # -- when --------------------------------------------------------------------------------
    def collected_on(self, area_id: str, day: date) -> list[Category]:
        """Categories collected in the area on that day, exceptions applied."""
        area = self.areas.get(area_id)
        if area is None or self.no_collection(area_id, day):
            return []
        return [self.categories[cid] for cid, rules in area.days.items()
                if cid in self.categories and any(rule.matches(day) for rule in rules)]

    def no_collection(self, area_id: str, day: date):
        """The break (or holiday name) that stops collection on that day, else None."""
        for item in self.calendar.breaks:
            if item.covers(day, area_id):
                return item
        import jpholiday  # here: `citybot ask` about an item never needs the holidays

        if not self.calendar.collect_on_holidays and jpholiday.is_holiday(day):
            return jpholiday.is_holiday_name(day)
        return None

    def first_day(self, local: datetime) -> date:
        """The first collection day still worth naming: today until the put-out time, then tomorrow."""
        return local.date() if local.time() < self.calendar.put_out_by else local.date() + timedelta(days=1)

    def next_dates(self, area_id: str, category_id: str, start: date, count: int = 2) -> list[date]:
        area = self.areas.get(area_id)
        rules = area.days.get(category_id, []) if area else []
        found: list[date] = []
        if not rules:
            return found
        for offset in range(self.calendar.horizon_days):
            day = start + timedelta(days=offset)
            if any(rule.matches(day) for rule in rules) and not self.no_collection(area_id, day):
                found.append(day)
                if len(found) == count:
                    break
        return found


#: The garbage book of a content version (built when it loads: the garbage intent's warm).
book_for = per_version(GarbageBook.from_content)


def check_garbage(content: Content, sources: Mapping[str, YamlDocument]) -> Iterable[Problem]:
    """Items, area days and breaks name categories and areas that exist; areas name
    districts registration knows."""
    if "garbage/categories" not in content.documents:
        return
    categories = {c.id for c in content["garbage/categories"].categories}
    areas = content["garbage/areas"].areas
    for index, item in enumerate(content["garbage/items"].items):
        if item.category not in categories:
            yield sources["garbage/items"].problem(("items", index, "category"),
                                                   f"{item.name}: unknown category {item.category!r}")
    seen: dict[str, str] = {}
    for index, item in enumerate(content["garbage/items"].items):
        key = f"{item.name}\0{item.category}"
        if key in seen:
            yield sources["garbage/items"].problem(("items", index, "name"), f"{item.name} is listed twice")
        seen[key] = item.name
    settings = content.documents.get("settings")
    districts = {d.id for d in getattr(settings, "districts", [])}
    for index, area in enumerate(areas):
        for category in area.days:
            if category not in categories:
                yield sources["garbage/areas"].problem(("areas", index, "days", category),
                                                       f"area {area.id}: unknown category {category!r}")
        if area.district and districts and area.district not in districts:
            yield sources["garbage/areas"].problem(("areas", index, "district"),
                                                   f"area {area.id}: unknown district {area.district!r}")
    area_ids = {a.id for a in areas}
    for index, item in enumerate(content["garbage/calendar"].breaks):
        for area in item.areas or ():
            if area not in area_ids:
                yield sources["garbage/calendar"].problem(("breaks", index, "areas"), f"unknown area {area!r}")
