"""災害情報 and 避難所: residents in and out of an incident, the nearest open shelter, and
the disaster rich menu switched on LINE while any incident is active."""

import math
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from bot import richmenu
from bot.models import Resident
from handlers.disaster import incidents as inc
from handlers.disaster.mode import sync_menu
from tests.conftest import quick_labels, texts

CONTENT = Path(__file__).resolve().parents[2] / "content"
SHELTERS = yaml.safe_load((CONTENT / "disaster" / "shelters.yaml").read_text(encoding="utf-8"))["shelters"]
STATUS = {"ja": "川の水位が上がっています。", "en": "The river is rising.", "easy_ja": "かわの みずが ふえて います。"}


def haversine(lat1, lon1, lat2, lon2):
    """Written out again on purpose: the check must not share the code it checks."""
    r = 6371.0088
    a = (math.sin(math.radians(lat2 - lat1) / 2) ** 2
         + math.cos(math.radians(lat1)) * math.cos(math.radians(lat2)) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * r * math.asin(math.sqrt(a))


def resident_in(chat, services, district, name="住民", tester=False):
    person = chat.resident(name)
    person.says("こんにちは")
    with services.sessions() as s:
        resident = s.scalars(select(Resident).where(Resident.line_user_id == person.user_id)).one()
        resident.district, resident.consented_at, resident.tester = district, services.now(), tester
        s.commit()
    person.received()
    return person


def declare(services, districts, *, hazard="flood", level=4, shelters=None, training=False):
    flood_sites = [s["id"] for s in SHELTERS if hazard in s["hazards"] and s["district"] in districts]
    with services.sessions() as s:
        incident = inc.declare(s, hazard=hazard, level=level, districts=districts,
                               shelters=flood_sites if shelters is None else shelters, status=STATUS, by="desk-a",
                               now=services.now() - timedelta(minutes=1), training=training)
        s.commit()
        return incident.id


def end(services, incident_id):
    with services.sessions() as s:
        inc.end(s.get(inc.Incident, incident_id), services.now())
        s.commit()


def test_nothing_active(chat, services):
    hanako = resident_in(chat, services, "kita")
    [answer] = hanako.says("災害情報")
    assert answer["text"] == "いま、北区に出ている災害情報はありません。"
    assert answer["quickReply"]["items"][0]["action"]["type"] == "location"


def test_an_incident_for_two_districts_in_and_out_of_them(chat, services):
    hanako, jiro, saburo = (resident_in(chat, services, d, n) for d, n in (("kita", "花子"), ("minato", "次郎"),
                                                                            (None, "三郎")))
    incident = declare(services, ["kita", "chuo"])
    info, hint = hanako.says("災害情報")
    assert info["text"].startswith("【警戒レベル4 避難指示】洪水\n対象: 北区・中央区\n川の水位が上がっています。")
    assert "開いている避難所: " in info["text"]
    assert hint["text"].startswith("位置情報を送ると")
    elsewhere, info, _ = jiro.says("災害情報")
    assert elsewhere["text"] == "お住まいの港区には出ていませんが、市内では次の情報が出ています。"
    assert texts(saburo.says("災害情報"))[0].startswith("お住まいの区を「設定」で登録すると")

    # disaster mode: every other answer starts with the one-line notice
    banner, menu = hanako.says("メニュー")
    assert banner["text"] == "⚠【警戒レベル4 避難指示】北区・中央区（洪水）。くわしくは「災害情報」"
    assert menu["type"] == "flex"
    end(services, incident)
    [menu] = hanako.says("メニュー")
    assert menu["type"] == "flex"
    assert hanako.says("災害情報")[0]["text"] == "いま、北区に出ている災害情報はありません。"


def test_a_full_reply_gets_the_notice_on_its_first_text(chat, services):
    from bot.dispatch import with_banner

    five = [{"type": "text", "text": str(n)} for n in range(5)]
    assert with_banner("⚠", five)[0]["text"] == "⚠\n\n0" and len(with_banner("⚠", five)) == 5
    assert with_banner("⚠", five[:2])[0] == {"type": "text", "text": "⚠"}


@pytest.mark.parametrize("where", [(34.735, 135.500), (34.700, 135.505), (34.6900, 135.4900)])
def test_nearest_open_shelter_for_the_hazard_agrees_with_brute_force(chat, services, where):
    lat, lon = where
    hanako = resident_in(chat, services, "kita")
    opened = [s["id"] for s in SHELTERS if s["district"] in ("kita", "chuo")][::2]  # half of them opened
    declare(services, ["kita", "chuo"], hazard="earthquake", level=4, shelters=opened)
    answer, *cards = hanako.sends_location(lat, lon)
    suitable = [s for s in SHELTERS if s["id"] in opened and "earthquake" in s["hazards"]]
    ranked = sorted(suitable, key=lambda s: (haversine(lat, lon, s["lat"], s["lon"]), s["id"]))[:3]
    assert answer["text"].startswith("近くの開いている避難所（地震に対応）:")
    lines = answer["text"].splitlines()[1:]
    assert [line.split(". ", 1)[1].split("（約")[0] for line in lines] == [s["name"] for s in ranked]
    assert [(c["type"], c["title"], c["latitude"], c["longitude"]) for c in cards] == \
        [("location", s["name"], s["lat"], s["lon"]) for s in ranked]
    km = haversine(lat, lon, ranked[0]["lat"], ranked[0]["lon"])
    shown = lines[0].split("（約")[1].split("）")[0]
    shown_km = float(shown[:-2]) if shown.endswith("km") else float(shown[:-1]) / 1000
    assert abs(shown_km - km) <= 0.06


def test_a_site_not_designated_for_the_hazard_is_never_offered(chat, services):
    hanako = resident_in(chat, services, "kita")
    not_for_floods = [s for s in SHELTERS if "flood" not in s["hazards"] and s["district"] == "kita"]
    for_floods = [s for s in SHELTERS if "flood" in s["hazards"] and s["district"] == "kita"]
    declare(services, ["kita"], hazard="flood", shelters=[s["id"] for s in not_for_floods + for_floods[:1]])
    site = not_for_floods[0]
    answer, *cards = hanako.sends_location(site["lat"], site["lon"])  # standing right at it
    assert site["name"] not in answer["text"]
    assert cards[0]["title"] == for_floods[0]["name"]


def test_shelters_without_any_incident_are_the_designated_ones(chat, services):
    taro = resident_in(chat, services, "chuo")
    [ask] = taro.says("避難所")
    assert ask["text"].startswith("いまいる場所の位置情報を送ってください")
    assert ask["quickReply"]["items"][0]["action"] == {"type": "location", "label": "位置情報を送る"}
    answer, *cards = taro.sends_location(34.695, 135.500)
    assert answer["text"].startswith("いま開いている避難所はありません（災害情報は出ていません）。")
    ranked = sorted(SHELTERS, key=lambda s: (haversine(34.695, 135.5, s["lat"], s["lon"]), s["id"]))
    assert [c["title"] for c in cards] == [s["name"] for s in ranked[:3]]


def test_training_is_seen_by_testers_only(chat, services):
    staff = resident_in(chat, services, "kita", "職員", tester=True)
    hanako = resident_in(chat, services, "kita", "花子")
    declare(services, ["kita"], training=True)
    assert hanako.says("災害情報")[0]["text"] == "いま、北区に出ている災害情報はありません。"
    assert len(hanako.says("メニュー")) == 1  # no notice
    assert staff.says("災害情報")[0]["text"].startswith("【訓練】これは訓練用の情報です。")
    assert staff.says("メニュー")[0]["text"].startswith("【訓練】⚠【警戒レベル4 避難指示】北区")


@pytest.mark.contract
def test_disaster_mode_switches_the_rich_menu_by_alias_and_back(chat, services, line):
    created = richmenu.sync(services.messenger, services.content.current())
    hanako = line.add_user("花子")
    assert line.menu_shown_to(hanako)["richMenuId"] == created["main"]
    assert sync_menu(services) is None  # nothing to change
    incident = declare(services, ["kita", "chuo"])
    assert sync_menu(services) == "disaster"
    shown = line.menu_shown_to(hanako)
    assert shown["richMenuId"] == created["disaster"]
    assert [a["action"]["data"] for a in shown["richMenu"]["areas"]][:2] == ["action=disaster", "action=shelters"]
    assert sync_menu(services) is None  # already there
    second = declare(services, ["minato"], hazard="tsunami", level=5)
    end(services, incident)
    assert sync_menu(services) is None  # one incident is still active
    end(services, second)
    assert sync_menu(services) == "main"
    assert line.menu_shown_to(hanako)["richMenuId"] == created["main"]


@pytest.mark.contract
def test_a_training_incident_does_not_switch_the_menu_for_everyone(chat, services, line):
    richmenu.sync(services.messenger, services.content.current())
    declare(services, ["kita"], training=True)
    assert sync_menu(services) is None


def test_staff_become_testers_with_the_code_only(chat, services):
    """A city that set TESTER_CODE; and one that did not (the test's default)."""
    from bot import create_app
    from bot.bootstrap import bootstrap
    from tests.conftest import Chat

    svc = bootstrap(services.config.with_(tester_code="1234-5678"), now=services.now)
    try:
        staff_chat = Chat(create_app(services=svc).test_client(), svc, chat.line)
        staff = staff_chat.resident("職員")
        assert staff.says("訓練登録 0000")[0]["text"].startswith("コードが違います")
        assert staff.says("訓練登録 １２３４-５６７８")[0]["text"].startswith("訓練の送信先に登録しました")
        with svc.sessions() as s:
            assert s.scalars(select(Resident.tester).where(Resident.line_user_id == staff.user_id)).one() is True
        assert staff.says("訓練解除")[0]["text"] == "訓練の送信先から外しました。"
        with svc.sessions() as s:
            assert s.scalars(select(Resident.tester).where(Resident.line_user_id == staff.user_id)).one() is False
    finally:
        svc.close()
    nobody = chat.resident("住民")
    assert nobody.says("訓練登録 1234-5678")[0]["text"] == "訓練の登録は、いまは受け付けていません。"


def test_a_menu_never_synced_to_line_is_reported_not_ignored(chat, services):
    from handlers.disaster.mode import MenuNotOnLine

    declare(services, ["kita"])
    with pytest.raises(MenuNotOnLine, match="citybot richmenu sync"):
        sync_menu(services)


@pytest.mark.parametrize("ask", ["避難所", "action=shelters", "災害情報"])
def test_asking_for_shelters_after_a_nursery_search_gets_shelters(chat, services, ask):
    hanako = resident_in(chat, services, "kita")
    [question] = hanako.says("保育園の空き")
    hanako.taps("action=childcare.ask.age&n=1")  # then the ward is known: nurseries with places
    hanako.taps(ask) if ask.startswith("action=") else hanako.says(ask)
    answer, *cards = hanako.sends_location(34.735, 135.500)
    assert answer["text"].startswith("いま開いている避難所はありません")
    assert cards and all(c["type"] == "location" for c in cards)


def test_the_notice_speaks_the_language_just_chosen(chat, services):
    hanako = resident_in(chat, services, "kita")
    declare(services, ["kita"])
    banner, changed = hanako.taps("action=language.set&lang=en")
    assert banner["text"].startswith("⚠ [Alert level 4: Evacuation order] Kita Ward (Flood).")
    assert changed["text"].startswith("From now on")


def test_english_drill_registration(chat, services):
    from bot import create_app
    from bot.bootstrap import bootstrap
    from tests.conftest import Chat

    svc = bootstrap(services.config.with_(tester_code="1234"), now=services.now)
    try:
        staff = Chat(create_app(services=svc).test_client(), svc, chat.line).resident("staff")
        assert staff.says("drill register 1234")[0]["text"].startswith("訓練の送信先に登録しました")
    finally:
        svc.close()


@pytest.mark.parametrize("typed", ["避難所", "近くの避難所はどこ"])
def test_asking_for_a_shelter_in_the_middle_of_a_question_is_answered(chat, services, typed):
    taro = chat.resident("父 太郎")
    taro.says("保育園の空き")
    [where] = taro.taps("action=childcare.ask.age&n=1")
    assert "どの区で" in where["text"]
    [ask] = taro.says(typed)  # not "please choose a ward": shelters come first
    assert ask["text"].startswith("いまいる場所の位置情報を送ってください")
    answer, *cards = taro.sends_location(34.735, 135.500)
    assert answer["text"].startswith("いま開いている避難所はありません") and cards



def test_a_place_outside_the_affected_districts_is_told_so_and_a_place_outside_the_city_too(chat, services):
    hanako = resident_in(chat, services, "kita")
    declare(services, ["kita"], hazard="flood")
    answer, *cards = hanako.sends_location(34.735, 135.550)  # the middle of 山手区
    assert answer["text"].startswith("この付近（山手区）には、いま避難の情報は出ていません。")
    assert len(cards) == 3
    [far] = hanako.sends_location(35.681, 139.767)  # Tokyo Station
    assert far["text"].startswith("送られた場所は市の外のようです")


@pytest.mark.parametrize("typed", ["避難したい", "雨がすごい、どこに逃げればいい？", "where should I go"])
def test_evacuation_words_reach_shelters_in_the_middle_of_a_booking_during_an_incident(chat, services, typed):
    hanako = resident_in(chat, services, "kita")
    declare(services, ["kita"], hazard="flood")
    *_, ask = hanako.says("粗大ごみ")  # a large-waste booking waits for its next answer (after the banner)
    assert "やめる" in quick_labels(ask)
    answer = hanako.says(typed)[-1]
    assert answer["text"].startswith("いまいる場所の位置情報を送ってください")
    assert any(item["action"]["type"] == "location" for item in answer["quickReply"]["items"])
    reply, *cards = hanako.sends_location(34.735, 135.500)
    assert cards and "避難所" in reply["text"]


def test_evacuation_words_reach_shelters_with_nothing_declared_too(chat):
    [answer] = chat.resident().says("避難したい")
    assert answer["text"].startswith("いまいる場所の位置情報を送ってください")
