"""`citybot import shelters`: a city's 指定緊急避難場所一覧 -> content/disaster/shelters.yaml.

Cities publish their designated emergency evacuation sites in one of three layouts
(see shelters.py for why the hazards matter), all read here by header name:

    municipal standard (自治体標準オープンデータセット, 39 columns)
        ID, 名称, 名称_カナ, 所在地_連結表記 (or 所在地_都道府県 + _市区町村 + _町字 + _番地以下),
        緯度, 経度, 電話番号, 災害種別_洪水 … 災害種別_火山現象, 指定避難所との重複, 想定収容人数,
        対象となる町会・自治会, URL, 備考
    older recommended layout (before 2022, 26 columns)
        NO, 名称, 名称_カナ, 住所, 方書, 緯度, 経度, …, 市区町村名, 災害種別_洪水 …
    GSI download (国土地理院, `<code>_2.csv`, 16 columns; the nationwide file adds 都道府県名及び市町村名)
        NO, 共通ID, 施設・場所名, 住所, 洪水 … 火山現象, 指定避難所との住所同一, 緯度, 経度, 備考

Cells, as real files write them:

    hazards, 指定避難所との重複    1 ○ 〇 ◯ ◎ TRUE true = designated; blank 0 FALSE × - = not
                                  (anything else is reported and taken as not designated)
    想定収容人数                    "50,700 " -> 50700; blank -> none; anything else reported, left out
    対象となる町会・自治会          `;`-separated; kept at the end of the site's note
                                  ("対象となる町会・自治会：A、B") because residents look for their own
    ID / 共通ID                    the site's id; when blank, NO makes one (`no-12`), silently; without
                                  NO either, one is made from the name (`382019-1a2b3c4d5e`), said once

District: the division (ward or district of settings.yaml) a site is in is looked up in
the address columns (所在地_市区町村, 市区町村名, 都道府県名及び市町村名, 所在地_町字, then the
address itself), failing that in 対象となる町会・自治会 (bot.importers.divisions). Each
district is looked for as a ward name (its Japanese name, its words ending in 区, its
other words + 区: 北 -> 北区) or one of its towns first, the earliest in the text winning
(みなと市北区中央町 is in 北区); only when none is anywhere, as its bare words of two
characters or more (中央 in みなと市中央町); then by the nearest centre when the city gives
that rule. One-character words (北) are never looked for bare: they are in too many town
names. A site in no division is kept with its district unknown (counted once in the
report): nearest sites are found by location. 名称_カナ and 名称_英字 are kept for answers
in English and やさしい日本語 (bot.readable).

A row without a name, usable coordinates, a designated hazard or an address is reported
with its line number and skipped, as is a second row with an id already met; the import
goes on. Nothing is written unless the result validates
against SheltersFile, nor (without --force) when the file was not read whole (bad
quoting, a hazard or other needed column missing) or the result would keep fewer sites
than IMPORT_MIN_SHARE of the current file's (bot.importers.safety); then it is written
to a temporary file renamed over the old one.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import yaml
from pydantic import ValidationError

from bot.importers.csvfiles import CsvTable, Report, Row, clean, clean_text, name_id, read_csv
from bot.importers.divisions import Divisions, unknown_note
from bot.importers.safety import Limits, check, shrinkage, unreadable
from bot.importers.yamlout import ContentDumper, write_file

from .shelters import HAZARDS, Shelter, SheltersFile

SKIPPED = "row skipped"   # every message about a row left out ends so (the summary counts them)

# header aliases, compared after NFKC and lower-casing (csvfiles.normalize_header); earlier wins
ID = ("ID", "共通ID")
NO = ("NO", "No.", "番号")
CODE = ("全国地方公共団体コード", "市区町村コード")
NAME = ("名称", "施設・場所名", "施設名", "避難場所名")
KANA = ("名称_カナ", "名称カナ", "フリガナ", "ふりがな")
NAME_EN = ("名称_英字", "名称英字", "名称_英語", "英語名称")
TOWN = ("所在地_町字",)
ADDRESS = ("所在地_連結表記", "住所", "所在地")
PREFECTURE = ("所在地_都道府県", "都道府県名", "都道府県")
ADDRESS_PARTS = (PREFECTURE, ("所在地_市区町村", "市区町村名"), ("所在地_町字",),
                 ("所在地_番地以下",))
BUILDING = ("建物名等(方書)", "建物名等（方書）", "方書")
WARD = ("所在地_市区町村", "市区町村名", "都道府県名及び市町村名")   # looked in before the address
LAT = ("緯度", "latitude", "lat")
LON = ("経度", "longitude", "lon", "lng")
PHONE = ("電話番号", "電話")
EXTENSION = ("内線番号",)
ALSO_SHELTER = ("指定避難所との重複", "指定避難所との住所同一", "指定避難所との相互関係")
CAPACITY = ("想定収容人数", "収容人数", "収容可能人数")
COMMUNITIES = ("対象となる町会・自治会", "対象となる町内会・自治会", "対象町会・自治会", "対象地区")
URL = ("URL", "ホームページ")
NOTE = ("備考",)
_HAZARD_SPELLINGS = {"landslide": ("崖崩れ、土石流及び地滑り", "崖崩れ・土石流及び地滑り", "崖崩れ,土石流及び地滑り",
                                   "崖崩れ、土石流及び地すべり", "がけ崩れ、土石流及び地滑り", "土砂災害")}
HAZARD_COLUMNS = {hazard: tuple(prefix + spelling for spelling in _HAZARD_SPELLINGS.get(hazard, (ja,))
                                for prefix in ("災害種別_", ""))
                  for hazard, ja in HAZARDS.items()}

YES = frozenset({"1", "○", "〇", "◯", "◎", "●", "true", "yes", "y", "有", "あり", "指定"})
NO_VALUES = frozenset({"", "0", "false", "no", "n", "×", "✕", "x", "-", "ー", "無", "なし"})
MUNICIPALITY = re.compile(r"^[^0-9]*[都道府県市区郡]")   # before the first digit: more than a town name
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
JAPAN_LAT, JAPAN_LON = (20.0, 46.0), (122.0, 154.0)   # as the Shelter model checks


class ImportFailed(Exception):
    """The converted sites do not validate (or there are none): nothing written."""


def nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip()


# -- columns ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Columns:
    """Where each field is in this file (None: not there)."""

    id: int | None
    no: int | None
    code: int | None
    name: int | None
    kana: int | None
    name_en: int | None
    town: int | None
    address: int | None
    parts: tuple[int, ...]
    prefecture: int | None
    building: int | None
    wards: tuple[int, ...]
    lat: int | None
    lon: int | None
    phone: int | None
    extension: int | None
    hazards: dict[str, int]
    also_shelter: int | None
    capacity: int | None
    communities: int | None
    url: int | None
    note: int | None

    @classmethod
    def of(cls, table: CsvTable) -> "Columns":
        parts = tuple(i for aliases in ADDRESS_PARTS if (i := table.column(*aliases)) is not None)
        hazards = {h: i for h, aliases in HAZARD_COLUMNS.items() if (i := table.column(*aliases)) is not None}
        return cls(id=table.column(*ID), no=table.column(*NO), code=table.column(*CODE),
                   name=table.require("name", *NAME), kana=table.column(*KANA), name_en=table.column(*NAME_EN),
                   town=table.column(*TOWN), address=table.column(*ADDRESS), parts=parts,
                   prefecture=table.column(*PREFECTURE),
                   building=table.column(*BUILDING),
                   wards=tuple(i for alias in WARD if (i := table.column(alias)) is not None),
                   lat=table.require("latitude", *LAT), lon=table.require("longitude", *LON),
                   phone=table.column(*PHONE), extension=table.column(*EXTENSION), hazards=hazards,
                   also_shelter=table.column(*ALSO_SHELTER), capacity=table.column(*CAPACITY),
                   communities=table.column(*COMMUNITIES), url=table.column(*URL), note=table.column(*NOTE))

    def usable(self, table: CsvTable) -> bool:
        """Whether rows can be read at all; what is missing is reported at the header line."""
        if self.address is None and not self.parts:
            table.report.add(table.name, table.header_line,
                             f"no address column (looked for a header named {' or '.join(ADDRESS)})", fatal=True)
        if not self.hazards:
            table.report.add(table.name, table.header_line,
                             "no hazard columns (looked for 災害種別_洪水 … 災害種別_火山現象 or 洪水 … 火山現象)",
                             fatal=True)
        elif len(self.hazards) < len(HAZARDS):   # a renamed column would take every site off that hazard
            missing = "、".join(HAZARDS[h] for h in HAZARDS if h not in self.hazards)
            table.report.add(table.name, table.header_line,
                             f"no column for {missing}: no site is taken as designated for it", fatal=True)
        return None not in (self.name, self.lat, self.lon) and bool(self.hazards) and \
            (self.address is not None or bool(self.parts))


# -- cells --------------------------------------------------------------------------------------
def flag(value: str) -> bool | None:
    """A hazard or 指定避難所との重複 cell: True, False, or None when not understood."""
    text = nfkc(value).lower()
    if text in YES:
        return True
    if text in NO_VALUES:
        return False
    return None


def capacity(value: str) -> int | None:
    """想定収容人数 such as "50,700 " or "1,200人"; None when blank. ValueError when not a number."""
    text = re.sub(r"[,\s]", "", nfkc(value)).removesuffix("人")
    if not text:
        return None
    if not text.isdigit():
        raise ValueError(f"capacity (想定収容人数) {value.strip()!r} is not a number: left out")
    return int(text)


def coordinates(lat_text: str, lon_text: str) -> tuple[float, float, str | None]:
    """(lat, lon, note): ValueError when they cannot be used. A pair in Japan only the
    other way round is swapped, with a note."""
    lat_text, lon_text = nfkc(lat_text), nfkc(lon_text)
    if not lat_text or not lon_text:
        raise ValueError("no coordinates (緯度, 経度)")
    try:
        lat, lon = float(lat_text), float(lon_text)
    except ValueError:
        raise ValueError(f"coordinates ({lat_text}, {lon_text}) are not numbers") from None
    if _in_japan(lat, lon):
        return lat, lon, None
    if _in_japan(lon, lat):
        return lon, lat, f"緯度 {lat_text} and 経度 {lon_text} are the wrong way round: swapped"
    raise ValueError(f"coordinates ({lat_text}, {lon_text}) are not in Japan")


def _in_japan(lat: float, lon: float) -> bool:
    return JAPAN_LAT[0] <= lat <= JAPAN_LAT[1] and JAPAN_LON[0] <= lon <= JAPAN_LON[1]


# -- districts ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class DistrictFinder:
    """Finds the district a site is in from texts naming it (bot.importers.divisions does
    the finding; this is its older, texts-only face)."""

    divisions: Divisions

    @classmethod
    def of(cls, districts: "Divisions | Iterable[tuple[str, list[str]]]") -> "DistrictFinder":
        return cls(Divisions.of(districts if isinstance(districts, Divisions) else list(districts)))

    def find(self, texts: Iterable[str]) -> str | None:
        """The district of the first text naming a ward (the earliest name in it); failing
        that, of the first naming a bare word."""
        return self.divisions.place(more=[t for t in texts if t.strip()])

    def names(self) -> str:
        return self.divisions.names()


def load_districts(settings_path: Path) -> Divisions:
    """The divisions of content/settings.yaml (none for a city without them); iterating
    gives (district id, [its names and words])."""
    return Divisions.load(settings_path)


# -- rows -----------------------------------------------------------------------------------------
def import_shelters(data: bytes, name: str, districts: "Divisions | list[tuple[str, list[str]]]",
                   report: Report) -> list[dict]:
    """The sites of one CSV file as dicts ready for shelters.yaml, in file order. Problems
    go to `report` as name:line (sites kept without a district counted once); raises
    csvfiles.CsvError when the file cannot be read."""
    table = read_csv(data, name, report)
    columns = Columns.of(table)
    if not columns.usable(table):
        if table.rows:
            report.add(name, None, f"{len(table.rows)} rows skipped")
        return []
    divisions = Divisions.of(districts)
    names = [_name_key(row.get(columns.name)) for row in table.rows]
    twice = {n for n in names if names.count(n) > 1}
    shelters: list[dict] = []
    seen: dict[str, int] = {}
    made: list[int] = []
    for row in table.rows:
        shelter = _shelter(row, table, columns, divisions, twice, made)
        if shelter is None:
            continue
        if shelter["id"] in seen:
            report.add(name, row.line, f"{shelter['name']}: id {shelter['id']!r} is listed twice "
                                       f"(line {seen[shelter['id']]} kept): {SKIPPED}")
            continue
        seen[shelter["id"]] = row.line
        shelters.append(shelter)
    if made:
        report.add(name, None, f"{len(made)} sites have neither ID nor NO: ids made from their names (the same on "
                               f"every import while the name stays)")
    note = unknown_note(divisions, sum(1 for s in shelters if not s.get("district")), len(shelters), "sites")
    if note:
        report.add(name, None, note)
    return shelters


def _name_key(name: str) -> str:
    return re.sub(r"\s+", "", nfkc(name))


def _shelter(row: Row, table: CsvTable, columns: Columns, divisions: Divisions, twice: set[str],
             made: list[int]) -> dict | None:
    """One row as a site's dict, or None (reported) when it cannot be used."""
    def problem(message: str) -> None:
        table.report.add(table.name, row.line, message)

    site = clean(row.get(columns.name))
    address = _address(row, columns)
    wrong: list[str] = []
    if not site:
        wrong.append("no name (名称)")
    lat = lon = None
    try:
        lat, lon, swapped = coordinates(row.get(columns.lat), row.get(columns.lon))
    except ValueError as exc:
        wrong.append(str(exc))
        swapped = None
    hazards = _hazards(row, columns, problem)
    if not hazards:
        wrong.append("no hazard designated")
    if not address:
        wrong.append("no address")
    communities = [c for c in (clean(part) for part in nfkc(row.get(columns.communities)).split(";")) if c]
    if wrong:
        problem(f"{site + ': ' if site else ''}{'; '.join(wrong)}: {SKIPPED}")
        return None
    if swapped:
        problem(f"{site}: {swapped}")
    district = divisions.place(municipality=[row.get(i) for i in columns.wards], town=row.get(columns.town),
                               address=address, more=communities, lat=lat, lon=lon)
    shelter: dict[str, Any] = {"id": _id(row, columns, problem, site, address if _name_key(site) in twice else "",
                                         made), "name": site}
    if kana := nfkc(clean(row.get(columns.kana))):
        shelter["kana"] = kana
    if name_en := clean(row.get(columns.name_en)):
        shelter["name_en"] = name_en
    shelter["address"] = address
    if district:
        shelter["district"] = district
    shelter.update(lat=lat, lon=lon, hazards=hazards)
    try:
        if (people := capacity(row.get(columns.capacity))) is not None:
            shelter["capacity"] = people
    except ValueError as exc:
        problem(f"{site}: {exc}")
    also = flag(row.get(columns.also_shelter))
    if also is None:
        problem(f"{site}: 指定避難所との重複 {row.get(columns.also_shelter).strip()!r} not understood: "
                f"taken as not a 指定避難所")
    shelter["also_shelter"] = bool(also)
    if phone := clean(row.get(columns.phone)):
        extension = clean(row.get(columns.extension))
        shelter["phone"] = f"{phone} 内線{extension}" if extension else phone
    if url := clean(row.get(columns.url)):
        shelter["url"] = url
    notes = [clean_text(row.get(columns.note))] + ([f"対象となる町会・自治会：{'、'.join(communities)}"]
                                                    if communities else [])
    if note := "\n".join(n for n in notes if n):
        shelter["note"] = note
    try:
        Shelter.model_validate(shelter)
    except ValidationError as exc:
        error = exc.errors()[0]
        problem(f"{site}: {'.'.join(str(p) for p in error['loc'])}: {error['msg']}: {SKIPPED}")
        return None
    return shelter


