"""Any real city on day one: the importers on files cities without wards published
(tests/data/*/SOURCE.md), with the settings of a city that has no divisions, and of one
with districts of towns (Ichikawa, tests/wardless_city.py).

Nurseries are counted among the nursery-type rows (種別 a nursery taking applications:
kindergartens, 児童館, 放課後児童クラブ and 認可外 are skipped as before and not counted);
every row of those not imported, and every site not imported, is in the report with its
line and why."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from bot.importers.csvfiles import Report, decode
from bot.importers.divisions import Division, Divisions
from bot.readable import has_japanese, name_in
from handlers.childcare import FacilitiesFile
from handlers.childcare.importer import classify, import_facilities
from handlers.disaster.importer import SKIPPED, import_shelters
from handlers.disaster.shelters import SheltersFile
from tests.wardless_city import DISTRICTS

DATA = Path(__file__).resolve().parents[1] / "data"
NO_DIVISIONS = Divisions.build([], kind="none")
ICHIKAWA = Divisions.build([Division(d["id"], (d["name"]["ja"], *d["words"]), tuple(d["towns"]), tuple(d["centre"]))
                            for d in DISTRICTS], kind="districts", word="地区", cities=["市川市"])

NURSERY_FILES = {   # file: (nursery-type rows, imported, {line: why the rest is not})
    "kawaguchi/112038_preschool.csv": (204, 203, {236: "汽車ぽっぽ保育園きぞろ: no coordinates (緯度 '', 経度 ''): row skipped"}),
    "ichikawa/122033_105_preschool.csv": (160, 160, {}),
}
SHELTER_FILES = {   # file: (rows, imported, {line: why the rest is not})
    "matsuyama/382019_evacuation_space.csv": (390, 390, {}),
    "ichikawa/122033_103_evacuation_space.csv": (121, 121, {}),
}


def rows_of(path: Path) -> list[dict[str, str]]:
    text, _ = decode(path.read_bytes())
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


@pytest.mark.parametrize("name", NURSERY_FILES)
def test_nurseries_of_a_city_without_wards(name):
    expected_rows, expected_kept, rest = NURSERY_FILES[name]
    path = DATA / name
    nursery_rows = sum(1 for row in rows_of(path) if classify(row["種別"]))
    report = Report()
    facilities = import_facilities(path.read_bytes(), path.name, NO_DIVISIONS, report)
    assert (nursery_rows, len(facilities)) == (expected_rows, expected_kept)
    assert len(facilities) >= 0.95 * nursery_rows
    skipped = {p.line: p.message for p in report if p.message.endswith("row skipped")
               and "is not a nursery taking applications" not in p.message}
    assert skipped == rest   # the rest, each with its line and reason
    assert all(p.line for p in report if p.message.endswith("row skipped"))
    FacilitiesFile.model_validate({"facilities": facilities})
    assert all("ward" not in f for f in facilities) and not report.fatal()


@pytest.mark.parametrize("name", SHELTER_FILES)
def test_shelters_of_a_city_without_wards(name):
    expected_rows, expected_kept, rest = SHELTER_FILES[name]
    path = DATA / name
    report = Report()
    shelters = import_shelters(path.read_bytes(), path.name, NO_DIVISIONS, report)
    assert (len(rows_of(path)), len(shelters)) == (expected_rows, expected_kept)
    assert len(shelters) >= 0.98 * expected_rows
    assert {p.line: p.message for p in report if p.message.endswith(SKIPPED)} == rest
    SheltersFile.model_validate({"shelters": shelters})
    assert all("district" not in s for s in shelters) and not report.fatal()


def test_ichikawa_by_districts_of_towns_places_every_nursery_and_site():
    report = Report()
    facilities = import_facilities((DATA / "ichikawa/122033_105_preschool.csv").read_bytes(), "c.csv", ICHIKAWA,
                                   report)
    shelters = import_shelters((DATA / "ichikawa/122033_103_evacuation_space.csv").read_bytes(), "s.csv", ICHIKAWA,
                               report)
    assert {f["ward"] for f in facilities} == {s["district"] for s in shelters} == {d["id"] for d in DISTRICTS}
    by_name = {s["name"]: s["district"] for s in shelters}
    assert by_name["行徳小学校"] == "gyotoku" and by_name["曽谷小学校"] == "hokubu"   # by their 町字
    assert not [p for p in report if "no 地区" in p.message]


def test_without_any_division_found_the_rows_are_kept_and_counted_once():
    nowhere = Divisions.build([Division("x", ("どこか地区",), ("どこか町",))], kind="districts", word="地区")
    report = Report()
    shelters = import_shelters((DATA / "matsuyama/382019_evacuation_space.csv").read_bytes(), "m.csv", nowhere, report)
    assert len(shelters) == 390
    assert [p.message for p in report] == [
        "390 of 390 sites are in no 地区 of settings.yaml (どこか地区) by their address: kept, 地区 unknown "
        "(they are still found by location)"]


def test_ids_made_from_names_stay_the_same_and_are_unique():
    path = DATA / "ichikawa/122033_105_preschool.csv"
    first = [f["id"] for f in import_facilities(path.read_bytes(), path.name, NO_DIVISIONS, Report())]
    again = [f["id"] for f in import_facilities(path.read_bytes(), path.name, NO_DIVISIONS, Report())]
    assert first == again and len(set(first)) == len(first) and all(i.startswith("122033-") for i in first)


@pytest.mark.parametrize("name", [*NURSERY_FILES, *SHELTER_FILES])
def test_every_name_reads_in_english_and_easy_japanese(name):
    path = DATA / name
    importer = import_facilities if name in NURSERY_FILES else import_shelters
    for place in importer(path.read_bytes(), path.name, NO_DIVISIONS, Report()):
        english = name_in("en", place["name"], place.get("kana", ""), place.get("name_en", ""))
        assert english and not has_japanese(english), place["name"]
        assert name_in("easy_ja", place["name"], place.get("kana", "")).startswith(place["name"])
