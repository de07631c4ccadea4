"""A 子育て施設一覧 (the municipal standard layout, 53 or 28 columns) -> facilities.yaml entries."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot.importers.csvfiles import CsvError, CsvTable, Report, clean, name_id, read_csv
from bot.importers.divisions import Divisions, unknown_note

from ..places import AGE_CLASSES, Facility
from .parsing import DEFAULT_AGES, ImportFailed, _coordinate, _key, classify, first_error, nfkc, parse_ages

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
    """The nurseries of a 子育て施設一覧 file, as dicts valid for places.Facility, in
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
        return skip(first_error(exc))
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