def _address(row: Row, columns: Columns) -> str:
    """所在地_連結表記 or 住所; failing that the 所在地_* parts joined; with the building (方書).
    An address naming no prefecture, city, ward or county (梅ヶ丘4丁目13-10, as the older and the
    nationwide layouts often write it) is put after the municipality column (みなと市北区) and
    the prefecture (大阪府)."""
    address = clean(row.get(columns.address)) or "".join(clean(row.get(i)) for i in columns.parts)
    if address and not MUNICIPALITY.match(nfkc(address)):
        place = next((text for text in (clean(row.get(i)) for i in columns.wards) if text), "")
        prefecture = clean(row.get(columns.prefecture))
        if place:
            address = ("" if place.startswith(prefecture) else prefecture) + place + address
    building = clean(row.get(columns.building))
    if address and building and building not in address:
        address = f"{address} {building}"
    return address


def _hazards(row: Row, columns: Columns, problem) -> list[str]:
    hazards = []
    for hazard, index in columns.hazards.items():
        designated = flag(row.get(index))
        if designated is None:
            problem(f"{clean(row.get(columns.name))}: {HAZARDS[hazard]} {row.get(index).strip()!r} not understood: "
                    f"taken as not designated")
        elif designated:
            hazards.append(hazard)
    return hazards


