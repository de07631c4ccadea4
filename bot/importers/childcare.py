"""`citybot import childcare|vacancies`: a city's nursery lists -> content/childcare/.

Two sources, neither of them tidy:

* 子育て施設一覧, the municipal standard layout (53 columns; older files have 28, with
  住所/方書 instead of 所在地_*). It lists every childcare place the city knows: nurseries,
  but also 幼稚園, 児童館, 放課後児童クラブ... Only nurseries that take applications
  through the city are imported, classified from the free-text 種別; the rest are
  reported as skipped. 受入年齢 is free text too (`６か月～５歳`, `産休明け～５歳`,
  `満3歳以上`) and becomes the age classes 0-5 a facility takes. Its division (ward or
  district of settings.yaml) is found from 所在地_市区町村, 所在地_町字 and the address
  (bot.importers.divisions); a nursery in none is kept with its division unknown (counted
  once in the report), as are all of them in a city without divisions. 名称_カナ and
  名称_英字 are kept for answers in English and やさしい日本語 (bot.readable); a row without an
  ID gets one made from its name (the same name gives the same id on every import).
* A vacancy table, for which there is no national layout: Yokohama's monthly
  受入可能数 file (a title line with the as-of date, then one row per facility with a
  column per class: numbers, `-`, or symbols such as ○ △ ×) is the most reused; a
  plain `facility_id,age,places` export is the other.

Every row that cannot be used is reported with its physical line and the import goes
on. Nothing is written unless the result validates against bot.childcare's models, nor
(without --force) when the file was not read whole or would keep fewer than
IMPORT_MIN_SHARE of the current entries (bot.importers.safety). facilities.yaml and the
vacancies.yaml it prunes are written together or not at all.
The written files carry no import date, so importing the same file twice gives the
same bytes (the sample content is checked that way against its CSV files).
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Callable, Protocol

import yaml
from pydantic import ValidationError

from ..childcare import AGE_CLASSES, FacilitiesFile, Facility, VacanciesFile
from .csvfiles import CsvError, CsvTable, Report, clean, decode, name_id, normalize_header, read_csv
from .divisions import Divisions, unknown_note
from .errors import ImportFailed, first_error as _first_error
from .safety import Limits, check, read_source, shrinkage, unreadable
from .yamlout import ContentDumper, write_file as _write_file, write_together

__all__ = ["ImportFailed", "import_facilities", "import_vacancies", "parse_ages", "classify", "parse_as_of",
           "parse_places", "render_facilities", "render_vacancies", "load_wards", "load_facilities",
           "facilities_from_file", "vacancies_from_file"]

# header aliases, compared after NFKC and lower-casing (csvfiles.normalize_header)
ID = ("ID", "NO", "施設ID", "施設番号", "施設コード")
CODE = ("全国地方公共団体コード", "市区町村コード")
NAME = ("名称", "施設名", "施設名称")
KANA = ("名称_カナ", "名称カナ", "フリガナ", "ふりがな", "施設名称_カナ")
NAME_EN = ("名称_英字", "名称英字", "名称_英語", "英語名称", "施設名称_英字")
TYPE = ("種別", "施設種別", "施設の種類", "種類")
CITY = ("所在地_市区町村", "市区町村名", "市区町村")
TOWN = ("所在地_町字", "町字")
FULL_ADDRESS = ("所在地_連結表記", "住所", "所在地")
ADDRESS_PARTS = ("所在地_都道府県", "所在地_市区町村", "所在地_町字", "所在地_番地以下")
BUILDING = ("建物名等(方書)", "方書", "建物名等")
LAT = ("緯度", "latitude", "lat")
LON = ("経度", "longitude", "lon", "lng")
PHONE = ("電話番号", "電話", "TEL")
OPENS = ("開始時間", "開所時間", "開園時間")
CLOSES = ("終了時間", "閉所時間", "閉園時間")
AGES = ("受入年齢", "受け入れ年齢", "対象年齢", "受入対象年齢")
CAPACITY = ("収容定員", "定員", "利用定員")
URL = ("URL", "ホームページ", "ウェブサイト")

# vacancy tables
V_NUMBER = ("施設番号", "facility_id", "施設ID", "ID", "施設コード")
V_NAME = ("施設・事業名", "施設・事業所名", "施設名", "名称", "施設名称")
V_AGE = ("age", "年齢", "クラス", "年齢クラス")
V_PLACES = ("places", "受入可能数", "空き数", "空き")
V_AS_OF = ("as_of", "基準日", "時点")
_CLASS_HEADER = re.compile(r"^(\d)歳児?(クラス)?$")

# 種別 -> type; checked in this order on the NFKC text without spaces
NOT_TAKEN = re.compile(r"認可外|企業主導|ベビーホテル|病児|病後児|一時預かり|一時保育|居宅訪問|届出")
TYPES = (
    (re.compile(r"こども園"), "kodomoen"),
    (re.compile(r"小規模保育"), "small"),
    (re.compile(r"事業所内保育"), "workplace"),
    (re.compile(r"家庭的保育"), "home"),
    (re.compile(r"保育所|保育園"), "nursery"),
)
DEFAULT_AGES = {"small": [0, 1, 2], "home": [0, 1, 2], "workplace": [0, 1, 2]}   # else 0-5
TYPE_NAMES = "nursery 保育所, kodomoen 認定こども園, small 小規模保育, workplace 事業所内保育, home 家庭的保育"


class FacilityLike(Protocol):
    id: str
    name: str


# -- small parsers ----------------------------------------------------------------------------
def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").strip()


def classify(type_text: str) -> str | None:
    """The Facility.type for a free-text 種別, or None when it is no nursery taking
    applications (幼稚園, 児童館, 放課後児童クラブ, 認可外..., 一時預かり...)."""
    text = re.sub(r"\s+", "", nfkc(type_text))
    if not text or NOT_TAKEN.search(text):
        return None
    for pattern, kind in TYPES:
        if pattern.search(text):
            return kind
    return None


_INFANT = re.compile(r"産休明け?|生後\s*\d+\s*(日|週|か月|ヶ月|カ月|ケ月|ヵ月|箇月)目?|(?<![\d歳])\d+\s*(か月|ヶ月|カ月|ケ月|ヵ月|箇月)児?")
_MONTHS_AFTER_YEARS = re.compile(r"(歳)\s*\d+\s*(か月|ヶ月|カ月|ケ月|ヵ月|箇月)")
_AGE_FORMS = re.compile(
    r"(?P<lo>\d+)\s*(?:歳児?)?\s*~\s*(?P<hi>\d+)\s*歳"          # 0歳~5歳, 0~5歳
    r"|(?P<from>\d+)\s*歳児?\s*(?:以上|~)"                      # 満3歳以上, 3歳~
    r"|(?P<below>\d+)\s*歳児?\s*未満"                           # 18歳未満
    r"|(?P<upto>\d+)\s*歳児?\s*(?:まで|以下)"                   # 2歳まで
    r"|~\s*(?P<to>\d+)\s*歳"                                   # ~5歳
    r"|(?P<one>\d+)\s*歳")                                     # 3歳・4歳・5歳


def parse_ages(text: str) -> list[int] | None:
    """The age classes (0-5) a free-text 受入年齢 names, [] when it names none of them
    (`６歳～１２歳`), None when it cannot be read (blank, or no age in it).

        0歳から5歳 -> 0-5      ６か月～５歳, 産休明け～５歳, 生後57日～5歳 -> 0-5
        1歳から2歳 -> 1-2      満3歳以上 -> 3-5      18歳未満 -> 0-5      2歳まで -> 0-2
    """
    value = nfkc(text)
    for dash in ("〜", "～", "－", "−", "‐", "―", "-", "から", "より"):
        value = value.replace(dash, "~")
    value = _MONTHS_AFTER_YEARS.sub(r"\1", value)   # 1歳6か月 is in the 1-year class
    value = _INFANT.sub("0歳", value)
    found: set[int] = set()
    matched = False
    for m in _AGE_FORMS.finditer(value):
        matched = True
        if m["lo"] is not None:
            lo, hi = int(m["lo"]), int(m["hi"])
        elif m["from"] is not None:
            lo, hi = int(m["from"]), max(AGE_CLASSES)
        elif m["below"] is not None:
            lo, hi = 0, int(m["below"]) - 1
        elif m["upto"] is not None or m["to"] is not None:
            lo, hi = 0, int(m["upto"] or m["to"])
        else:
            lo = hi = int(m["one"])
        found.update(a for a in AGE_CLASSES if lo <= a <= hi)
    return sorted(found) if matched else None


_ERAS = {"令和": 2018, "平成": 1988, "昭和": 1925, "r": 2018, "h": 1988, "s": 1925}
_ERA_DATE = re.compile(r"(令和|平成|昭和)\s*(元|\d+)\s*年\s*(\d+)\s*月\s*(?:(\d+)\s*日)?")
_ERA_SHORT = re.compile(r"\b([RHS])\s*(\d+)[./](\d+)[./](\d+)", re.I)
_WESTERN = re.compile(r"(\d{4})\s*年\s*(\d+)\s*月\s*(?:(\d+)\s*日)?|(\d{4})[/.\-](\d{1,2})[/.\-](\d{1,2})")


def parse_as_of(text: str) -> date | None:
    """The date in a title or cell: 【令和７年９月１日時点】, 平成31年4月1日, 令和元年, R7.9.1,
    2025年9月1日, 2025/9/1, 2025-09-01 (full-width digits too). A month without its day
    is the 1st. None when there is no (valid) date."""
    value = nfkc(text)
    parts: tuple[int, int, int] | None = None
    if m := _ERA_DATE.search(value):
        year = 1 if m[2] == "元" else int(m[2])
        parts = (_ERAS[m[1]] + year, int(m[3]), int(m[4] or 1))
    elif m := _ERA_SHORT.search(value):
        parts = (_ERAS[m[1].lower()] + int(m[2]), int(m[3]), int(m[4]))
    elif m := _WESTERN.search(value):
        parts = ((int(m[1]), int(m[2]), int(m[3] or 1)) if m[1] else (int(m[4]), int(m[5]), int(m[6])))
    if parts is None:
        return None
    try:
        return date(*parts)
    except ValueError:
        return None


SYMBOLS = {"◎": 5, "○": 3, "〇": 3, "◯": 3, "△": 1, "×": 0, "✕": 0, "✖": 0, "x": 0}   # lower bounds
NOT_OFFERED = {"", "-", "‐", "−", "―", "ー", "—", "–", "‑", "─"}


def parse_places(cell: str) -> int | None:
    """Places in one vacancy cell: 3, ３, `3(0)` -> 3; ◎ 5, ○ 3, △ 1, × 0 (the lower bound
    of what the symbol means); None for `-` or blank (the class is not offered).
    Raises ValueError for anything else."""
    value = re.sub(r"\s+", "", nfkc(cell)).lower()
    if value in NOT_OFFERED:
        return None
    if m := re.fullmatch(r"(\d{1,3})(?:\(.*\))?(?:人|名)?", value):
        return int(m[1])
    if value in SYMBOLS:
        return SYMBOLS[value]
    raise ValueError(f"{cell.strip()!r} is not a number of places (a number, -, ◎ ○ △ ×, or 3(0))")


def _coordinate(text: str) -> float | None:
    try:
        number = float(nfkc(text).replace(",", ""))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _key(name: str) -> str:
    """Facility names are matched by this: NFKC, no spaces."""
    return re.sub(r"\s+", "", nfkc(name))


# -- wards ------------------------------------------------------------------------------------
def load_wards(settings_path: Path) -> Divisions:
    """The divisions of settings.yaml (none for a city without them: then every nursery is
    kept without one)."""
    try:
        return Divisions.load(settings_path)
    except ValueError as exc:
        raise ImportFailed(f"cannot read the districts of {settings_path}: {exc}") from None


# -- facilities -------------------------------------------------------------------------------
@dataclass
class _Columns:
    id: int | None
    code: int | None
    name: int | None
    kana: int | None
    name_en: int | None
    type: int | None
    city: int | None
    town: int | None
    address: int | None
    parts: list[int]
    building: int | None
    lat: int | None
    lon: int | None
    phone: int | None
    opens: int | None
    closes: int | None
    ages: int | None
    capacity: int | None
    url: int | None

    @classmethod
    def of(cls, table: CsvTable) -> "_Columns":
        return cls(id=table.require("ID", *ID), code=table.column(*CODE), name=table.require("name", *NAME),
                   kana=table.column(*KANA), name_en=table.column(*NAME_EN),
                   type=table.require("type (種別)", *TYPE), city=table.column(*CITY), town=table.column(*TOWN),
                   address=table.column(*FULL_ADDRESS),
                   parts=[c for c in (table.column(p) for p in ADDRESS_PARTS) if c is not None],
                   building=table.column(*BUILDING), lat=table.require("latitude", *LAT),
                   lon=table.require("longitude", *LON), phone=table.column(*PHONE), opens=table.column(*OPENS),
                   closes=table.column(*CLOSES), ages=table.column(*AGES), capacity=table.column(*CAPACITY),
                   url=table.column(*URL))


def import_facilities(data: bytes, name: str, wards: "Divisions | list[tuple[str, list[str]]]",
                      report: Report) -> list[dict]:
    """The nurseries of a 子育て施設一覧 file, as dicts valid for bot.childcare.Facility, in
    file order. Rows left out, and defaults used, are in `report` with their line; the
    nurseries kept without a division are counted once."""
    divisions = Divisions.of(wards)
    try:
        table = read_csv(data, name, report)
    except CsvError as exc:
        report.add(name, exc.line, f"cannot be read: {exc}", fatal=True)
        return []
    cols = _Columns.of(table)
    if None in (cols.id, cols.name, cols.type, cols.lat, cols.lon):
        if table.rows:
            report.add(name, None, f"{len(table.rows)} rows skipped")
        return []
    if cols.address is None and not cols.parts:
        table.require("address", *FULL_ADDRESS)
    names = [_key(row.get(cols.name)) for row in table.rows]
    twice = {n for n in names if names.count(n) > 1}
    no_ages = cols.ages is None or not any(clean(row.get(cols.ages)) for row in table.rows)
    facilities: list[dict] = []
    kept: dict[str, int] = {}   # id -> line
    made_ids = 0
    for row in table.rows:
        facility = _facility(table, cols, row, divisions, kept, twice, say_ages=not no_ages)
        if facility is not None:
            kept[facility["id"]] = row.line
            made_ids += not nfkc(row.get(cols.id))
            facilities.append(facility)
    if no_ages and facilities:   # one line, not one per row, when the city leaves the column blank
        report.add(name, None, f"受入年齢 is blank in every row: the ages of each type assumed for all {len(facilities)} "
                               f"nurseries (0-5; 0-2 for {', '.join(sorted(DEFAULT_AGES))})")
    if made_ids:
        report.add(name, None, f"{made_ids} nurseries have no ID: ids made from their names (the same on every "
                               f"import while the name stays)")
    note = unknown_note(divisions, sum(1 for f in facilities if not f.get("ward")), len(facilities), "nurseries")
    if note:
        report.add(name, None, note)
    return facilities


def _facility(table: CsvTable, cols: _Columns, row, divisions: Divisions, kept: dict[str, int],
              twice: set[str], say_ages: bool = True) -> dict | None:
    report, file, line = table.report, table.name, row.line
    name = clean(row.get(cols.name))
    label = name or f"row {line}"

    def skip(message: str) -> None:
        report.add(file, line, f"{label}: {message}: row skipped")

    type_text = clean(row.get(cols.type))
    kind = classify(type_text)
    if kind is None:
        skip(f"種別 {type_text!r} is not a nursery taking applications" if type_text else "no 種別")
        return None
    if not name:
        return skip("no name (名称)")
    address = _address(row, cols)
    facility_id = nfkc(row.get(cols.id)) or name_id(nfkc(row.get(cols.code)), name,
                                                    address if _key(name) in twice else "")
    if facility_id in kept:
        return skip(f"ID {facility_id} is listed twice (line {kept[facility_id]} kept)")
    if not address:
        return skip("no address")
    lat, lon = _coordinate(row.get(cols.lat)), _coordinate(row.get(cols.lon))
    if lat is None or lon is None:
        return skip(f"no coordinates (緯度 {row.get(cols.lat).strip()!r}, 経度 {row.get(cols.lon).strip()!r})")
    if not (20 <= lat <= 46 and 122 <= lon <= 154):
        swapped = " (緯度 and 経度 swapped?)" if 20 <= lon <= 46 and 122 <= lat <= 154 else ""
        return skip(f"coordinates {lat}, {lon} are not in Japan{swapped}")
    ward = divisions.place(municipality=[row.get(cols.city)], town=row.get(cols.town), address=address,
                           lat=lat, lon=lon)
    ages_text = clean(row.get(cols.ages))
    ages = parse_ages(ages_text)
    if ages == []:
        return skip(f"受入年齢 {ages_text!r} takes no child of 0-5")
    if ages is None:
        ages = DEFAULT_AGES.get(kind, list(AGE_CLASSES))
        why = f"受入年齢 {ages_text!r} cannot be read" if ages_text else "no 受入年齢"
        if say_ages:
            report.add(file, line, f"{label}: {why}: ages {ages[0]}-{ages[-1]} of a {type_text} assumed")
    facility: dict[str, Any] = {"id": facility_id, "name": name}
    kana = nfkc(clean(row.get(cols.kana)))
    if kana:
        facility["kana"] = kana
    name_en = clean(row.get(cols.name_en))
    if name_en:
        facility["name_en"] = name_en
    facility.update(type=kind, type_text=type_text)
    if ward:
        facility["ward"] = ward
    facility.update(address=address, lat=lat, lon=lon)
    phone = nfkc(row.get(cols.phone))
    if phone:
        facility["phone"] = phone
    hours = _hours(row.get(cols.opens), row.get(cols.closes))
    if hours:
        facility["hours"] = hours
    facility["ages"] = ages
    if ages_text:
        facility["ages_text"] = ages_text
    capacity = nfkc(row.get(cols.capacity))
    if capacity:
        number = re.sub(r"[,\s]|人|名", "", capacity)
        if number.isdigit():
            facility["capacity"] = int(number)
        else:
            report.add(file, line, f"{label}: 収容定員 {capacity!r} is not a number: left out")
    url = clean(row.get(cols.url))
    if url:
        facility["url"] = url
    try:
        Facility.model_validate(facility)
    except ValidationError as exc:
        return skip(_first_error(exc))
    return facility


def _address(row, cols: _Columns) -> str:
    address = clean(row.get(cols.address))
    if not address:
        address = "".join(clean(row.get(c)) for c in cols.parts)
    building = clean(row.get(cols.building))
    if building and building not in address:
        address = f"{address} {building}" if address else building
    return address


def _hours(opens: str, closes: str) -> str:
    opens, closes = nfkc(opens), nfkc(closes)
    return f"{opens}-{closes}" if opens or closes else ""


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


# -- writing ------------------------------------------------------------------------------------
class _Flow(list):
    """A short list written on one line: [0, 1, 2]."""


class _FlowMap(dict):
    """A short mapping written on one line: {0: 0, 1: 2}."""


class _ChildcareDumper(ContentDumper):
    pass


_ChildcareDumper.add_representer(_Flow, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True))
_ChildcareDumper.add_representer(_FlowMap, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v.items(),
                                                                            flow_style=True))


def _dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_ChildcareDumper, allow_unicode=True, sort_keys=False, default_flow_style=False,
                     width=10_000, indent=2)


def render_facilities(facilities: list[dict], source: str) -> str:
    """facilities.yaml's text, checked by loading it back through FacilitiesFile."""
    if not facilities:
        raise ImportFailed("nothing usable: no nursery could be imported")
    header = [f"# Nurseries taking applications through the city, written by `citybot import childcare` "
              f"from {source}.",
              "# Re-importing replaces this file; the import's output lists the rows it left out.",
              f"# type: {TYPE_NAMES}.",
              "# ward: a division (ward or district) of settings.yaml, left out when unknown; ages: the age classes "
              "(年齢クラス) taken, read from 受入年齢 (ages_text); kana, name_en: 名称_カナ, 名称_英字."]
    rows = [{k: _Flow(v) if k == "ages" else v for k, v in f.items()} for f in facilities]
    text = "\n".join(header) + "\n" + _dump({"facilities": rows})
    _check(FacilitiesFile, text)
    return text


