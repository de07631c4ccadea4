"""Any real city on day one: residents of Ichikawa (no wards; its real 子育て施設一覧 and
指定緊急避難場所一覧, tests/wardless_city.py) find the nearest shelters and nurseries in
日本語, English and やさしい日本語, register without being asked for a ward, and, where the
city groups its towns into districts (地区), are asked for theirs by that word.

English answers about nurseries and shelters carry no Japanese script: every text a
resident reads (text messages, flex texts and button labels, quick-reply labels, alt texts,
a location message's title) is walked; only a location message's address, which the map
app needs, may stay Japanese.
"""

from __future__ import annotations

import math
import re
import shutil
from datetime import date, timedelta

import pytest
import yaml
from sqlalchemy import select

from bot import create_app
from bot.bootstrap import bootstrap
from bot.models import Resident
from bot.readable import hiragana, name_in
from handlers import childcare as cc
from handlers.disaster import incidents as inc
from tests.conftest import Chat, quick_data, quick_labels
from tests.wardless_city import build_city

JAPANESE = re.compile(r"[\u3040-\u30FF\u31F0-\u31FF\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF\uFF66-\uFF9F\u3005]")
MOTOYAWATA = (35.7216, 139.9271)      # 本八幡駅
MINAMI_GYOTOKU = (35.6732, 139.9025)  # 南行徳駅
STATUS = {"ja": "江戸川の水位が上がっています。", "en": "The Edogawa is rising.", "easy_ja": "えどがわの みずが ふえて います。"}


def haversine(lat1, lon1, lat2, lon2):
    """Written out again on purpose: the check must not share the code it checks."""
    r = 6371.0088
    a = (math.sin(math.radians(lat2 - lat1) / 2) ** 2
         + math.cos(math.radians(lat1)) * math.cos(math.radians(lat2)) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * r * math.asin(math.sqrt(a))


# -- the cities ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Ichikawa's content, built once per kind of division (none; districts of towns)."""
    return {kind: build_city(tmp_path_factory.mktemp(f"ichikawa-{kind}") / "content", kind)
            for kind in ("none", "districts")}


class City:
    def __init__(self, content, services, chat):
        self.content, self.services, self.chat = content, services, chat
        self.facilities = yaml.safe_load((content / "childcare" / "facilities.yaml").read_text("utf-8"))["facilities"]
        self.shelters = yaml.safe_load((content / "disaster" / "shelters.yaml").read_text("utf-8"))["shelters"]
        vacancies = yaml.safe_load((content / "childcare" / "vacancies.yaml").read_text("utf-8"))
        as_of = vacancies["as_of"]
        self.as_of = as_of if isinstance(as_of, date) else date.fromisoformat(as_of)
        self.places = vacancies["places"]

    def with_places(self, age):
        return [f for f in self.facilities if age in f["ages"] and (self.places.get(f["id"]) or {}).get(age, 0) > 0]

    def resident(self, name, lang="ja", district=None):
        person = self.chat.resident(name)
        person.says("こんにちは")
        if lang != "ja":
            person.taps(f"action=language.set&lang={lang}")
        if district:
            with self.services.sessions() as s:
                row = s.scalars(select(Resident).where(Resident.line_user_id == person.user_id)).one()
                row.district, row.consented_at = district, self.services.now()
                s.commit()
        person.received()
        return person


def _city(kind, built, config, clock, line, tmp_path):
    content = tmp_path / "content"
    shutil.copytree(built[kind], content)
    services = bootstrap(config.with_(content_dir=str(content)), now=clock)
    return City(content, services, Chat(create_app(services=services).test_client(), services, line))


@pytest.fixture
def ichikawa(built, config, clock, line, tmp_path):
    """Ichikawa with no divisions at all."""
    city = _city("none", built, config, clock, line, tmp_path)
    yield city
    city.services.close()


@pytest.fixture
def by_district(built, config, clock, line, tmp_path):
    """Ichikawa with its towns grouped into four 地区."""
    city = _city("districts", built, config, clock, line, tmp_path)
    yield city
    city.services.close()


# -- reading the answers ---------------------------------------------------------------------------
def read_texts(message) -> list[str]:
    """Every text a resident reads in a message, but a location message's address."""
    found: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "text" and isinstance(node.get("text"), str):
                found.append(node["text"])
            for key in ("label", "displayText", "altText", "title"):
                if isinstance(node.get(key), str):
                    found.append(node[key])
            if node.get("type") == "message" and isinstance(node.get("text"), str):   # a message action posts it
                found.append(node["text"])
            for key, value in node.items():
                if key != "address":
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message)
    return found


