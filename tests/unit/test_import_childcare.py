"""`citybot import childcare|vacancies`: the standard 子育て施設一覧, vacancy tables, the sample content."""

from __future__ import annotations

import csv
import io
import sys
import types
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import click
import pytest
import yaml
from click.testing import CliRunner

from bot.config import Config
from bot.geo import distance_m
from bot.importers.csvfiles import Report, name_id
from handlers.childcare import FacilitiesFile, VacanciesFile
from handlers.childcare.commands import register_import_commands
from handlers.childcare.importer import (
    ImportFailed,
    classify,
    import_facilities,
    import_vacancies,
    load_wards,
    parse_ages,
    parse_as_of,
    parse_places,
    render_facilities,
    render_vacancies,
)

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "childcare"
CONTENT = REPO / "content"
WARDS = load_wards(CONTENT / "settings.yaml")

STANDARD = ("全国地方公共団体コード,ID,地方公共団体名,名称,名称_カナ,名称_英字,種別,所在地_全国地方公共団体コード,町字ID,"
            "所在地_連結表記,所在地_都道府県,所在地_市区町村,所在地_町字,所在地_番地以下,建物名等(方書),緯度,経度,高度の種別,"
            "高度の値,アクセス方法,駐車場情報,電話番号,内線番号,FAX番号,連絡先メールアドレス,連絡先FormURL,"
            "連絡先備考（その他、SNSなど）,郵便番号,法人番号,団体名,認可等年月日,収容定員,受入年齢,利用可能曜日,開始時間,"
            "終了時間,利用可能日時特記事項,一時預かりの有無,子供預かり料金種別,子供預かり料金,子供預かり料金備考,"
            "子供預かり開所時間,子供預かり閉所時間,病児保育の有無,授乳室,おむつ替えコーナー,飲食可否,ベビーカー貸出,"
            "ベビーカー利用,URL,画像,画像_ライセンス,備考").split(",")
OLD = ("都道府県コード又は市区町村コード,NO,都道府県名,市区町村名,名称,名称_カナ,名称_英字,種別,住所,方書,緯度,経度,"
       "電話番号,内線番号,法人番号,団体名,許可等年月日,収容定員,受入年齢,利用可能曜日,開始時間,終了時間,"
       "利用可能日時特記事項,一時預かりの有無,URL,備考,画像,画像_ライセンス").split(",")


def standard_row(fid: str, name: str, kind: str, ward: str, town: str, lat: str = "34.7", lon: str = "135.5",
                 ages: str = "0歳から5歳", **more: str) -> dict[str, str]:
    row = {"全国地方公共団体コード": "271009", "ID": fid, "地方公共団体名": "みなと市", "名称": name, "種別": kind,
           "所在地_連結表記": f"大阪府みなと市{ward}{town}", "所在地_都道府県": "大阪府",
           "所在地_市区町村": f"みなと市{ward}" if ward else "みなと市", "所在地_町字": town.split("1")[0],
           "緯度": lat, "経度": lon, "受入年齢": ages, "利用可能曜日": "月火水木金土", "開始時間": "7:00",
           "終了時間": "19:00"}
    row.update(more)
    return row