def _usable(as_of: date | None, places: dict[str, dict[int, int]]) -> None:
    if as_of is None:
        raise ImportFailed("no as-of date: the file has none, give it with --as-of YYYY-MM-DD")
    if not places:
        raise ImportFailed("nothing usable: no facility of the table is in facilities.yaml")


def render_vacancies(as_of: date | None, places: dict[str, dict[int, int]], source: str) -> str:
    """vacancies.yaml's text, checked by loading it back through VacanciesFile."""
    _usable(as_of, places)
    header = [f"# Nursery vacancies (受入可能数) as of {as_of.isoformat()}, written by `citybot import vacancies` "
              f"from {source}.",
              "# places: facility id -> {age class: places}; a class left out has no place to offer.",
              "# Re-importing replaces this file; the import's output lists the rows it left out."]
    data = {"as_of": as_of, "source": source,
            "places": {fid: _FlowMap(sorted(classes.items())) for fid, classes in places.items()}}
    text = "\n".join(header) + "\n" + _dump(data)
    _check(VacanciesFile, text)
    return text


def _check(model, text: str) -> None:
    try:
        model.model_validate(yaml.safe_load(text))
    except (ValidationError, yaml.YAMLError) as exc:
        raise ImportFailed(f"the converted data do not validate: {exc}") from None


