"""`citybot import shelters` and the shelter content: three layouts, encodings, odd rows,
the nearest sites, the written file and the sample content the bot ships."""

from __future__ import annotations

import random
from pathlib import Path
from types import SimpleNamespace
from typing import get_args

import pytest
import yaml
from click.testing import CliRunner
from pydantic import ValidationError

from bot.cli import main
from bot.content.store import Content
from bot.content.yamlfile import load_yaml
from bot.geo import distance_m
from bot.importers.csvfiles import Report, decode, name_id
from handlers.disaster.importer import (
    DistrictFinder,
    ImportFailed,
    capacity,
    flag,
    import_shelters,
    load_districts,
    render,
    summary,
)
from handlers.disaster.shelters import HAZARDS, HazardId, Shelter, SheltersFile, check_shelters, nearest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "shelters"
SAMPLE = DATA / "minato_standard.csv"
SHIPPED = REPO / "content" / "disaster" / "shelters.yaml"
DISTRICTS = [("kita", ["北区", "Kita Ward", "北", "kita"]), ("chuo", ["中央区", "Chuo Ward", "中央", "chuo"]),
             ("higashi", ["東区", "Higashi Ward", "東", "higashi"]), ("nishi", ["西区", "Nishi Ward", "西", "nishi"]),
             ("minami", ["南区", "Minami Ward", "南", "minami"]), ("minato", ["港区", "Minato Ward", "港", "minato"]),
             ("yamanote", ["山手区", "Yamanote Ward", "山手", "yamanote"])]


def read(name: str) -> tuple[list[dict], Report]:
    report = Report()
    return import_shelters((DATA / name).read_bytes(), name, DISTRICTS, report), report


def by_name(shelters: list[dict], name: str) -> dict:
    found = [s for s in shelters if s["name"] == name]
    assert len(found) == 1, f"{name}: {len(found)} found"
    return found[0]


def messages(report: Report, name: str, line: int) -> list[str]:
    return [p.message for p in report.about(name, line)]


# -- the standard layout -----------------------------------------------------------------------------
def test_standard_layout_reads_every_site_of_the_sample():
    shelters, report = read("minato_standard.csv")
    assert decode(SAMPLE.read_bytes())[1] == "utf-8-sig"
    assert len(shelters) == 120 and not report.problems
    assert shelters[0] == {
        "id": "E2799101001", "name": "梅ヶ丘小学校", "kana": "ウメガオカショウガッコウ",
        "name_en": "Umegaoka Elementary School", "address": "大阪府みなと市北区梅ヶ丘4丁目13-10", "district": "kita", "lat": 34.7412, "lon": 135.506309,
        "hazards": ["landslide", "earthquake", "fire"], "capacity": 1350, "also_shelter": True,
        "phone": "06-6363-8208", "note": "対象となる町会・自治会：梅ヶ丘第一町会"}
    # a quoted 備考 with a comma and a line break, then the 町会 list (`;`-separated) after it
    tenjin = by_name(shelters, "天神小学校")
    assert tenjin["note"] == "グラウンド, 体育館を使用\n夜間は南門から入ってください\n対象となる町会・自治会：天神第一町会"
    # capacity written without a thousands comma ("340 ") and with one ("2,600 ")
    assert by_name(shelters, "菅原地区センター")["capacity"] == 340 and tenjin["capacity"] == 2600
    assert by_name(shelters, "菅原地区センター")["url"].startswith("https://www.city.minato.example.jp/")
    # tall buildings by the sea: tsunami and storm surge, not earthquake
    assert by_name(shelters, "港湾合同庁舎")["hazards"] == ["flood", "storm_surge", "tsunami", "inland_flood"]
    assert {s["district"] for s in shelters} == {d for d, _ in DISTRICTS}


def test_cp932_file_gives_the_same_sites():
    utf8, _ = read("minato_standard.csv")
    sjis, report = read("minato_standard_sjis.csv")
    assert decode((DATA / "minato_standard_sjis.csv").read_bytes())[1] == "cp932"
    assert sjis == utf8 and not report.problems