# Line numbers: row 1 spans lines 2-3 (a quoted line break), so the next row is on line 4.
STANDARD_ROWS = [
    standard_row("271009001", "あおば保育園", "認可私立保育所", "北区", "青葉町1-2-3", "34.735", "135.5",
                 名称_カナ="アオバホイクエン", 電話番号="06-6123-4567", 収容定員="120",
                 利用可能日時特記事項="日曜日, 祝日は休み\n年末年始（12月29日～1月3日）も休み",
                 URL="https://aoba.example.jp/"),                                                        # 2-3
    standard_row("271009002", "さくら こども園", "認定こども園（幼保連携型）", "中央区", "栄町2-3-4", "３４．６９５",
                 "135.501", "産休明け～５歳", 名称_カナ="サクラ コドモエン", **{"建物名等(方書)": "さくらビル2階"},
                 電話番号="(06)6234-5678", 収容定員="１２０人", 開始時間="７：００", 終了時間="18:30"),        # 4
    standard_row("271009003", "北児童館", "児童館", "北区", "天神町1-1", ages="18歳未満"),                    # 5
    standard_row("271009004", "中央放課後児童クラブ", "放課後児童クラブ", "中央区", "本町1-1",
                 ages="６歳～１２歳（小学校１年生～６年生）"),                                            # 6
    standard_row("271009005", "東雲幼稚園", "私立幼稚園", "東区", "東雲町1-1", ages="満3歳以上"),           # 7
    standard_row("271009006", "ひまわり保育室", "小規模保育事業（A型）", "北区", "松ケ枝町1-1", "", "",
                 "0歳～2歳"),                                                                           # 8
    standard_row("271009007", "潮見保育園", "認可私立保育所", "湾岸区", "潮見町1-1"),                        # 9
    standard_row("271009008", "ふしぎ保育園", "認可私立保育所", "西区", "汐見町1-1",
                 ages="６歳～１２歳（小学校１年生～６年生）"),                                            # 10
    standard_row("271009001", "あおば第二保育園", "認可私立保育所", "北区", "青葉町1-9"),                  # 11
    standard_row("271009009", "家庭的保育室 こぐま", "家庭的保育事業", "南区", "住吉町1-1", "34.655", "135.5",
                 "", 収容定員="5"),                                                                     # 12
    standard_row("", "名無しID保育所", "認可公立保育所", "東区", "朝日町1-1"),                              # 13
    standard_row("271009010", "すくすく院内保育所", "事業所内保育事業", "西区", "千鳥町1-1", "135.455",
                 "34.695", "0歳～2歳"),                                                                 # 14
    standard_row("271009011", "ベビールームぴよ", "認可外保育施設", "南区", "花園町1-1"),                   # 15
    standard_row("271009012", "認定こども園 山手幼稚園", "認定こども園（幼稚園型）", "山手区", "山手町1-1",
                 "34.735", "135.55", "満3歳以上", 所在地_市区町村=""),                                       # 16
    standard_row("271009013", "かもめ保育室", "小規模保育事業", "港区", "築港1-1", "34.66", "135.445",
                 "1歳から2歳", 収容定員="19"),                                                           # 17
    standard_row("271009014", "みどり保育園", "認可私立保育所", "東区", "緑町1-1", "abc", "135.545"),        # 18
]


def to_csv(header: list[str], rows: list[dict[str, str]], newline: str = "\n") -> str:
    for row in rows:
        assert set(row) <= set(header), set(row) - set(header)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline)
    writer.writerow(header)
    writer.writerows([[row.get(h, "") for h in header] for row in rows])
    return out.getvalue()


def standard_file(encoding: str = "utf-8-sig", newline: str = "\n") -> bytes:
    return to_csv(STANDARD, STANDARD_ROWS, newline).encode(encoding)


def messages(report: Report, file: str, line: int) -> list[str]:
    return [p.message for p in report.about(file, line)]


# -- facilities ------------------------------------------------------------------------------------
def test_standard_layout_nurseries_are_imported():
    assert len(STANDARD) == 53
    report = Report()
    facilities = import_facilities(standard_file(), "shisetsu.csv", WARDS, report)
    # 潮見保育園 names a ward the city does not have: kept, ward unknown; 名無しID保育所 gets an id from its name
    no_id = name_id("271009", "名無しID保育所")
    assert [f["id"] for f in facilities] == ["271009001", "271009002", "271009007", "271009009", no_id, "271009012",
                                             "271009013"]
    assert "ward" not in facilities[2] and facilities[4]["ward"] == "higashi"
    assert facilities[0] == {
        "id": "271009001", "name": "あおば保育園", "kana": "アオバホイクエン", "type": "nursery",
        "type_text": "認可私立保育所", "ward": "kita", "address": "大阪府みなと市北区青葉町1-2-3", "lat": 34.735,
        "lon": 135.5, "phone": "06-6123-4567", "hours": "7:00-19:00", "ages": [0, 1, 2, 3, 4, 5],
        "ages_text": "0歳から5歳", "capacity": 120, "url": "https://aoba.example.jp/"}
    sakura = facilities[1]
    assert (sakura["type"], sakura["ward"], sakura["ages"], sakura["ages_text"]) == (
        "kodomoen", "chuo", [0, 1, 2, 3, 4, 5], "産休明け～５歳")
    assert sakura["address"] == "大阪府みなと市中央区栄町2-3-4 さくらビル2階"
    assert (sakura["lat"], sakura["capacity"], sakura["hours"], sakura["phone"]) == (34.695, 120, "7:00-18:30",
                                                                                   "(06)6234-5678")
    home = facilities[3]
    assert (home["type"], home["ward"], home["ages"], "ages_text" in home) == ("home", "minami", [0, 1, 2], False)
    assert facilities[5]["ages"] == [3, 4, 5] and facilities[5]["ward"] == "yamanote"   # ward from 連結表記
    assert (facilities[6]["type"], facilities[6]["ward"], facilities[6]["ages"]) == ("small", "minato", [1, 2])
    FacilitiesFile.model_validate({"facilities": facilities})