def write_file(text: str, out: Path) -> None:
    """Written whole or not at all (a temporary file renamed over the old one), readable
    by the bot's processes (the temporary file is created owner-only)."""
    _write_file(text, Path(out))


# -- whole files, for the command --------------------------------------------------------------
def load_facilities(path: Path) -> FacilitiesFile:
    try:
        return FacilitiesFile.model_validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ImportFailed(f"cannot read the facilities of {path} (import them first with "
                           f"`citybot import childcare`): {exc}") from None


def prune_vacancies(path: Path, facilities: FacilitiesFile) -> tuple[str | None, list[str], int]:
    """Keep vacancies.yaml consistent with newly imported facilities: drop the facilities
    that are gone and the classes they no longer take (the content would not load
    otherwise). (the new text, None when nothing changes; what was dropped, as lines to
    print; how many facilities lose their places). Nothing is written here: the caller
    writes it together with facilities.yaml."""
    table = load_vacancies(path)
    if table is None:
        return None, [], 0
    known = facilities.by_id()
    kept: dict[str, dict[int, int]] = {}
    dropped: list[str] = []
    gone_facilities = 0
    for facility_id, classes in table.places.items():
        facility = known.get(facility_id)
        if facility is None:
            dropped.append(f"{facility_id}: no longer a facility")
            gone_facilities += 1
            continue
        kept[facility_id] = {age: n for age, n in classes.items() if age in facility.ages}
        gone = sorted(set(classes) - set(kept[facility_id]))
        if gone:
            dropped.append(f"{facility.name}: class(es) {gone} no longer taken")
    if not dropped:
        return None, [], 0
    if not kept:
        raise ImportFailed(f"{path.name} would keep no facility (none of its facilities is in the new file): "
                           f"move it away, import the facilities, then the vacancy table")
    return render_vacancies(table.as_of, kept, table.source), dropped, gone_facilities