def _id(row: Row, columns: Columns, problem, site: str, salt: str, made: list[int]) -> str:
    """ID (or 共通ID); when blank `no-<NO>`; when that is blank too, one made from the name
    (csvfiles.name_id: it stays the same when rows move, unlike the line; counted once in
    the report). An ID that cannot be an id is reported and replaced the same way."""
    given = nfkc(row.get(columns.id))
    number = nfkc(row.get(columns.no))
    if given and ID_PATTERN.fullmatch(given):
        return given
    if number and ID_PATTERN.fullmatch(f"no-{number}"):
        fallback = f"no-{number}"
    else:
        fallback = name_id(nfkc(row.get(columns.code)), site, salt)
        if not given:
            made.append(row.line)
    if given:
        problem(f"ID {given!r} cannot be an id (letters, digits, - and _, at most 64): {fallback!r} used")
    return fallback


def summary(shelters: list[dict], report: Report) -> str:
    """"118 shelters (3 rows skipped)"."""
    skipped = len({(p.file, p.line) for p in report
                   if p.message.endswith(SKIPPED) or "could not be read" in p.message})
    sites = f"{len(shelters)} shelter{'' if len(shelters) == 1 else 's'}"
    return f"{sites} ({skipped} row{'' if skipped == 1 else 's'} skipped)"


