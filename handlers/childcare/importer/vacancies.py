"""A nursery vacancy table (Yokohama's 受入可能数 layout, or facility_id,age,places) -> vacancies.yaml places."""

from __future__ import annotations

import re
from datetime import date

from bot.importers.csvfiles import CsvError, CsvTable, Report, clean, decode, normalize_header, read_csv

from ..places import AGE_CLASSES
from .parsing import FacilityLike, _key, nfkc, parse_as_of, parse_places

# vacancy tables
V_NUMBER = ("施設番号", "facility_id", "施設ID", "ID", "施設コード")
V_NAME = ("施設・事業名", "施設・事業所名", "施設名", "名称", "施設名称")
V_AGE = ("age", "年齢", "クラス", "年齢クラス")
V_PLACES = ("places", "受入可能数", "空き数", "空き")
V_AS_OF = ("as_of", "基準日", "時点")
_CLASS_HEADER = re.compile(r"^(\d)歳児?(クラス)?$")


# -- vacancies --------------------------------------------------------------------------------
def import_vacancies(data: bytes, name: str, facilities: list[FacilityLike], report: Report, *,
                     as_of: date | None = None) -> tuple[date | None, dict[str, dict[int, int]]]:
    """(as-of date, {facility id: {age class: places}}) from a vacancy table, in either
    layout (found by its header). `as_of`, when given (--as-of), wins over the file's date.
    Rows and cells that cannot be used are in `report` with their line."""
    try:
        text, _encoding = decode(data)
    except CsvError as exc:
        report.add(name, exc.line, f"cannot be read: {exc}", fatal=True)
        return as_of, {}
    text, title_date = _title(text.lstrip("\ufeff"), name, report)
    try:
        table = read_csv(text.encode("utf-8"), name, report)
    except CsvError as exc:
        report.add(name, exc.line, f"cannot be read: {exc}", fatal=True)
        return as_of, {}
    matcher = _Matcher(facilities)
    classes = {i: int(m[1]) for i, h in table.columns() if (m := _CLASS_HEADER.match(normalize_header(h)))}
    if classes:
        _class_columns(table, set(classes.values()), facilities)
        file_date, places = title_date, _wide(table, classes, matcher)
    elif table.column(*V_AGE) is not None:
        file_date, places = _long(table, matcher)
    else:
        report.add(name, table.header_line, "neither a column per class (０歳児, １歳児...) nor "
                                            "facility_id,age,places columns: nothing read")
        return as_of, {}
    if as_of is not None and file_date is not None and file_date != as_of:
        report.add(name, None, f"the file says {file_date.isoformat()}: --as-of {as_of.isoformat()} used")
    missing = [f.name for f in facilities if f.id not in places]
    if places and missing:
        report.add(name, None, f"{len(missing)} facilities are not in the table: "
                               f"{', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")
    return as_of or file_date, places


def _class_columns(table: CsvTable, found: set[int], facilities: list[FacilityLike]) -> None:
    """A column per class is required for every class a facility takes: without it,
    all their places in that class would vanish (residents would see them full)."""
    for age in AGE_CLASSES:
        taking = [f for f in facilities if age in (getattr(f, "ages", None) or ())]
        if age not in found and taking:
            table.report.add(table.name, table.header_line,
                             f"no {chr(0xFF10 + age)}歳児 column: the {age}-year class places of {len(taking)} "
                             f"facilities would be lost", fatal=True)


def _title(text: str, name: str, report: Report) -> tuple[str, date | None]:
    """Title lines before the header (【令和７年９月１日時点】, maybe followed by commas, or a
    note): the first date they hold, and the text with them blanked (so every line keeps
    its number for read_csv)."""
    known = {normalize_header(h) for h in (*V_NUMBER, *V_NAME, *V_AGE, *V_PLACES, "施設所在区")}
    lines = text.split("\n")
    titles: list[int] = []
    for index, line in enumerate(lines[:10]):
        cells = [c.strip() for c in line.rstrip("\r").split(",") if c.strip().strip('"').strip()]
        if not cells:
            continue
        headers = {normalize_header(c) for c in cells}
        if len(cells) > 2 or headers & known or any(_CLASS_HEADER.match(h) for h in headers):
            break   # the header
        titles.append(index)
    found = next((day for day in (parse_as_of(lines[i]) for i in titles) if day), None)
    if titles and found is None:
        report.add(name, titles[0] + 1, f"title {clean(lines[titles[0]].replace(',', ' '))!r} holds no date: "
                                        f"give the date with --as-of")
    for index in titles:
        lines[index] = "\r" if lines[index].endswith("\r") else ""
    return "\n".join(lines), found