def test_odd_values_and_bad_rows_by_line():
    name = "messy_standard.csv"
    shelters, report = read(name)
    honmachi = by_name(shelters, "本町小学校")   # line 2; its 備考 spans lines 2-3
    assert honmachi["hazards"] == ["flood", "earthquake", "fire", "inland_flood"]   # ◯ ○ 〇 1, and 0 for 火山現象
    assert honmachi["capacity"] == 50700 and honmachi["also_shelter"] is True        # "50,700 ", ○
    assert honmachi["phone"] == "06-6201-1111 内線201"
    assert honmachi["note"] == "体育館, 校舎3階を使用\n駐車場はありません\n対象となる町会・自治会：本町第一町会、本町第二町会"
    hall = by_name(shelters, "みなと市民会館, 大ホール")                                 # line 4
    assert hall["hazards"] == ["earthquake", "tsunami"] and "capacity" not in hall       # TRUE true FALSE 0; blank
    assert by_name(shelters, "北町公園")["hazards"] == ["earthquake", "fire"]            # 1, full-width １, ×
    assert by_name(shelters, "北町公園")["capacity"] == 1200                             # "1,200人"
    assert messages(report, name, 6) == ["座標なし小学校: no coordinates (緯度, 経度): row skipped"]
    assert messages(report, name, 7) == ["指定なし公園: no hazard designated: row skipped"]
    assert messages(report, name, 8) == []   # 緑区 is no ward of the city's: kept, district unknown, said once
    assert "district" not in by_name(shelters, "緑区中学校")
    assert messages(report, name, 9) == ["本町小学校（重複）: id 'E2799201101' is listed twice (line 2 kept): row skipped"]
    assert messages(report, name, 15) == ["no name (名称): row skipped"]
    # no ID and no NO column: an id from the name (counted once); an ID that cannot be an id: the same, said
    assert by_name(shelters, "ID空欄広場")["id"] == name_id("279901", "ID空欄広場") and not messages(report, name, 10)
    fureai = name_id("279901", "北ふれあい広場")
    assert by_name(shelters, "北ふれあい広場")["id"] == fureai and "'北-001'" in messages(report, name, 16)[0]
    assert fureai in messages(report, name, 16)[0]
    # kept, with a word: latitude and longitude the wrong way round, an unknown mark, a capacity in words
    port = by_name(shelters, "築港合同庁舎")
    assert (port["lat"], port["lon"]) == (34.658, 135.44) and "swapped" in messages(report, name, 11)[0]
    isoji = by_name(shelters, "磯路中学校")
    assert isoji["hazards"] == ["flood", "earthquake"] and "capacity" not in isoji
    assert messages(report, name, 12) == ["磯路中学校: 大規模な火事 '2' not understood: taken as not designated",
                                          "磯路中学校: capacity (想定収容人数) '約300' is not a number: left out"]
    # no ward in the address: the 町会 list names it; failing that a bare word of the district (山手)
    assert by_name(shelters, "錦地区センター")["district"] == "chuo"
    assert by_name(shelters, "山手町広場")["district"] == "yamanote"
    assert by_name(shelters, "森ノ宮公園")["note"] == '広域避難場所を兼ねる\n"森ノ宮口"から入ってください, 夜間照明あり'
    assert len(shelters) == 11 and summary(shelters, report) == "11 shelters (4 rows skipped)"
    assert {p.line for p in report} == {6, 7, 9, 11, 12, 15, 16, None}
    assert [p.message for p in report if p.line is None] == [
        "1 sites have neither ID nor NO: ids made from their names (the same on every import while the name stays)",
        "1 of 11 sites are in no 区 of settings.yaml (北区、中央区、東区、西区、南区、港区、山手区) by their address: "
        "kept, 区 unknown (they are still found by location)"]


