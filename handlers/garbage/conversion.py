"""How the rows of a 5374 folder become categories, items, areas and breaks (the importer's
middle: handlers/garbage/importer.py reads the files and writes the result; see its docstring
for the layout and the day notations)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from pydantic import ValidationError

from bot.importers.csvfiles import CsvTable, Report, clean, clean_text
from bot.importers.errors import first_error as _first_error
from bot.lookup.names import other_names

from .models import Area, Category, DayRule, Item

YEAR_END_REASON = "年末年始の休み"

# header aliases, compared after NFKC and lower-casing (csvfiles.normalize_header)
LABEL = ("label", "type", "分類", "区分", "種別", "category", "ごみの種類")
ITEM_NAME = ("name", "品目", "品名", "item", "ゴミの品目", "ごみの品目")
NOTICE = ("notice", "注意", "注意事項", "注意点", "備考", "note")
FURIGANA = ("furigana", "ふりがな", "フリガナ", "よみがな", "よみ", "読み", "reading", "カナ", "かな")
AREA_NAME = ("地名", "地区名", "地区", "町名", "area", "name")
CENTRE = ("センター", "センター名", "収集センター", "center", "centre")
CENTRE_NAME = ("名称", "センター", "センター名", "name", "center", "centre")
BREAK_START = ("休止開始日", "開始日", "start", "from")
BREAK_END = ("休止終了日", "終了日", "end", "to")
REMARK = ("注意事項", "備考", "remarks", "remark", "内容", "text")
SUBLABEL = ("sublabel",)
DESCRIPTION = ("description", "説明")
COLOR = ("bgcolor", "color", "colour", "色")

NOT_COLLECTED = re.compile(r"できない|出せない|出せません|引き?取れない|引き?取りできない|収集しない|収集しません"
                           r"|扱わない|扱えない|対象外|不可(?!燃)")   # 不可燃ごみ is collected
LARGE_WASTE = re.compile(r"粗大")
WEEKDAYS_JA = "月火水木金土日"
WEEKDAYS_EN = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ORDINAL = {1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 5: "5th"}
KANA = re.compile(r"^[\u3041-\u3096\u309d\u309e\u30a1-\u30fa\u30fc-\u30fe・ 　]+$")


# -- collection-day notation --------------------------------------------------------------------
_DATE = r"(?:\d{8}|\d{4}[/.\-]\d{1,2}[/.\-]\d{1,2}|\d{4}年\d{1,2}月\d{1,2}日)"
_DOW = r"([月火水木金土日])(?:曜日?)?"
_EVERY_OTHER = re.compile(rf"^隔{_DOW}({_DATE})$")
_WEEKDAY = re.compile(rf"^{_DOW}([0-9]?)$")
_NTH_FIRST = re.compile(rf"^第([0-9]){_DOW}$")
_ONE_DATE = re.compile(rf"^({_DATE})$")


def parse_date(text: str) -> date:
    """20150112, 2015/1/12, 2015-01-12, 2015.1.12 or 2015年1月12日 (full-width digits too)."""
    value = unicodedata.normalize("NFKC", text).strip()
    digits = re.findall(r"\d+", value)
    if len(digits) == 1 and len(digits[0]) == 8:
        digits = [digits[0][:4], digits[0][4:6], digits[0][6:]]
    if len(digits) != 3 or len(digits[0]) != 4:
        raise ValueError(f"{text!r} is not a date (use 20261228 or 2026/12/28)")
    try:
        return date(int(digits[0]), int(digits[1]), int(digits[2]))
    except ValueError:
        raise ValueError(f"{text!r} is not a date") from None


@dataclass
class ParsedDays:
    rules: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)   # tokens left out
    notes: list[str] = field(default_factory=list)    # tokens repaired


def parse_days(cell: str) -> ParsedDays:
    """One area_days.csv cell -> rule strings (models.DayRule grammar), problems per token."""
    parsed = ParsedDays()
    text = unicodedata.normalize("NFKC", cell)
    for token in (t for t in re.split(r"[\s、,・]+", text) if t):
        try:
            rule, note = _parse_token(token)
        except ValueError as exc:
            parsed.errors.append(str(exc))
            continue
        if note:
            parsed.notes.append(note)
        DayRule.parse(rule)  # the importer never writes a rule the models refuse
        if rule not in parsed.rules:
            parsed.rules.append(rule)
    return parsed


def _parse_token(token: str) -> tuple[str, str | None]:
    if found := _EVERY_OTHER.match(token):
        weekday = WEEKDAYS_JA.index(found[1])
        try:
            start = parse_date(found[2])
        except ValueError:
            raise ValueError(f"{token!r}: {found[2]} is not a date") from None
        note = None
        if start.weekday() != weekday:
            # The weekday is what residents read; the date only says which week counts.
            # Take that weekday in the same (Monday-to-Sunday) week as the date.
            fixed = start - timedelta(days=start.weekday()) + timedelta(days=weekday)
            note = (f"{token!r}: {start} is a {WEEKDAYS_JA[start.weekday()]}曜日, not a {found[1]}曜日; "
                    f"counted from {found[1]}曜日 {fixed} (same week)")
            start = fixed
        return f"every other {WEEKDAYS_EN[weekday]} from {start.isoformat()}", note
    found = _WEEKDAY.match(token) or _NTH_FIRST.match(token)
    if found:
        day, nth = (found[1], found[2]) if found.re is _WEEKDAY else (found[2], found[1])
        weekday = WEEKDAYS_EN[WEEKDAYS_JA.index(day)]
        if not nth:
            return weekday, None
        if not 1 <= int(nth) <= 5:
            raise ValueError(f"{token!r}: there is no {nth}th {day}曜日 in a month (1 to 5)")
        return f"{ORDINAL[int(nth)]} {weekday}", None
    if _ONE_DATE.match(token):
        return parse_date(token).isoformat(), None
    if token.startswith("隔"):
        raise ValueError(f"{token!r} is not a day: every other week is written 隔<曜日><yyyymmdd>, "
                         f"e.g. 隔月20150112, with a real date")
    raise ValueError(f"{token!r} is not a day (use 月 木, 水2 水4, 隔月20150112 or 20261228)")


# -- conversion ---------------------------------------------------------------------------------
def label_key(label: str) -> str:
    """Labels are matched by this: NFKC, whitespace collapsed (空きびん　蛍光管 = 空きびん 蛍光管)."""
    return " ".join(unicodedata.normalize("NFKC", label).split())


@dataclass
class _Category:
    id: str
    label: str
    source: str                # where first met: description / area_days / target
    line: int
    how: str = ""
    en: str = ""
    color: str = ""


@dataclass
class Conversion:
    """What a 5374 folder turns into, before it is written."""

    categories: list[dict[str, Any]] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)
    item_lines: list[int] = field(default_factory=list)    # target.csv line of each item
    areas: list[dict[str, Any]] = field(default_factory=list)
    area_lines: list[int] = field(default_factory=list)    # area_days.csv line of each area
    breaks: list[dict[str, Any]] = field(default_factory=list)
    report: Report = field(default_factory=Report)

    @property
    def usable(self) -> bool:
        return bool(self.items) and bool(self.areas)

    def documents(self) -> dict[str, dict[str, Any]]:
        categories: dict[str, Any] = {"categories": self.categories}
        if self.remarks:
            categories["remarks"] = self.remarks
        return {
            "categories.yaml": categories,
            "items.yaml": {"items": self.items},
            "areas.yaml": {"areas": self.areas},
            "calendar.yaml": {"breaks": self.breaks},
        }

    def summary(self) -> str:
        return (f"{len(self.categories)} categories, {len(self.items)} items, {len(self.areas)} areas, "
                f"{len(self.report)} problems")


class _Converter:
    def __init__(self, conv: Conversion, tables: dict[str, CsvTable | None]):
        self.conv = conv
        self.report = conv.report
        self.tables = tables
        self.categories: dict[str, _Category] = {}   # label_key -> category
        self.area_centres: list[str] = []            # centre of each written area ("" unknown)

    def run(self) -> None:
        self._description()
        day_columns = self._area_day_columns()
        self._target_categories()
        self._areas(day_columns)
        self._items()
        self._breaks()
        self._remarks()
        self._categories_out()

    # categories ------------------------------------------------------------------------------
    def _category(self, label: str, source: str, line: int) -> _Category:
        key = label_key(label)
        if key not in self.categories:
            width = max(2, len(str(len(self.categories) + 1)))
            self.categories[key] = _Category(id=f"cat-{len(self.categories) + 1:0{width}d}", label=clean(label),
                                             source=source, line=line)
        return self.categories[key]

    def _description(self) -> None:
        table = self.tables["description.csv"]
        if table is None:
            return
        label = table.require("label", *LABEL)
        if label is None:
            return
        sublabel, description, color = (table.column(*SUBLABEL), table.column(*DESCRIPTION),
                                        table.column(*COLOR))
        for row in table.rows:
            text = clean(row.get(label))
            if not text:
                self.report.add(table.name, row.line, "no label: row skipped")
                continue
            if label_key(text) in self.categories:
                self.report.add(table.name, row.line, f"category {text!r} is listed twice: "
                                                      f"line {self.categories[label_key(text)].line} kept")
                continue
            category = self._category(text, "description", row.line)
            category.how = clean_text(row.get(description))
            english = clean(row.get(sublabel))
            if english and re.fullmatch(r"[A-Za-z][A-Za-z0-9 .,'&()/-]*", english):
                category.en = english
            value = row.get(color).strip()
            if re.fullmatch(r"#[0-9A-Fa-f]{6}", value):
                category.color = value
            elif re.fullmatch(r"#[0-9A-Fa-f]{3}", value):
                category.color = "#" + "".join(c * 2 for c in value[1:])
            elif value:
                self.report.add(table.name, row.line, f"{text}: bgcolor {value!r} is not a colour like "
                                                      f"#a5155b: the default colour is used")

    def _area_day_columns(self) -> list[tuple[int, _Category]]:
        table = self.tables["area_days.csv"]
        if table is None:
            return []
        name, centre = table.column(*AREA_NAME), table.column(*CENTRE)
        columns: list[tuple[int, _Category]] = []
        seen: dict[str, str] = {}
        for index, header in table.columns():
            if index in (name, centre):
                continue
            key = label_key(header)
            if key in seen:
                self.report.add(table.name, table.header_line, f"column {header!r} appears twice: "
                                                               f"the second is ignored")
                continue
            seen[key] = header
            if not self._holds_days(table, index):
                self.report.add(table.name, table.header_line, f"column {header!r} holds no collection days "
                                                               f"in any row: ignored")
                continue
            columns.append((index, self._category(header, "area_days", table.header_line)))
        return columns

    @staticmethod
    def _holds_days(table: CsvTable, index: int) -> bool:
        """False for a column where no cell parses though some are filled (not a category)."""
        cells = [row.get(index) for row in table.rows if row.get(index).strip()]
        return not cells or any(parse_days(cell).rules for cell in cells)

    def _target_categories(self) -> None:
        table = self.tables["target.csv"]
        if table is None:
            return
        label = table.column(*LABEL)
        if label is None:
            return
        for row in table.rows:
            text = clean(row.get(label))
            if text and label_key(text) not in self.categories:
                category = self._category(text, "target", row.line)
                self.report.add(table.name, row.line, f"category {text!r} is in neither description.csv nor "
                                                      f"area_days.csv: created as {category.id}, with no "
                                                      f"collection days")

    def _categories_out(self) -> None:
        for category in self.categories.values():
            data: dict[str, Any] = {"id": category.id,
                                    "name": {"ja": category.label, "en": category.en} if category.en
                                    else category.label}
            if category.how:
                data["how"] = category.how
            if not is_collected(category.label):
                data["collected"] = False
            if LARGE_WASTE.search(category.label):
                data["large_waste"] = True
            if category.color:
                data["color"] = category.color
            Category.model_validate(data)
            self.conv.categories.append(data)

    # areas -------------------------------------------------------------------------------------
    def _areas(self, columns: list[tuple[int, _Category]]) -> None:
        table = self.tables["area_days.csv"]
        if table is None:
            return
        name = table.require("area name", *AREA_NAME)
        if name is None:
            return
        centre = table.column(*CENTRE)
        if centre is None:
            self.report.add(table.name, table.header_line, "no センター column: the year-end breaks of "
                                                           "center.csv apply to every area")
        if not columns:
            self.report.add(table.name, table.header_line, "no category columns with collection days")
            return
        seen: dict[str, int] = {}
        for row in table.rows:
            area_name = clean(row.get(name))
            if not area_name:
                self.report.add(table.name, row.line, "no area name (地名): row skipped")
                continue
            if area_name in seen:
                self.report.add(table.name, row.line, f"area {area_name!r} is listed twice: line "
                                                      f"{seen[area_name]} kept, this row skipped")
                continue
            days: dict[str, list[str]] = {}
            for index, category in columns:
                cell = row.get(index)
                if not cell.strip():
                    continue   # no collection of that category there
                parsed = parse_days(cell)
                where = f"{area_name} {category.label}"
                for note in parsed.notes:
                    self.report.add(table.name, row.line, f"{where}: {note}")
                for error in parsed.errors:
                    left = "the other days kept" if parsed.rules else "no days for this category here"
                    self.report.add(table.name, row.line, f"{where}: {error}: left out ({left})")
                if parsed.rules:
                    days[category.id] = parsed.rules
            if not days:
                self.report.add(table.name, row.line, f"area {area_name!r} has no collection days: row skipped")
                continue
            width = max(3, len(str(len(self.conv.areas) + 1)))
            data = {"id": f"area-{len(self.conv.areas) + 1:0{width}d}", "name": area_name, "days": days}
            try:
                Area.model_validate(data)
            except ValidationError as exc:
                self.report.add(table.name, row.line, f"area {area_name!r}: {_first_error(exc)}: row skipped")
                continue
            seen[area_name] = row.line
            self.conv.areas.append(data)
            self.conv.area_lines.append(row.line)
            self.area_centres.append(clean(row.get(centre)) if centre is not None else "")

    # items -----------------------------------------------------------------------------------
    def _items(self) -> None:
        table = self.tables["target.csv"]
        if table is None:
            return
        label, name = table.require("category (type or label)", *LABEL), table.require("item name", *ITEM_NAME)
        if label is None or name is None:
            if table.rows:
                self.report.add(table.name, None, f"{len(table.rows)} rows skipped")
            return
        notice, furigana = table.column(*NOTICE), table.column(*FURIGANA)
        kept: dict[tuple[str, str], int] = {}   # (category id, name) -> index in items
        for row in table.rows:
            item_name, text = clean(row.get(name)), clean(row.get(label))
            if not item_name:
                self.report.add(table.name, row.line, "no item name: row skipped")
                continue
            if not text:
                self.report.add(table.name, row.line, f"{item_name}: no category: row skipped")
                continue
            category = self.categories.get(label_key(text))
            if category is None:  # cannot happen: every target.csv label was made a category
                self.report.add(table.name, row.line, f"{item_name}: unknown category {text!r}: row skipped")
                continue
            note = clean_text(row.get(notice))
            key = (category.id, item_name)
            if key in kept:
                first = self.conv.items[kept[key]]
                line = self.conv.item_lines[kept[key]]
                if note and "note" not in first:
                    first["note"] = note
                    how = "its notice added to it"
                elif note and note != first.get("note"):
                    how = f"its different notice {note!r} dropped"
                else:
                    how = "dropped"
                self.report.add(table.name, row.line, f"{item_name} ({category.label}) is listed twice: "
                                                      f"line {line} kept, this row {how}")
                continue
            data: dict[str, Any] = {"name": item_name}
            aliases = other_names(item_name)  # 「電気カミソリ・電気ひげそり」: residents type one of them
            if aliases:
                data["aliases"] = aliases
            reading = reading_of(row.get(furigana))
            if reading:
                data["reading"] = reading
            data["category"] = category.id
            if note:
                data["note"] = note
            try:
                Item.model_validate(data)
            except ValidationError as exc:
                self.report.add(table.name, row.line, f"{item_name[:40]}: {_first_error(exc)}: row skipped")
                continue
            kept[key] = len(self.conv.items)
            self.conv.items.append(data)
            self.conv.item_lines.append(row.line)

    # calendar -------------------------------------------------------------------------------
    def _breaks(self) -> None:
        table = self.tables["center.csv"]
        if table is None or not self.conv.areas:
            return
        name = table.column(*CENTRE_NAME)
        start, end = table.require("start date", *BREAK_START), table.require("end date", *BREAK_END)
        if start is None or end is None:
            return
        has_centres = any(self.area_centres)
        if has_centres and name is None:
            self.report.add(table.name, table.header_line, "no 名称 column: cannot tell which areas a break is for")
            return
        groups: dict[tuple[date, date], list[str]] = {}
        for row in table.rows:
            centre = clean(row.get(name)) if name is not None else ""
            first, last = row.get(start).strip(), row.get(end).strip()
            if not first and not last:
                continue  # a centre without a break
            try:
                span = (parse_date(first or last), parse_date(last or first))
            except ValueError as exc:
                self.report.add(table.name, row.line, f"{centre}: {exc}: row skipped")
                continue
            if span[1] < span[0]:
                self.report.add(table.name, row.line, f"{centre}: ends {span[1]} before it starts {span[0]}: "
                                                      f"row skipped")
                continue
            if has_centres and label_key(centre) not in {label_key(c) for c in self.area_centres}:
                self.report.add(table.name, row.line, f"centre {centre!r} has no area in area_days.csv: "
                                                      f"row skipped")
                continue
            groups.setdefault(span, [])
            if centre not in groups[span]:
                groups[span].append(centre)
        every_area = [area["id"] for area in self.conv.areas]
        for (first, last), centres in sorted(groups.items()):
            keys = {label_key(c) for c in centres}
            areas = [area["id"] for area, c in zip(self.conv.areas, self.area_centres)
                     if not has_centres or label_key(c) in keys]
            data: dict[str, Any] = {"from": first, "to": last, "reason": YEAR_END_REASON}
            if areas != every_area:
                data["areas"] = areas
            self.conv.breaks.append(data)

    def _remarks(self) -> None:
        table = self.tables["remarks.csv"]
        if table is None:
            return
        column = table.column(*REMARK)
        if column is None:  # the one column that is not an ID
            others = [i for i, h in table.columns() if label_key(h).lower() not in ("id", "no", "番号")]
            column = others[0] if len(others) == 1 else table.require("remark", *REMARK)
        if column is None:
            return
        for row in table.rows:
            text = clean_text(row.get(column))
            if text and text not in self.conv.remarks:
                self.conv.remarks.append(text)


def is_collected(label: str) -> bool:
    """False for a category whose label says the city does not take it (受け入れできないごみ)."""
    return not NOT_COLLECTED.search(unicodedata.normalize("NFKC", label))


def reading_of(furigana: str) -> str | None:
    """The furigana cell when it is a reading; None for the index letter (あ, か...) most
    5374 files put there, or anything that is not kana."""
    value = "".join(unicodedata.normalize("NFKC", furigana).split())
    return value if len(value) > 1 and KANA.match(value) else None