def test_standard_layout_rows_left_out_are_reported_with_their_line():
    report = Report()
    import_facilities(standard_file(), "shisetsu.csv", WARDS, report)
    assert [p.line for p in report] == [5, 6, 7, 8, 10, 11, 12, 14, 15, 18, None, None]
    assert messages(report, "shisetsu.csv", 5) == [
        "北児童館: 種別 '児童館' is not a nursery taking applications: row skipped"]
    assert "'放課後児童クラブ'" in messages(report, "shisetsu.csv", 6)[0]
    assert "'私立幼稚園'" in messages(report, "shisetsu.csv", 7)[0]
    assert messages(report, "shisetsu.csv", 8) == [
        "ひまわり保育室: no coordinates (緯度 '', 経度 ''): row skipped"]
    assert messages(report, "shisetsu.csv", 9) == []   # 湾岸区 is no ward of the city's: kept, said once below
    assert messages(report, "shisetsu.csv", 10) == [
        "ふしぎ保育園: 受入年齢 '６歳～１２歳（小学校１年生～６年生）' takes no child of 0-5: row skipped"]
    assert messages(report, "shisetsu.csv", 11) == [
        "あおば第二保育園: ID 271009001 is listed twice (line 2 kept): row skipped"]
    assert messages(report, "shisetsu.csv", 12) == [
        "家庭的保育室 こぐま: no 受入年齢: ages 0-2 of a 家庭的保育事業 assumed"]
    assert messages(report, "shisetsu.csv", 13) == []  # no ID: one made from the name, said once below
    assert [p.message for p in report if p.line is None] == [
        "1 nurseries have no ID: ids made from their names (the same on every import while the name stays)",
        "1 of 7 nurseries are in no 区 of settings.yaml (北区、中央区、東区、西区、南区、港区、山手区) by their address: "
        "kept, 区 unknown (they are still found by location)"]
    assert "swapped" in messages(report, "shisetsu.csv", 14)[0]
    assert "'認可外保育施設'" in messages(report, "shisetsu.csv", 15)[0]
    assert messages(report, "shisetsu.csv", 18) == ["みどり保育園: no coordinates (緯度 'abc', 経度 '135.545'): "
                                                    "row skipped"]
    assert str(report.problems[0]).startswith("shisetsu.csv:5: 北児童館")


@pytest.mark.parametrize("encoding, newline", [("utf-8", "\n"), ("cp932", "\r\n"), ("utf-8-sig", "\r\n")])
def test_every_encoding_gives_the_same_result(encoding, newline):
    expected_report, got_report = Report(), Report()
    expected = import_facilities(standard_file("utf-8-sig"), "s.csv", WARDS, expected_report)
    got = import_facilities(standard_file(encoding, newline), "s.csv", WARDS, got_report)
    assert got == expected and got_report.lines() == expected_report.lines()


def test_older_28_column_layout():
    assert len(OLD) == 28
    rows = [
        {"都道府県コード又は市区町村コード": "271009", "NO": "1", "都道府県名": "大阪府", "市区町村名": "みなと市",
         "名称": "東雲保育園", "名称_カナ": "シノノメホイクエン", "種別": "認可私立保育所",
         "住所": "大阪府みなと市東区東雲町2-3-4", "緯度": "34.695", "経度": "135.545", "電話番号": "06-6311-2222",
         "許可等年月日": "1980/4/1", "収容定員": "90", "受入年齢": "0歳～5歳", "開始時間": "7:00", "終了時間": "19:00"},
        {"都道府県コード又は市区町村コード": "271009", "NO": "2", "都道府県名": "大阪府", "市区町村名": "みなと市",
         "名称": "汐見すまいる保育園", "種別": "小規模保育事業", "住所": "大阪府みなと市西区汐見町1-1-1",
         "方書": "汐見ハイツ1階", "緯度": "34.69", "経度": "135.45", "受入年齢": "生後57日～2歳", "収容定員": "19"},
        {"都道府県コード又は市区町村コード": "271009", "NO": "3", "都道府県名": "大阪府", "市区町村名": "みなと市",
         "名称": "西浜幼稚園", "種別": "公立幼稚園", "住所": "大阪府みなと市西区西浜町3-3-3", "緯度": "34.70",
         "経度": "135.46", "受入年齢": "満3歳以上"},
    ]
    report = Report()
    facilities = import_facilities(to_csv(OLD, rows, "\r\n").encode("cp932"), "old.csv", WARDS, report)
    assert [(f["id"], f["type"], f["ward"]) for f in facilities] == [("1", "nursery", "higashi"),
                                                                    ("2", "small", "nishi")]
    assert facilities[1]["address"] == "大阪府みなと市西区汐見町1-1-1 汐見ハイツ1階"
    assert facilities[1]["ages"] == [0, 1, 2] and "hours" not in facilities[1]
    assert [str(p) for p in report] == [
        "old.csv:4: 西浜幼稚園: 種別 '公立幼稚園' is not a nursery taking applications: row skipped"]