def assert_no_japanese(messages):
    leaks = [text for message in messages for text in read_texts(message) if JAPANESE.search(text)]
    assert not leaks, f"Japanese script in English answers: {leaks[:5]}"
    assert any(read_texts(m) for m in messages)


def bubbles(message):
    assert message["type"] == "flex" and message["contents"]["type"] == "carousel"
    return message["contents"]["contents"]


def bubble_name(bubble):
    return [c["text"] for c in bubble["body"]["contents"] if c["type"] == "text"][1]


def tap(person, message, label):
    return person.taps(dict(zip(quick_labels(message), quick_data(message)))[label])


def english(place) -> str:
    return name_in("en", place["name"], place.get("kana", ""), place.get("name_en", ""))


def easy(place) -> str:
    return name_in("easy_ja", place["name"], place.get("kana", ""))


# -- shelters --------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang, first", [("ja", "いま開いている避難所はありません"), ("en", "No shelter is open right now"),
                                         ("easy_ja", "いま ひらいている ひなんじょは ありません")])
def test_nearest_shelters_from_a_location_in_each_language(ichikawa, lang, first):
    hanako = ichikawa.resident("花子", lang)
    ask = hanako.says({"ja": "避難所", "en": "shelter", "easy_ja": "ひなんじょ"}[lang])
    answer, *cards = hanako.sends_location(*MOTOYAWATA)
    assert answer["text"].startswith(first)
    ranked = sorted(ichikawa.shelters, key=lambda s: (haversine(*MOTOYAWATA, s["lat"], s["lon"]), s["id"]))[:3]
    assert [(c["latitude"], c["longitude"]) for c in cards] == [(s["lat"], s["lon"]) for s in ranked]
    assert [c["address"] for c in cards] == [s["address"] for s in ranked]     # for the map app: as the city wrote it
    if lang == "ja":
        assert [c["title"] for c in cards] == [s["name"] for s in ranked]
    if lang == "en":
        assert [c["title"] for c in cards] == [english(s) for s in ranked]
        assert english(ranked[0]) in answer["text"]
        assert_no_japanese([*ask, answer, *cards])
    if lang == "easy_ja":   # the name with its reading in hiragana
        nearest = ranked[0]
        assert easy(nearest) == f"{nearest['name']}（{hiragana(nearest['kana'])}）"
        assert [c["title"] for c in cards] == [easy(s) for s in ranked] and easy(nearest) in answer["text"]


def test_an_incident_for_the_whole_city_and_the_nearest_open_site_in_english(ichikawa):
    flood_sites = [s["id"] for s in ichikawa.shelters if "flood" in s["hazards"]][::2]
    with ichikawa.services.sessions() as s:
        inc.declare(s, hazard="flood", level=4, districts=[], shelters=flood_sites, status=STATUS, by="desk-a",
                    now=ichikawa.services.now() - timedelta(minutes=1))
        s.commit()
    tom = ichikawa.resident("Tom", "en")
    info = tom.says("disaster")
    assert info[0]["text"].startswith("[Alert level 4: Evacuation order]") and "Ichikawa City" in info[0]["text"]
    assert not any("Register your" in m.get("text", "") for m in info)   # nothing to register in this city
    answer, *cards = tom.sends_location(*MINAMI_GYOTOKU)
    assert answer["text"].startswith("Nearest open shelters (designated for Flood)")
    open_sites = [s for s in ichikawa.shelters if s["id"] in flood_sites]
    ranked = sorted(open_sites, key=lambda s: (haversine(*MINAMI_GYOTOKU, s["lat"], s["lon"]), s["id"]))[:3]
    assert [c["title"] for c in cards] == [english(s) for s in ranked]
    assert_no_japanese([*info, answer, *cards])