# -- the older and the GSI layouts ---------------------------------------------------------------------
def test_older_layout_in_shift_jis():
    name = "minato_older.csv"
    shelters, report = read(name)
    assert decode((DATA / name).read_bytes())[1] == "cp932"
    assert [s["id"] for s in shelters] == ["no-1", "no-2", "no-5"]
    umegaoka = shelters[0]
    # 住所 without the city: put after 都道府県名 and 市区町村名, with the 方書
    assert umegaoka["address"] == "大阪府みなと市北区梅ヶ丘4丁目13-10 体育館" and umegaoka["district"] == "kita"
    assert umegaoka["hazards"] == ["landslide", "earthquake", "fire"] and umegaoka["also_shelter"] is True
    assert umegaoka["capacity"] == 1350 and umegaoka["kana"] == "ウメガオカショウガッコウ"
    assert messages(report, name, 4) == ["緯度不正中学校: coordinates (北緯34度, 135.4560) are not numbers: row skipped"]
    assert messages(report, name, 5) == ["九条公園（重複）: id 'no-2' is listed twice (line 3 kept): row skipped"]
    assert len(report) == 2


def test_gsi_download_and_the_nationwide_variant():
    shelters, report = read("279901_2.csv")
    assert [s["id"] for s in shelters] == ["E2799101001", "no-2", "E2799601003", "E2799501005"]   # 共通ID, else NO
    assert [str(p) for p in report] == ["279901_2.csv:6: 丘陵台公園: no hazard designated: row skipped"]
    port = by_name(shelters, "港湾合同庁舎")
    assert port["district"] == "minato" and port["note"] == "津波避難ビル, 4階以上\n外階段から入る"
    assert by_name(shelters, "梅ヶ丘小学校")["also_shelter"] is True    # 指定避難所との住所同一

    nationwide, report = read("nationwide_2.csv")
    assert not report.problems
    # 住所 without the ward: the ward and the address's start come from 都道府県名及び市町村名
    assert nationwide == shelters[:3]


# -- cells -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value, designated", [
    ("1", True), ("○", True), ("〇", True), ("◯", True), ("TRUE", True), ("true", True), ("１", True),
    (" ○ ", True), ("", False), ("0", False), ("FALSE", False), ("×", False), ("2", None), ("?", None)])
def test_hazard_marks(value, designated):
    assert flag(value) is designated


def test_capacity_text():
    assert capacity('50,700 ') == 50700 and capacity("1,200人") == 1200 and capacity("３００") == 300
    assert capacity("") is None and capacity("  ") is None
    with pytest.raises(ValueError):
        capacity("約300")


def test_districts_found_by_ward_name_first():
    finder = DistrictFinder.of(DISTRICTS)
    assert finder.find(["大阪府みなと市北区中央町1丁目"]) == "kita"        # the ward, not the town named 中央
    assert finder.find(["大阪府みなと市中央町1丁目"]) == "chuo"             # no ward anywhere: a bare word
    assert finder.find(["みなと市", "大阪府みなと市南町1丁目", "東区東町会"]) == "higashi"   # a ward in a later text wins
    assert finder.find(["大阪府みなと市北町1丁目"]) is None                 # one-character words are never bare
    assert finder.find(["ｷﾀ", "大阪府みなと市港区築港1-1"]) == "minato"


def test_districts_of_settings_yaml():
    districts = load_districts(REPO / "content" / "settings.yaml")
    assert districts[0][0] == "kita" and "北区" in districts[0][1] and "北" in districts[0][1]
    assert [d for d, _ in districts] == [d for d, _ in DISTRICTS]


# -- the model -----------------------------------------------------------------------------------------
def site(id_: str, lat: float = 34.7, lon: float = 135.5, hazards=("earthquake",), **extra) -> Shelter:
    return Shelter(id=id_, name=f"site {id_}", address="大阪府みなと市北区1-1", lat=lat, lon=lon,
                   hazards=list(hazards), district="kita", **extra)