def test_columns_are_found_by_name_not_position():
    header = ["備考", "経度", "緯度", "種別", "名称", "ID", "所在地_連結表記", "受入年齢"]
    row = {"ID": "A-1", "名称": "あおば保育園", "種別": "認可保育所", "所在地_連結表記": "みなと市北区青葉町1",
           "緯度": "34.7", "経度": "135.5", "受入年齢": "1歳～5歳"}
    facilities = import_facilities(to_csv(header, [row]).encode(), "x.csv", WARDS, Report())
    assert facilities == [{"id": "A-1", "name": "あおば保育園", "type": "nursery", "type_text": "認可保育所",
                           "ward": "kita", "address": "みなと市北区青葉町1", "lat": 34.7, "lon": 135.5,
                           "ages": [1, 2, 3, 4, 5], "ages_text": "1歳～5歳"}]


def test_missing_required_columns_are_reported_at_the_header():
    report = Report()
    assert import_facilities("名称,住所\nあおば保育園,北区\n".encode(), "x.csv", WARDS, report) == []
    assert [str(p) for p in report] == [
        "x.csv:1: no ID column (looked for a header named ID or NO or 施設ID or 施設番号 or 施設コード)",
        "x.csv:1: no type (種別) column (looked for a header named 種別 or 施設種別 or 施設の種類 or 種類)",
        "x.csv:1: no latitude column (looked for a header named 緯度 or latitude or lat)",
        "x.csv:1: no longitude column (looked for a header named 経度 or longitude or lon or lng)",
        "x.csv: 1 rows skipped"]


@pytest.mark.parametrize("text, ages", [
    ("0歳から5歳", [0, 1, 2, 3, 4, 5]),
    ("1歳から2歳", [1, 2]),
    ("６か月～５歳", [0, 1, 2, 3, 4, 5]),
    ("産休明け～５歳", [0, 1, 2, 3, 4, 5]),
    ("生後57日～5歳", [0, 1, 2, 3, 4, 5]),
    ("0歳～2歳", [0, 1, 2]),
    ("0歳〜2歳", [0, 1, 2]),
    ("0歳~2歳", [0, 1, 2]),
    ("0歳-2歳", [0, 1, 2]),
    ("０～５歳", [0, 1, 2, 3, 4, 5]),
    ("満3歳以上", [3, 4, 5]),
    ("満３歳から就学前まで", [3, 4, 5]),
    ("3歳から5歳", [3, 4, 5]),
    ("3歳から5歳まで", [3, 4, 5]),
    ("1歳6か月～5歳", [1, 2, 3, 4, 5]),
    ("0歳児～2歳児", [0, 1, 2]),
    ("３歳・４歳・５歳", [3, 4, 5]),
    ("2歳まで", [0, 1, 2]),
    ("18歳未満", [0, 1, 2, 3, 4, 5]),
    ("６歳～１２歳（小学校１年生～６年生）", []),
    ("", None),
    ("要相談", None),
])
def test_ages(text, ages):
    assert parse_ages(text) == ages


@pytest.mark.parametrize("text, kind", [
    ("認可保育所", "nursery"), ("保育所", "nursery"), ("保育園", "nursery"), ("認可公立保育所", "nursery"),
    ("認可私立保育所", "nursery"), ("認定こども園（幼保連携型）", "kodomoen"), ("認定こども園(幼稚園型)", "kodomoen"),
    ("小規模保育事業（A型）", "small"), ("小規模保育施設", "small"), ("事業所内保育事業", "workplace"),
    ("家庭的保育事業", "home"), ("私立幼稚園", None), ("公立幼稚園", None), ("放課後児童クラブ", None),
    ("児童館", None), ("一時預かり", None), ("病児保育", None), ("認可外保育施設", None), ("企業主導型保育事業", None),
    ("", None),
])
def test_classify(text, kind):
    assert classify(text) == kind