# -- nurseries ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["ja", "en", "easy_ja"])
def test_nearest_nurseries_from_a_location_in_each_language(ichikawa, lang):
    words = {"ja": ("保育園の空き", "1歳児", "位置情報で探す", "市内全体"),
             "en": ("nursery", "Age 1", "Search near me", "The whole city"),
             "easy_ja": ("ほいくえん", "1さいじ", "ちかくを さがす", "しの ぜんぶ")}[lang]
    mother = ichikawa.resident("母", lang)
    [ask_age] = mother.says(words[0])
    [ask_where] = tap(mother, ask_age, words[1])
    labels = quick_labels(ask_where)
    assert labels[:2] == [words[2], words[3]] and len(labels) == 3   # location, whole city, stop: no 区 to choose
    assert "区" not in ask_where["text"] and "ward" not in ask_where["text"].lower()
    intro, carousel, apply = mother.sends_location(*MOTOYAWATA)
    expected = sorted(ichikawa.with_places(1), key=lambda f: (haversine(*MOTOYAWATA, f["lat"], f["lon"]), f["id"]))
    shown = bubbles(carousel)
    names = {"ja": lambda f: f["name"], "en": english, "easy_ja": easy}[lang]
    assert [bubble_name(b) for b in shown] == [names(f) for f in expected[:10]]
    assert "ほかの区" not in quick_labels(apply) and "Another ward" not in quick_labels(apply)
    if lang == "en":
        assert_no_japanese([ask_age, ask_where, intro, carousel, apply])
        assert "Ichikawa City" in [c["text"] for c in shown[0]["body"]["contents"] if c["type"] == "text"]


def test_the_whole_city_most_places_first_and_following_one_in_english(ichikawa):
    tom = ichikawa.resident("Tom", "en")
    [ask_age] = tom.says("nursery")
    [ask_where] = tap(tom, ask_age, "Age 2")
    intro, carousel, apply = tap(tom, ask_where, "The whole city")
    expected = sorted(ichikawa.with_places(2), key=lambda f: (-ichikawa.places[f["id"]][2], f.get("kana") or f["name"],
                                                              f["id"]))
    assert intro["text"].startswith(f"{len(expected)} nurseries in the city have a place in the Age 2 class")
    assert [bubble_name(b) for b in bubbles(carousel)] == [english(f) for f in expected[:10]]
    full = next(f for f in ichikawa.facilities if 2 in f["ages"] and not ichikawa.places[f["id"]].get(2))
    cohort = cc.cohort_for(2, ichikawa.as_of)
    consent = tom.taps(f"action=childcare.follow&f={full['id']}&cohort={cohort}")
    followed = tom.taps(f"action=childcare.follow&f={full['id']}&cohort={cohort}&agree=yes")
    listed = tom.taps("action=childcare.following")
    assert english(full) in followed[0]["text"] and f"- {english(full)} (Ichikawa City, Age 2)" in listed[0]["text"]
    assert_no_japanese([ask_age, ask_where, intro, carousel, apply, *consent, *followed, *listed])


# -- registration ----------------------------------------------------------------------------------------
def test_registration_asks_no_district_in_a_city_without_divisions(ichikawa):
    taro = ichikawa.resident("太郎")
    [consent] = taro.says("設定")
    assert "区" not in consent["text"].replace("収集地区", "")
    thanks, question = taro.taps("action=settings.consent&answer=yes")
    assert question["text"] == "ごみの収集地区を選んでください。"          # the first question: no district
    assert not any("step=district" in d for d in quick_data(question))
    for step in ("area", "children", "topics"):
        taro.taps(f"action=settings.skip&step={step}")
    done, bubble = taro.taps("action=settings.skip&step=reminder")
    body = bubble["altText"]
    assert "区" not in body.replace("収集地区", "") and body.splitlines()[1] == "言葉：日本語"
    labels = [b["action"]["label"] for b in bubble["contents"]["footer"]["contents"] if "action" in b]
    assert "区を変える" not in labels and "ごみの収集地区を変える" in labels