# -- writing --------------------------------------------------------------------------------------
def render(shelters: list[dict], source: str) -> str:
    """The text of shelters.yaml, checked by loading it back through SheltersFile.
    `source` is named in the header comment: give the file's name, not a path, so that
    re-importing the same file writes the same text."""
    legend = ", ".join(f"{hazard} {ja}" for hazard, ja in HAZARDS.items())
    header = ["# 指定緊急避難場所 (designated emergency evacuation sites), written by `citybot import shelters`",
              f"# from {source}. Re-importing replaces this file; see the import's output for the rows it left out.",
              "# A site is only safe for the hazards it is designated for:",
              f"#   {legend}",
              "# district: a division (ward or district) of settings.yaml, left out when unknown; also_shelter: also a",
              "# 指定避難所 (a place to stay); kana, name_en: 名称_カナ, 名称_英字."]
    body = yaml.dump({"shelters": shelters}, Dumper=ContentDumper, allow_unicode=True, sort_keys=False,
                     default_flow_style=None, width=10_000, indent=2)
    text = "\n".join(header) + "\n" + body
    try:
        SheltersFile.model_validate(yaml.safe_load(text))
    except (ValidationError, yaml.YAMLError) as exc:
        raise ImportFailed(f"the converted sites do not validate: {exc}") from None
    return text


def refuse_losses(shelters: list[dict], report: Report, current: Path, limits: Limits) -> None:
    """Raise safety.Refused when the source was not read whole or `current` (the file to
    be replaced) would lose too many sites; unless limits.force."""
    before: list[tuple[str, str]] = []
    if Path(current).is_file():
        try:
            data = yaml.safe_load(Path(current).read_text(encoding="utf-8")) or {}
            before = [(str(s["id"]), str(s.get("name", s["id"]))) for s in data.get("shelters") or []]
        except (OSError, yaml.YAMLError, AttributeError, KeyError, TypeError):
            before = []   # an unreadable current file is simply replaced
    check(unreadable(report) + [shrinkage(Path(current).name, "shelters", before, [s["id"] for s in shelters],
                                          limits.min_share)], limits, report, summary(shelters, report))


def write(text: str, path: Path) -> None:
    """Written whole or not at all, readable by every process."""
    write_file(text, path)