# -- vacancies ---------------------------------------------------------------------------------------
FACILITIES = [
    SimpleNamespace(id="F001", name="あおば保育園", ages=[0, 1, 2, 3, 4, 5]),
    SimpleNamespace(id="F002", name="さくらこども園", ages=[0, 1, 2, 3, 4, 5]),
    SimpleNamespace(id="F003", name="ひかり小規模保育園", ages=[0, 1, 2]),
    SimpleNamespace(id="F004", name="東雲保育園", ages=[1, 2, 3, 4, 5]),
    SimpleNamespace(id="F005", name="家庭的保育室こぐま", ages=[0, 1, 2]),
]
YOKOHAMA = """【令和７年９月１日時点】,,,,,,,,,,,
施設所在区,標準地域コード,施設・事業名,施設番号,０歳児,１歳児,２歳児,３歳児,４歳児,５歳児,合計,更新日
北区,271021,あおば保育園,F001,0,２,0,3(0),－,-,5,2025/8/28
北区,271021,さくら　こども園,,◎,○,△,×,,0,,2025/8/28
中央区,271022,しらない保育園,X999,1,1,1,1,1,1,6,2025/8/28
中央区,271022,ひかり小規模保育園,F003,1,2,0,-,-,-,3,2025/8/28
中央区,271022,ひかり小規模保育園,F003,0,0,0,-,-,-,0,2025/8/28
東区,271023,東雲保育園,F004,-,若干,1,2,2,2,7,2025/8/28
"""


def test_yokohama_layout():
    report = Report()
    data = YOKOHAMA.replace("\n", "\r\n").encode("cp932")
    as_of, places = import_vacancies(data, "ukeire.csv", FACILITIES, report)
    assert as_of == date(2025, 9, 1)
    assert places == {"F001": {0: 0, 1: 2, 2: 0, 3: 3},
                      "F002": {0: 5, 1: 3, 2: 1, 3: 0, 5: 0},
                      "F003": {0: 1, 1: 2, 2: 0},
                      "F004": {2: 1, 3: 2, 4: 2, 5: 2}}
    assert [str(p) for p in report] == [
        "ukeire.csv:5: 施設番号 X999 'しらない保育園' is not in facilities.yaml: row skipped",
        "ukeire.csv:7: ひかり小規模保育園 is listed twice (line 6 kept): row skipped",
        "ukeire.csv:8: 東雲保育園 1歳児: '若干' is not a number of places (a number, -, ◎ ○ △ ×, or 3(0)): left out",
        "ukeire.csv: 1 facilities are not in the table: 家庭的保育室こぐま"]


def test_yokohama_layout_class_not_taken_is_left_out_and_title_without_date():
    text = ("受入可能数のお知らせ\n"
            "施設所在区,施設・事業名,施設番号,０歳児,１歳児,２歳児,３歳児,４歳児,５歳児\n"
            "北区,ひかり小規模保育園,F003,0,1,0,2,,\n")
    report = Report()
    as_of, places = import_vacancies(text.encode("utf-8"), "v.csv", FACILITIES[:3], report, as_of=date(2025, 10, 1))
    assert as_of == date(2025, 10, 1) and places == {"F003": {0: 0, 1: 1, 2: 0}}
    assert report.problems[0].line == 1 and "holds no date" in report.problems[0].message
    assert report.about("v.csv", 3)[0].message.startswith("ひかり小規模保育園: 2 places for the 3-year class, which "
                                                          "it does not take")


def test_two_title_lines_before_the_header():
    text = ('"保育所等の受入可能数",,,\r\n'
            "（平成31年4月1日現在）,,,\r\n"
            "\r\n"
            "施設・事業名,施設番号,０歳児,１歳児\r\n"
            "あおば保育園,F001,1,0\r\n"
            "どこか保育園,F999,1,0\r\n")
    report = Report()
    as_of, places = import_vacancies(text.encode("cp932"), "v.csv", FACILITIES, report)
    assert as_of == date(2019, 4, 1) and places == {"F001": {0: 1, 1: 0}}
    assert [p.line for p in report if not p.fatal] == [6, None]
    # the classes the facilities take but the table has no column for: it would be refused
    assert [(p.line, p.message.split(":")[0]) for p in report.fatal()] == [
        (4, "no ２歳児 column"), (4, "no ３歳児 column"), (4, "no ４歳児 column"), (4, "no ５歳児 column")]


def test_a_date_in_the_file_and_another_given():
    report = Report()
    as_of, _ = import_vacancies(YOKOHAMA.encode("utf-8"), "v.csv", FACILITIES, report, as_of=date(2025, 9, 2))
    assert as_of == date(2025, 9, 2)
    assert any("the file says 2025-09-01: --as-of 2025-09-02 used" in p.message for p in report)


SIMPLE = """facility_id,age,places,as_of
F001,0,0,2025-09-01
F001,1歳児,2,2025-09-01
F002,３,1,2025-09-01
F404,1,1,2025-09-01
F001,1,3,2025-09-01
F002,4,1,2025-10-01
F002,9,1,2025-09-01
F003,2,-,2025-09-01
"""