@pytest.mark.parametrize("lang, question, change", [
    ("ja", "お住まいの地区を選んでください。", "地区を変える"),
    ("en", "Which district do you live in?", "Change district"),
    ("easy_ja", "すんでいる ちくを えらんで ください。", "ちくを かえる"),
])
def test_registration_asks_the_district_by_the_citys_word(by_district, lang, question, change):
    hana = by_district.resident("花", lang)
    hana.says({"ja": "設定", "en": "settings", "easy_ja": "せってい"}[lang])
    thanks, asked = hana.taps("action=settings.consent&answer=yes")
    assert asked["text"] == question
    names = {"ja": "行徳地区", "en": "Gyotoku District", "easy_ja": "ぎょうとく ちく"}[lang]
    assert quick_labels(asked)[:4] == [{"ja": d, "en": e, "easy_ja": k}[lang] for d, e, k in (
        ("北部地区", "Hokubu District", "ほくぶ ちく"), ("中部地区", "Chubu District", "ちゅうぶ ちく"),
        ("東部地区", "Tobu District", "とうぶ ちく"), ("行徳地区", "Gyotoku District", "ぎょうとく ちく"))]
    hana.says("妙典") if lang == "ja" else hana.taps("action=settings.pick&step=district&id=gyotoku")  # a town names it
    for step in ("area", "children", "topics"):
        hana.taps(f"action=settings.skip&step={step}")
    done, bubble = hana.taps("action=settings.skip&step=reminder")
    assert names in bubble["altText"]
    labels = [b["action"]["label"] for b in bubble["contents"]["footer"]["contents"] if "action" in b]
    assert change in labels
    with by_district.services.sessions() as s:
        assert s.scalars(select(Resident.district).where(Resident.line_user_id == hana.user_id)).one() == "gyotoku"


def test_a_registered_district_gives_its_nurseries_and_the_chip_says_district(by_district):
    mother = by_district.resident("母", "ja", district="gyotoku")
    [ask_age] = mother.says("保育園の空き")
    intro, carousel, apply = tap(mother, ask_age, "1歳児")
    in_gyotoku = [f for f in by_district.with_places(1) if f["ward"] == "gyotoku"]
    assert intro["text"] == f"行徳地区で1歳児クラスに空きのある施設は{len(in_gyotoku)}か所です。"
    assert "ほかの地区" in quick_labels(apply)
    [ask_where] = tap(mother, apply, "ほかの地区")
    assert ask_where["text"].startswith("1歳児クラスの空きを、どの地区で探しますか？")
    assert quick_labels(ask_where)[1:5] == ["北部地区", "中部地区", "東部地区", "行徳地区"]


def test_the_desk_declares_a_city_wide_incident_where_there_are_no_divisions(ichikawa):
    """No 区 to tick: the form says the whole city is concerned, lists every site, and the
    incident it declares reaches every resident."""
    from bot.admin.models import StaffUser
    from tests.integration.test_admin_auth import csrf, login
    from tests.integration.test_admin_desk import HASH, STATUS, post_form

    services = ichikawa.services
    with services.sessions() as s:
        s.add(StaffUser(name="desk-a", role="desk", password_hash=HASH, disabled=False, created_at=services.now()))
        s.commit()
    client = ichikawa.chat.client.application.test_client()
    assert login(client, "desk-a").status_code == 302
    form = client.get("/admin/incidents/new").get_data(as_text=True)
    assert 'data-testid="whole-city"' in form and 'name="districts"' not in form
    sites = yaml.safe_load((ichikawa.content / "disaster" / "shelters.yaml").read_text(encoding="utf-8"))["shelters"]
    flood = [site["id"] for site in sites if "flood" in site["hazards"]][:2]
    assert flood and all(f'value="{i}"' in form for i in flood)
    sent = post_form(client, "/admin/incidents/new", {
        "hazard": ["flood"], "level": ["4"], "shelters": flood, "status_ja": [STATUS["ja"]],
        "status_en": [STATUS["en"]], "status_easy_ja": [STATUS["easy_ja"]]}, csrf_token=csrf(client, "/admin/incidents/new"))
    assert sent.status_code == 302, sent.get_data(as_text=True)
    with services.sessions() as s:
        [incident] = inc.active(s, services.now() + timedelta(minutes=1))
        assert (incident.districts, incident.shelters) == ([], flood)
    hana = ichikawa.resident("花子")
    assert any("警戒レベル4" in m.get("text", "") for m in hana.says("災害情報"))