FUTURE_DAYS = 62  # a table is published at most a month or two ahead of its date


def load_vacancies(path: Path) -> VacanciesFile | None:
    """The current table, if there is a readable one (a broken file is simply replaced)."""
    try:
        return VacanciesFile.model_validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError):
        return None


@dataclass
class Result:
    report: Report
    text: str
    summary: str
    pruned: list[str] = field(default_factory=list)   # vacancies.yaml lines dropped with the facilities


def _entries(path: Path | None, load, listed) -> list[tuple[str, str]]:
    """(id, name) of each entry of the current file, [] when there is none to compare with."""
    if path is None or not Path(path).is_file():
        return []
    try:
        return listed(load(path))
    except ImportFailed:
        return []


def facilities_from_file(src: Path, wards: "Divisions | list[tuple[str, list[str]]]", out: Path | None,
                         report: Report | None = None, *, current: Path | None = None,
                         limits: Limits = Limits()) -> Result:
    """Import a 子育て施設一覧 file; write facilities.yaml to `out` (None: a dry run), and
    with it the vacancies.yaml beside it, pruned of the facilities that are gone.
    `current` (default `out`) is the file the result is compared with.

    Raises ImportFailed (with the report as .conversion) when nothing usable came out,
    safety.Refused when the file was not read whole or too much would be removed (unless
    limits.force), csvfiles.CsvError when the file is too large."""
    report = report if report is not None else Report()
    current = Path(current or out) if (current or out) is not None else None
    facilities = import_facilities(read_source(Path(src), limits.max_bytes), Path(src).name, wards, report)
    skipped = len({p.line for p in report if "row skipped" in p.message})
    summary = f"{len(facilities)} facilities, {skipped} rows skipped, {len(report)} problems"
    try:
        text = render_facilities(facilities, Path(src).name)
    except ImportFailed as exc:
        exc.conversion = Result(report, "", summary)
        raise
    reasons = unreadable(report)
    before = _entries(current, load_facilities, lambda f: [(x.id, x.name) for x in f.facilities])
    reasons.append(shrinkage(current.name if current else "facilities.yaml", "facilities", before,
                             [f["id"] for f in facilities], limits.min_share))
    texts = {Path(out).name: text} if out is not None else {}
    pruned: list[str] = []
    vacancies = current.parent / "vacancies.yaml" if current is not None else None
    if vacancies is not None and vacancies.is_file():
        new = FacilitiesFile.model_validate(yaml.safe_load(text))
        try:
            vacancy_text, pruned, lost = prune_vacancies(vacancies, new)
        except ImportFailed as exc:
            exc.conversion = Result(report, "", summary)
            raise
        if lost and any(reasons):
            reasons.append(f"{vacancies.name} would lose the places of {lost} facilities")
        if vacancy_text is not None and out is not None:
            texts[vacancies.name] = vacancy_text
    check(reasons, limits, report, summary)
    if out is not None:
        write_together(texts, Path(out).parent)
    return Result(report, text, summary, pruned)