def test_hazards_and_the_model():
    assert list(HAZARDS) == list(get_args(HazardId))
    assert HAZARDS["landslide"] == "崖崩れ、土石流及び地滑り" and HAZARDS["fire"] == "大規模な火事"
    assert site("E3820100602201", hazards=["fire", "flood", "fire"]).hazards == ["flood", "fire"]
    for bad in (dict(id_="北-1"), dict(id_="x" * 65), dict(id_="a", hazards=[]), dict(id_="a", hazards=["meteor"]),
                dict(id_="a", lat=10.0), dict(id_="a", capacity=-1)):
        with pytest.raises(ValidationError):
            site(**bad)
    with pytest.raises(ValidationError, match="listed twice"):
        SheltersFile(shelters=[site("a"), site("a")])
    with pytest.raises(ValidationError):
        SheltersFile(shelters=[])
    file = SheltersFile(shelters=[site("a"), site("b")])
    assert file.get("b").id == "b" and file.get("c") is None


def test_nearest_is_a_sorted_filter():
    rng = random.Random(7)
    shelters = [site(f"s{i:03d}", lat=34.65 + rng.random() * 0.1, lon=135.44 + rng.random() * 0.12,
                     hazards=rng.sample(list(HAZARDS), rng.randint(1, 4))) for i in range(200)]
    shelters += [site("tie-b", 34.70, 135.50), site("tie-a", 34.70, 135.50)]
    for _ in range(50):
        lat, lon = 34.65 + rng.random() * 0.1, 135.44 + rng.random() * 0.12
        hazard = rng.choice([None, *HAZARDS])
        open_ids = None if rng.random() < 0.5 else {s.id for s in rng.sample(shelters, 60)}
        limit = rng.choice([1, 5, 12])
        brute = sorted(((s, distance_m(lat, lon, s.lat, s.lon)) for s in shelters
                        if (hazard is None or hazard in s.hazards) and (open_ids is None or s.id in open_ids)),
                       key=lambda pair: (pair[1], pair[0].id))[:limit]
        assert nearest(shelters, lat, lon, hazard, open_ids, limit) == brute
    ties = nearest(shelters, 34.70, 135.50, "earthquake", {"tie-a", "tie-b"})
    assert [(s.id, d) for s, d in ties] == [("tie-a", 0.0), ("tie-b", 0.0)]
    assert nearest(shelters, 34.7, 135.5, open_ids=set()) == []
    assert len(nearest(shelters, 34.7, 135.5, limit=None)) == len(shelters)
    with pytest.raises(ValueError):
        nearest(shelters, 34.7, 135.5, hazard="meteor")


def test_check_shelters_wants_districts_of_settings(tmp_path):
    path = tmp_path / "shelters.yaml"
    path.write_text(render([{"id": "a", "name": "A公園", "address": "大阪府みなと市北区1", "district": "kita",
                             "lat": 34.7, "lon": 135.5, "hazards": ["fire"]},
                            {"id": "b", "name": "B公園", "address": "大阪府みなと市緑区1", "district": "midori",
                             "lat": 34.7, "lon": 135.5, "hazards": ["fire"]}], "test.csv"), encoding="utf-8")
    document = load_yaml(path, "disaster/shelters.yaml")
    settings = SimpleNamespace(districts=[SimpleNamespace(id=d) for d, _ in DISTRICTS])
    content = Content(root=tmp_path, version="1", documents={
        "disaster/shelters": SheltersFile.model_validate(document.data), "settings": settings})
    problems = list(check_shelters(content, {"disaster/shelters": document}))
    line = next(n for n, text in enumerate(path.read_text("utf-8").splitlines(), 1) if "midori" in text)
    assert [str(p) for p in problems] == [f"disaster/shelters.yaml:{line}: B公園: unknown district 'midori' "
                                          f"(a district of settings.yaml)"]


# -- writing ------------------------------------------------------------------------------------------
def test_render_checks_the_result():
    shelters, _ = read("279901_2.csv")
    text = render(shelters, "279901_2.csv")
    assert text.startswith("# 指定緊急避難場所") and "from 279901_2.csv." in text and "`citybot import shelters`" in text
    assert SheltersFile.model_validate(yaml.safe_load(text)).get("no-2").name == "桜台公園"
    with pytest.raises(ImportFailed, match="listed twice"):
        render(shelters + shelters[:1], "279901_2.csv")
    with pytest.raises(ImportFailed):
        render([], "279901_2.csv")