def test_simple_layout():
    report = Report()
    as_of, places = import_vacancies(SIMPLE.encode("utf-8"), "export.csv", FACILITIES[:3], report)
    assert as_of == date(2025, 9, 1)
    assert places == {"F001": {0: 0, 1: 2}, "F002": {3: 1, 4: 1}, "F003": {}}
    assert [(p.line, p.message) for p in report] == [
        (5, "施設番号 F404 is not in facilities.yaml: row skipped"),
        (6, "あおば保育園 1歳児 is listed twice (line 3 kept): row skipped"),
        (7, "as_of 2025-10-01 differs from the first row's 2025-09-01: 2025-09-01 used"),
        (8, "さくらこども園: age '9' is not a class 0-5: row skipped")]
    VacanciesFile.model_validate({"as_of": as_of, "places": places})


def test_simple_layout_without_a_date_takes_the_option():
    text = "facility_id,age,places\nF001,0,1\n"
    assert import_vacancies(text.encode(), "e.csv", FACILITIES, Report()) == (None, {"F001": {0: 1}})
    assert import_vacancies(text.encode(), "e.csv", FACILITIES, Report(), as_of=date(2025, 4, 1))[0] == date(2025, 4, 1)
    with pytest.raises(ImportFailed, match="--as-of"):
        render_vacancies(None, {"F001": {0: 1}}, "e.csv")


@pytest.mark.parametrize("cell, places", [("3", 3), ("３", 3), ("12", 12), ("3(0)", 3), ("３（０）", 3), ("◎", 5),
                                          ("○", 3), ("〇", 3), ("△", 1), ("×", 0), ("-", None), ("－", None),
                                          ("", None), (" ", None), ("2人", 2)])
def test_places(cell, places):
    assert parse_places(cell) == places


@pytest.mark.parametrize("cell", ["若干", "3.5", "なし?", "1000"])
def test_bad_places(cell):
    with pytest.raises(ValueError):
        parse_places(cell)


@pytest.mark.parametrize("text, day", [
    ("【令和７年９月１日時点】", date(2025, 9, 1)), ("令和元年5月1日現在", date(2019, 5, 1)),
    ("平成31年4月1日", date(2019, 4, 1)), ("2025年9月1日", date(2025, 9, 1)), ("２０２５年９月１日", date(2025, 9, 1)),
    ("2025/9/1", date(2025, 9, 1)), ("2025-09-01", date(2025, 9, 1)), ("R7.9.1", date(2025, 9, 1)),
    ("令和7年9月", date(2025, 9, 1)), ("令和7年2月30日", None), ("受入可能数", None),
])
def test_as_of_dates(text, day):
    assert parse_as_of(text) == day


# -- writing ------------------------------------------------------------------------------------
def test_round_trip_through_the_models():
    facilities = import_facilities(standard_file(), "shisetsu.csv", WARDS, Report())
    text = render_facilities(facilities, "shisetsu.csv")
    assert text.startswith("# ") and "`citybot import childcare` from shisetsu.csv" in text.splitlines()[0]
    assert "\\u" not in text and "ages: [0, 1, 2, 3, 4, 5]" in text
    loaded = FacilitiesFile.model_validate(yaml.safe_load(text))
    assert [f.model_dump(exclude_defaults=True) for f in loaded.facilities] == facilities
    as_of, places = import_vacancies(SIMPLE.encode(), "export.csv", FACILITIES, Report())
    text = render_vacancies(as_of, places, "export.csv")
    table = VacanciesFile.model_validate(yaml.safe_load(text))
    assert (table.as_of, table.source, table.places) == (date(2025, 9, 1), "export.csv", places)
    assert "  F001: {0: 0, 1: 2}" in text


def test_nothing_invalid_is_rendered():
    with pytest.raises(ImportFailed, match="no nursery"):
        render_facilities([], "x.csv")
    bad = import_facilities(standard_file(), "s.csv", WARDS, Report())
    bad[0]["ward"] = ""   # would not validate
    bad[0]["ages"] = []
    with pytest.raises(ImportFailed, match="do not validate"):
        render_facilities(bad, "x.csv")
    with pytest.raises(ImportFailed, match="do not validate"):
        render_vacancies(date(2025, 9, 1), {"F001": {7: 1}}, "x.csv")


# -- the sample content ---------------------------------------------------------------------------
CENTRES = {"kita": (34.735, 135.500), "chuo": (34.695, 135.500), "higashi": (34.695, 135.545),
           "nishi": (34.695, 135.455), "minami": (34.655, 135.500), "minato": (34.660, 135.445),
           "yamanote": (34.735, 135.550)}


def sample_facilities() -> tuple[list[dict], Report]:
    report = Report()
    path = DATA / "sample_facilities.csv"
    return import_facilities(path.read_bytes(), path.name, WARDS, report), report