def vacancies_from_file(src: Path, facilities: list[FacilityLike], out: Path | None, *, as_of: date | None = None,
                        report: Report | None = None, previous: VacanciesFile | None = None, partial: bool = False,
                        force: bool = False, today: date | None = None, limits: Limits | None = None,
                        data: bytes | None = None) -> Result:
    """Import a vacancy table; write vacancies.yaml to `out` (None: a dry run).

    A table replaces the whole previous one, so it must list every facility (a facility
    left out would look full to residents, and its places coming back next month would
    look like an opening): refused unless `partial`, which keeps the previous places of
    the facilities it does not list. A table older than `previous` is refused unless
    `force` (residents would see last month's places), as is one not read whole (bad
    quoting, a class column missing) or keeping places for fewer than
    limits.min_share of the previous table's facilities (bot.importers.safety). `data`:
    the file's bytes when already read (else read here, within limits.max_bytes)."""
    limits = limits if limits is not None else Limits(force=force)
    force = force or limits.force
    report = report if report is not None else Report()
    if data is None:
        data = read_source(Path(src), limits.max_bytes)
    day, places = import_vacancies(data, Path(src).name, facilities, report, as_of=as_of)
    with_places = sum(1 for classes in places.values() if any(classes.values()))
    summary = (f"{len(places)} facilities ({with_places} with places), as of "
               f"{day.isoformat() if day else '?'}, {len(report)} problems")
    def refused(message: str) -> ImportFailed:
        return ImportFailed(message, Result(report, "", summary))

    try:
        _usable(day, places)  # no date, nothing usable: said first
    except ImportFailed as exc:
        raise refused(str(exc)) from None
    assert day is not None
    check(unreadable(report), limits, report, summary)   # before "not every facility": that would be why
    missing = [f for f in facilities if f.id not in places]
    if today is not None and day > today + timedelta(days=FUTURE_DAYS) and not force:
        raise refused(f"the table is as of {day.isoformat()}, more than {FUTURE_DAYS} days ahead (a typo?): "
                      "nothing written (--force takes it anyway)")
    if previous is not None and day < previous.as_of and not force:
        raise refused(f"the table is as of {day.isoformat()}, older than the current one "
                      f"({previous.as_of.isoformat()}): nothing written (--force replaces it anyway)")
    if missing and not partial:
        raise refused(f"{len(missing)} of {len(facilities)} facilities are not in the table "
                      f"({', '.join(f.name for f in missing[:3])}{' ...' if len(missing) > 3 else ''}): a table "
                      "lists every facility, 0 where full; --partial keeps their current places")
    if partial and previous is not None:
        kept = {f.id: dict(previous.places[f.id]) for f in missing if f.id in previous.places}
        places = {**kept, **places}
        if kept and previous.as_of < day:
            day = previous.as_of  # the table is only as new as its oldest figures
        summary += f"; {len(kept)} kept from the current table (as of {previous.as_of.isoformat()})"
    if previous is not None:
        names = {f.id: f.name for f in facilities}
        before = [(fid, names.get(fid, fid)) for fid in previous.places]
        check([shrinkage(Path(out).name if out else "vacancies.yaml", "facilities", before, places,
                         limits.min_share)], limits, report, summary)
    return _written(lambda: render_vacancies(day, places, Path(src).name), out, report, summary)


def _written(render: Callable[[], str], out: Path | None, report: Report, summary: str) -> Result:
    """The file's text (written to `out` unless a dry run); a result that does not
    validate carries the report and summary, so the command can print them."""
    try:
        text = render()
    except ImportFailed as exc:
        exc.conversion = Result(report, "", summary)
        raise
    if out is not None:
        write_file(text, out)
    return Result(report, text, summary)