# -- the command ---------------------------------------------------------------------------------------
@pytest.fixture
def content_dir(tmp_path) -> Path:
    folder = tmp_path / "content"
    folder.mkdir()
    (folder / "settings.yaml").write_bytes((REPO / "content" / "settings.yaml").read_bytes())
    return folder


def citybot(content_dir: Path, *args: str):
    return CliRunner().invoke(main, ["import", "shelters", *args],
                              env={"CONTENT_DIR": str(content_dir), "CITYBOT_ENV": "test"})


def test_command_writes_into_the_content_folder_and_reports(content_dir):
    result = citybot(content_dir, str(DATA / "messy_standard.csv"))
    assert result.exit_code == 0, result.output
    out = content_dir / "disaster" / "shelters.yaml"
    assert result.stdout.strip() == f"11 shelters (4 rows skipped): written to {out}"
    assert result.stderr.splitlines()[2] == "messy_standard.csv:6: 座標なし小学校: no coordinates (緯度, 経度): row skipped"
    assert len(result.stderr.splitlines()) == 10
    assert len(SheltersFile.model_validate(yaml.safe_load(out.read_text("utf-8"))).shelters) == 11
    assert [p.name for p in out.parent.iterdir()] == ["shelters.yaml"]   # no temporary file left


def test_command_dry_run_and_out(content_dir, tmp_path):
    result = citybot(content_dir, str(DATA / "minato_older.csv"), "--dry-run")
    assert result.exit_code == 0 and result.stdout.strip() == "3 shelters (2 rows skipped): dry run, nothing written"
    assert not (content_dir / "disaster").exists()
    out = tmp_path / "elsewhere" / "sites.yaml"
    result = citybot(content_dir, str(DATA / "minato_older.csv"), "--out", str(out))
    assert result.exit_code == 0 and out.is_file() and not (content_dir / "disaster").exists()


def test_command_fails_when_nothing_usable_and_keeps_the_old_file(content_dir, tmp_path):
    out = tmp_path / "shelters.yaml"
    out.write_text("old\n", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("NO,施設・場所名,住所,地震,緯度,経度\n1,どこか公園,大阪府みなと市緑区1,1,,135.5\n", encoding="utf-8")
    result = citybot(content_dir, str(bad), "--out", str(out))
    assert result.exit_code == 1
    assert "bad.csv:2: どこか公園: no coordinates (緯度, 経度): row skipped" in result.stderr
    assert result.stdout.strip() == "0 shelters (1 row skipped): nothing written"
    assert out.read_text("utf-8") == "old\n"


# -- the sample content the bot ships ---------------------------------------------------------------------
def test_shipped_sample_is_the_import_of_minato_standard_csv(tmp_path):
    out = tmp_path / "shelters.yaml"
    result = citybot(REPO / "content", str(SAMPLE), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("120 shelters (0 rows skipped)") and not result.stderr
    assert out.read_text("utf-8") == SHIPPED.read_text("utf-8"), \
        "content/disaster/shelters.yaml drifted: run `citybot import shelters tests/data/shelters/minato_standard.csv`"


def test_shipped_sample_validates_and_names_known_districts():
    shelters = SheltersFile.model_validate(yaml.safe_load(SHIPPED.read_text("utf-8"))).shelters
    districts = {d["id"] for d in yaml.safe_load((REPO / "content" / "settings.yaml").read_text("utf-8"))["districts"]}
    assert len(shelters) == 120 and {s.district for s in shelters} == districts
    # tsunami sites are by the sea; the hills' sites on slopes are not for landslides
    assert {s.district for s in shelters if "tsunami" in s.hazards} == {"minato"}
    assert all("landslide" not in s.hazards for s in shelters if "斜面地" in s.note)
    assert all(s.hazards == ["earthquake", "fire"] for s in shelters if s.name.endswith("公園"))