def test_sample_facilities_reproduce_the_content_file():
    facilities, report = sample_facilities()
    expected = (CONTENT / "childcare" / "facilities.yaml").read_text(encoding="utf-8")
    assert render_facilities(facilities, "sample_facilities.csv") == expected, \
        "run `citybot import childcare tests/data/childcare/sample_facilities.csv`"
    skipped = [p for p in report if "row skipped" in p.message]
    assert len(skipped) == 6 and all("is not a nursery" in p.message for p in skipped)
    assert len(report) == 7   # and one 家庭的保育 without 受入年齢: 0-2 assumed


def test_sample_vacancies_reproduce_the_content_file():
    facilities = FacilitiesFile.model_validate(
        yaml.safe_load((CONTENT / "childcare" / "facilities.yaml").read_text(encoding="utf-8")))
    path = DATA / "sample_vacancies.csv"
    raw = path.read_bytes()
    assert b"\r\n" in raw and raw.decode("cp932").startswith("【令和８年１１月１日時点】")
    report = Report()
    as_of, places = import_vacancies(raw, path.name, facilities.facilities, report)
    assert not report.problems and as_of == date(2026, 11, 1)
    expected = (CONTENT / "childcare" / "vacancies.yaml").read_text(encoding="utf-8")
    assert render_vacancies(as_of, places, path.name) == expected, \
        "run `citybot import vacancies tests/data/childcare/sample_vacancies.csv`"


def test_sample_content_fits_the_city():
    facilities = FacilitiesFile.model_validate(
        yaml.safe_load((CONTENT / "childcare" / "facilities.yaml").read_text(encoding="utf-8")))
    table = VacanciesFile.model_validate(
        yaml.safe_load((CONTENT / "childcare" / "vacancies.yaml").read_text(encoding="utf-8")))
    districts = {d["id"] for d in yaml.safe_load((CONTENT / "settings.yaml").read_text(encoding="utf-8"))["districts"]}
    assert len(facilities.facilities) == 48
    by_ward: dict[str, list] = {}
    for facility in facilities.facilities:
        by_ward.setdefault(facility.ward, []).append(facility)
        centre = CENTRES[facility.ward]
        assert distance_m(*centre, facility.lat, facility.lon) <= 1_850, facility.name
    assert set(by_ward) == districts == set(CENTRES)
    assert all(len(group) >= 5 for group in by_ward.values())
    assert {f.type for f in facilities.facilities} == {"nursery", "kodomoen", "small", "workplace", "home"}
    assert all(set(f.ages) <= {0, 1, 2} for f in facilities.facilities if f.type in ("small", "home", "workplace"))
    known = facilities.by_id()
    assert set(table.places) == set(known)
    for facility_id, classes in table.places.items():
        assert set(classes) <= set(known[facility_id].ages), facility_id
    for ward, group in by_ward.items():
        assert any(table.places_for(f.id, 1) > 0 for f in group), f"{ward}: no 1-year place"
    assert not any(table.places_for(f.id, 0) for f in by_ward["minato"])   # "try the neighbouring wards"
    assert sum(table.places_for(f.id, 0) for f in facilities.facilities) > 0


# -- the commands -----------------------------------------------------------------------------------
@pytest.fixture
def content(tmp_path) -> Path:
    folder = tmp_path / "content"
    folder.mkdir()
    (folder / "settings.yaml").write_bytes((CONTENT / "settings.yaml").read_bytes())
    return folder


@pytest.fixture
def cli(content):
    group = click.Group("citybot")
    register_import_commands(group)
    config = Config(env="test", content_dir=str(content), instance_dir=str(content.parent / "instance"))
    return lambda *args: CliRunner().invoke(group, list(args), obj={"config": config})


@pytest.fixture
def told(monkeypatch):
    """A stand-in for handlers.childcare.sync: records the configs it was called with."""
    calls = []
    module = types.ModuleType("handlers.childcare.sync")
    module.sync_vacancies_now = lambda config: calls.append(config) or "2 openings: 3 residents to be told"
    monkeypatch.setitem(sys.modules, "handlers.childcare.sync", module)
    return calls


def test_childcare_command_writes_the_content_folder(cli, content):
    result = cli("import", "childcare", str(DATA / "sample_facilities.csv"))
    assert result.exit_code == 0, result.output
    out = content / "childcare" / "facilities.yaml"
    assert out.read_text("utf-8") == (CONTENT / "childcare" / "facilities.yaml").read_text("utf-8")
    assert result.stdout.strip() == f"48 facilities, 6 rows skipped, 7 problems: written to {out}"
    assert "sample_facilities.csv:5: 北児童館: 種別 '児童館' is not a nursery taking applications: row skipped" \
        in result.stderr.splitlines()