class _Matcher:
    """Rows to facilities: by 施設番号 = facility id, else by name."""

    def __init__(self, facilities: list[FacilityLike]):
        self.by_id = {f.id: f for f in facilities}
        self.by_name: dict[str, FacilityLike | None] = {}
        for facility in facilities:
            key = _key(facility.name)
            self.by_name[key] = None if key in self.by_name else facility   # None: two of that name

    def find(self, number: str, name: str) -> tuple[FacilityLike | None, str]:
        number = nfkc(number)
        if number in self.by_id:
            return self.by_id[number], ""
        key = _key(name)
        if key in self.by_name:
            found = self.by_name[key]
            return found, "" if found else f"{name!r} names two facilities: give its 施設番号"
        what = " ".join(p for p in (f"施設番号 {number}" if number else "", repr(clean(name)) if name.strip() else "")
                        if p) or "a row without 施設番号 or name"
        return None, f"{what} is not in facilities.yaml"


def _add(table: CsvTable, line: int, facility: FacilityLike, places: dict[int, int], age: int, value: int) -> None:
    ages = getattr(facility, "ages", None)
    if ages is not None and age not in ages:
        table.report.add(table.name, line, f"{facility.name}: {value} places for the {age}-year class, which "
                                           f"it does not take (ages {list(ages)}): left out")
    elif value > 999:
        table.report.add(table.name, line, f"{facility.name}: {value} places for the {age}-year class is too "
                                           f"many: left out")
    else:
        places[age] = value


def _wide(table: CsvTable, classes: dict[int, int], matcher: _Matcher) -> dict[str, dict[int, int]]:
    """Yokohama's layout: a row per facility, a column per class."""
    number, name = table.column(*V_NUMBER), table.column(*V_NAME)
    if number is None and name is None:
        table.require("facility (施設番号 or 施設・事業名)", *V_NUMBER, *V_NAME)
        return {}
    out: dict[str, dict[int, int]] = {}
    lines: dict[str, int] = {}
    for row in table.rows:
        facility, why = matcher.find(row.get(number), row.get(name))
        if facility is None:
            table.report.add(table.name, row.line, f"{why}: row skipped")
            continue
        if facility.id in out:
            table.report.add(table.name, row.line, f"{facility.name} is listed twice (line {lines[facility.id]} "
                                                   f"kept): row skipped")
            continue
        places: dict[int, int] = {}
        for column, age in sorted(classes.items(), key=lambda c: c[1]):
            try:
                value = parse_places(row.get(column))
            except ValueError as exc:
                table.report.add(table.name, row.line, f"{facility.name} {age}歳児: {exc}: left out")
                continue
            if value is not None:
                _add(table, row.line, facility, places, age, value)
        out[facility.id], lines[facility.id] = places, row.line
    return out


def _long(table: CsvTable, matcher: _Matcher) -> tuple[date | None, dict[str, dict[int, int]]]:
    """The plain export: facility_id,age,places[,as_of], a row per facility and class."""
    number, name = table.column(*V_NUMBER), table.column(*V_NAME)
    age_col, places_col = table.column(*V_AGE), table.require("places", *V_PLACES)
    if number is None and name is None:
        table.require("facility_id", *V_NUMBER)
    if places_col is None or (number is None and name is None):
        return None, {}
    as_of_col = table.column(*V_AS_OF)
    file_date: date | None = None
    out: dict[str, dict[int, int]] = {}
    seen: dict[tuple[str, int], int] = {}
    for row in table.rows:
        if as_of_col is not None and row.get(as_of_col).strip():
            day = parse_as_of(row.get(as_of_col))
            if day is None:
                table.report.add(table.name, row.line, f"as_of {row.get(as_of_col).strip()!r} is not a date")
            elif file_date is None:
                file_date = day
            elif day != file_date:
                table.report.add(table.name, row.line, f"as_of {day.isoformat()} differs from the first row's "
                                                       f"{file_date.isoformat()}: {file_date.isoformat()} used")
        facility, why = matcher.find(row.get(number), row.get(name))
        if facility is None:
            table.report.add(table.name, row.line, f"{why}: row skipped")
            continue
        m = re.fullmatch(r"(\d)\s*(?:歳児?)?(?:クラス)?", nfkc(row.get(age_col)))
        if m is None or int(m[1]) not in AGE_CLASSES:
            table.report.add(table.name, row.line, f"{facility.name}: age {row.get(age_col).strip()!r} is not a "
                                                   f"class 0-5: row skipped")
            continue
        age = int(m[1])
        if (facility.id, age) in seen:
            table.report.add(table.name, row.line, f"{facility.name} {age}歳児 is listed twice (line "
                                                   f"{seen[facility.id, age]} kept): row skipped")
            continue
        try:
            value = parse_places(row.get(places_col))
        except ValueError as exc:
            table.report.add(table.name, row.line, f"{facility.name} {age}歳児: {exc}: row skipped")
            continue
        seen[facility.id, age] = row.line
        places = out.setdefault(facility.id, {})
        if value is not None:
            _add(table, row.line, facility, places, age, value)
    return file_date, out
