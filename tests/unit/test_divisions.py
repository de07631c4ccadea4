"""A city's own divisions: settings.yaml says wards, districts of towns or none; the
importers put each place in one from the standard columns, in order, or keep it without;
texts and chips say the city's own word for them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from bot.content.models import Text
from bot.importers.divisions import Division, Divisions
from bot.profile import SettingsContent
from tests.wardless_city import DISTRICTS

REPO = Path(__file__).resolve().parents[2]
SAMPLE = yaml.safe_load((REPO / "content" / "settings.yaml").read_text(encoding="utf-8"))

WARDS = Divisions.build([Division("kita", ("北区", "Kita Ward", "北")), Division("chuo", ("中央区", "中央")),
                         Division("yamanote", ("山手区", "山手"))], cities=["みなと市"])
TOWNS = Divisions.build([Division(d["id"], (d["name"]["ja"], *d["words"]), tuple(d["towns"]), tuple(d["centre"]))
                         for d in DISTRICTS], kind="districts", word="地区", cities=["市川市"])
NEAREST = Divisions.build(TOWNS.items, kind="districts", word="地区", nearest_km=3, cities=["市川市"])


# -- finding a place's division ------------------------------------------------------------------
def test_the_municipality_column_comes_first():
    assert WARDS.place(municipality=["みなと市北区"], address="大阪府みなと市中央区本町1") == "kita"
    # some files write the whole address into 所在地_市区町村 (Kawaguchi: 川口市栄町1-2-19)
    assert TOWNS.place(municipality=["市川市南行徳1丁目"], address="") == "gyotoku"


def test_then_the_town_column_then_the_address():
    assert TOWNS.place(municipality=["市川市"], town="行徳駅前2丁目", address="千葉県市川市八幡1丁目") == "gyotoku"
    assert TOWNS.place(municipality=["市川市"], town="", address="千葉県市川市八幡1丁目1-1") == "chubu"
    # 市川市 is no town 市川; the longest town wins (市川南 over 市川); ヶ and ケ alike
    assert TOWNS.place(municipality=["市川市"], address="千葉県市川市市川南3丁目") == "chubu"
    assert TOWNS.place(address="千葉県市川市南大野1丁目") == "hokubu"
    assert TOWNS.place(town="関ケ島6-1") == "gyotoku"
    # a 町字 column holding the city too (市川市中山), and one that ends in 町 (北方町)
    assert TOWNS.place(municipality=["市川市"], town="市川市中山") == "chubu"
    assert TOWNS.place(municipality=["市川市"], town="北方町4丁目") == "chubu"


def test_ward_names_before_bare_words_and_one_character_words_never_bare():
    assert WARDS.place(address="大阪府みなと市北区中央町1丁目") == "kita"      # the ward, not the town named 中央
    assert WARDS.place(address="大阪府みなと市中央町1丁目") == "chuo"          # no ward anywhere: a bare word
    assert WARDS.place(address="大阪府みなと市北町1丁目") is None              # 北 alone hides in town names
    assert WARDS.place(address="大阪府みなと市湾岸区潮見町1-1") is None        # a ward the city does not have
    assert WARDS.place(address="大阪府みなと市1", more=["山手区山手町会"]) == "yamanote"   # the 町会 list


def test_the_nearest_division_rule_only_when_the_city_gives_it():
    unknown_town = dict(municipality=["市川市"], address="千葉県市川市どこか町1-1")
    assert TOWNS.place(**unknown_town, lat=35.681, lon=139.914) is None
    assert NEAREST.place(**unknown_town, lat=35.681, lon=139.914) == "gyotoku"
    assert NEAREST.place(**unknown_town, lat=35.0, lon=139.0) is None          # farther than nearest_km
    assert NEAREST.place(**unknown_town) is None                               # no coordinates


def test_a_city_without_divisions_places_nothing():
    none = Divisions.build([], kind="none")
    assert not none and none.place(address="千葉県市川市八幡1丁目") is None


def test_settings_yaml_is_read_with_the_city_name_from_messages_yaml(tmp_path):
    divisions = Divisions.load(REPO / "content" / "settings.yaml")
    assert divisions.kind == "wards" and divisions.word == "区" and divisions.cities == ("みなと市",)
    assert divisions[0] == ("kita", ["北区", "Kita Ward", "きたく", "北", "kita"])
    (tmp_path / "settings.yaml").write_text(yaml.safe_dump({"divisions": {"kind": "none"}, "districts": []}),
                                            encoding="utf-8")
    assert not Divisions.load(tmp_path / "settings.yaml")


# -- settings.yaml --------------------------------------------------------------------------------
def settings(**changes) -> SettingsContent:
    return SettingsContent.model_validate({**SAMPLE, **changes})


def test_the_sample_city_has_wards_and_says_ku():
    sample = settings()
    assert sample.divisions.kind == "wards" and sample.has_divisions and sample.divisions.word.ja == "区"


def test_a_city_without_divisions_lists_none():
    none = settings(divisions={"kind": "none"}, districts=[])
    assert not none.has_divisions and none.districts == []
    with pytest.raises(ValidationError, match="divisions.kind is none"):
        settings(divisions={"kind": "none"})
    with pytest.raises(ValidationError, match="divisions.kind is districts: list them"):
        settings(divisions={"kind": "districts"}, districts=[])


def test_districts_of_towns_and_the_nearest_rule_needs_centres():
    word = {"ja": "地区", "en": "district", "easy_ja": "ちく"}
    ok = settings(divisions={"kind": "districts", "word": word, "nearest_km": 3}, districts=DISTRICTS)
    assert ok.district("gyotoku").towns[0] == "行徳駅前" and ok.divisions.word.en == "district"
    without_centre = [{k: v for k, v in d.items() if k != "centre"} for d in DISTRICTS]
    with pytest.raises(ValidationError, match="needs a centre"):
        settings(divisions={"kind": "districts", "word": word, "nearest_km": 3}, districts=without_centre)


def test_a_town_typed_names_its_district():
    from bot import profile

    city = settings(divisions={"kind": "districts", "word": {"ja": "地区", "en": "district", "easy_ja": "ちく"}},
                    districts=DISTRICTS)
    assert profile.find(city.districts, "妙典").id == "gyotoku"
    assert profile.find(city.districts, "北部地区です").id == "hokubu"


def test_texts_say_the_citys_word(tmp_path):
    from bot.content.store import Content

    def content(word: dict) -> Content:
        district_settings = settings(divisions={"kind": "districts", "word": word}, districts=DISTRICTS)
        return Content(tmp_path, "v", {"settings": district_settings})

    words = content({"ja": "地区", "en": "district", "easy_ja": "ちく"})
    assert words.fill("お住まいの{division}を選んでください。", "ja") == "お住まいの地区を選んでください。"
    assert words.fill("Which {division} do you live in? {Division}: {x}", "en", x="1") == \
        "Which district do you live in? District: 1"
    area = content({"ja": "エリア", "en": "area", "easy_ja": "エリア"})
    assert area.fill("ほかの{division}", "ja") == "ほかのエリア" and area.fill("Another {division}", "en") == "Another area"
    assert Text(ja="{division}", en="{division}", easy_ja="{division}")  # placeholders are plain text to the model