def test_childcare_command_fails_when_nothing_usable_and_keeps_the_old_file(cli, content, tmp_path):
    src = tmp_path / "jidokan.csv"
    src.write_bytes(to_csv(STANDARD, STANDARD_ROWS[2:5]).encode("cp932"))
    (content / "childcare").mkdir()
    (content / "childcare" / "facilities.yaml").write_text("old", encoding="utf-8")
    result = cli("import", "childcare", str(src))
    assert result.exit_code == 1
    assert "jidokan.csv:2: 北児童館: 種別 '児童館'" in result.stderr
    assert "0 facilities, 3 rows skipped, 3 problems: nothing written" in result.stdout
    assert (content / "childcare" / "facilities.yaml").read_text() == "old"
    assert [p.name for p in (content / "childcare").iterdir()] == ["facilities.yaml"]


def test_dry_runs_write_nothing_and_tell_nobody(cli, content, told):
    result = cli("import", "childcare", str(DATA / "sample_facilities.csv"), "--dry-run")
    assert result.exit_code == 0 and "dry run, nothing written" in result.stdout
    assert not (content / "childcare").exists()
    result = cli("import", "vacancies", str(DATA / "sample_vacancies.csv"), "--dry-run",
                 "--facilities", str(CONTENT / "childcare" / "facilities.yaml"))
    assert result.exit_code == 0, result.output
    assert "dry run, nothing written" in result.stdout and not (content / "childcare").exists() and not told


def test_vacancies_command_writes_then_tells_the_residents(cli, content, told):
    assert cli("import", "childcare", str(DATA / "sample_facilities.csv")).exit_code == 0
    result = cli("import", "vacancies", str(DATA / "sample_vacancies.csv"))
    assert result.exit_code == 0, result.output
    out = content / "childcare" / "vacancies.yaml"
    assert out.read_text("utf-8") == (CONTENT / "childcare" / "vacancies.yaml").read_text("utf-8")
    assert result.stdout.splitlines() == [
        f"48 facilities (44 with places), as of 2026-11-01, 0 problems: written to {out}",
        "2 openings: 3 residents to be told"]
    assert len(told) == 1 and told[0].content_dir == str(content)


def test_vacancies_command_without_the_sync_module(cli, content, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "handlers.childcare.sync", None)   # import fails as before it existed
    src = tmp_path / "export.csv"
    src.write_text("facility_id,age,places\n271009001,1,2\n271009999,1,1\n", encoding="utf-8")
    result = cli("import", "vacancies", str(src), "--as-of", "2026-12-01", "--partial",
                 "--facilities", str(CONTENT / "childcare" / "facilities.yaml"))
    assert result.exit_code == 0, result.output
    assert "export.csv:3: 施設番号 271009999 is not in facilities.yaml: row skipped" in result.stderr
    assert "residents not told" in result.stderr
    table = VacanciesFile.model_validate(yaml.safe_load((content / "childcare" / "vacancies.yaml").read_text("utf-8")))
    assert table.as_of == date(2026, 12, 1) and table.places == {"271009001": {1: 2}}


def test_vacancies_command_elsewhere_tells_nobody(cli, content, told, tmp_path):
    out = tmp_path / "elsewhere" / "v.yaml"
    result = cli("import", "vacancies", str(DATA / "sample_vacancies.csv"), "--out", str(out),
                 "--facilities", str(CONTENT / "childcare" / "facilities.yaml"))
    assert result.exit_code == 0, result.output
    assert out.is_file() and not told and "nobody told" in result.stderr


def test_vacancies_command_fails_without_a_date_or_facilities(cli, content, told, tmp_path):
    src = tmp_path / "export.csv"
    src.write_text("facility_id,age,places\n271009001,1,2\n", encoding="utf-8")
    result = cli("import", "vacancies", str(src), "--facilities", str(CONTENT / "childcare" / "facilities.yaml"))
    assert result.exit_code == 1 and "--as-of" in result.stderr and "nothing written" in result.stdout
    assert not (content / "childcare").exists() and not told
    result = cli("import", "vacancies", str(src), "--as-of", "2026-12-01")   # no facilities.yaml in content
    assert result.exit_code == 1 and "citybot import childcare" in result.stderr


def test_the_real_command_line_has_both_commands(monkeypatch, tmp_path, content):
    from bot.cli import main

    monkeypatch.setenv("CONTENT_DIR", str(content))
    monkeypatch.setenv("CITYBOT_INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("CITYBOT_ENV", "test")
    result = CliRunner().invoke(main, ["import", "childcare", str(DATA / "sample_facilities.csv")])
    assert result.exit_code == 0, result.output
    assert (content / "childcare" / "facilities.yaml").is_file()
    assert CliRunner().invoke(main, ["import", "vacancies", "--help"]).exit_code == 0
