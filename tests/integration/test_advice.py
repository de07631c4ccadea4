"""いま何をすれば: advice for the hazard, the level and where the resident is, by taps only."""

from __future__ import annotations

import re

import pytest

from tests.conftest import quick_data, quick_labels
from tests.integration.test_admin_desk import desk  # noqa: F401 - the fixture
from tests.integration.test_disaster import declare, resident_in
from tests.integration.test_shelter_room import citybot  # noqa: F401 - the fixture


# while an incident is on, every answer starts with its banner line: the answer is the last message
def quick_types(message: dict) -> list[str]:
    return [item["action"]["type"] for item in message.get("quickReply", {}).get("items", [])]


def test_with_nothing_declared_it_says_what_to_prepare(chat, services):
    hana = resident_in(chat, services, "kita")
    *_, answer = hana.says("いま何をすれば")
    assert answer["text"].startswith("いま、あなたの地域に災害の警戒レベルは出ていません")
    assert "location" in quick_types(answer)


def test_at_home_in_a_risk_area_on_the_ground_floor_leave_now(chat, services):
    declare(services, ["kita"], hazard="flood", level=4)
    hana = resident_in(chat, services, "kita")
    information = hana.says("災害情報")
    assert "action=advice" in quick_data(information[-1])  # the disaster answer offers it
    *_, where = hana.taps("action=advice")
    assert where["text"].startswith("洪水の警戒レベル4")
    assert quick_labels(where)[:4] == ["自宅", "職場や学校", "屋外", "車の中"]
    *_, area = hana.taps("action=advice.where&step=where&at=home")
    assert "ハザードマップ" in area["text"]
    *_, floor = hana.taps("action=advice.area&step=area&answer=yes")
    assert "3階以上" in floor["text"]
    *_, advice = hana.taps("action=advice.floor&step=floor&answer=no")
    assert advice["text"].startswith("【洪水・警戒レベル4】自宅にいる方へ")
    assert "いますぐ避難してください" in advice["text"] and "位置情報を送る" in advice["text"]
    assert quick_types(advice)[0] == "location"  # one tap to the nearest open shelter


def test_at_home_on_a_high_floor_stay_up_vertical_evacuation(chat, services):
    declare(services, ["kita"], hazard="flood", level=4)
    hana = resident_in(chat, services, "kita")
    hana.says("いま何をすれば")
    hana.taps("action=advice.where&step=where&at=home")
    hana.taps("action=advice.area&step=area&answer=unknown")  # not knowing counts as at risk
    *_, advice = hana.taps("action=advice.floor&step=floor&answer=yes")
    assert "上の階にとどまってください" in advice["text"] and "垂直避難" in advice["text"]
    assert "location" not in quick_types(advice)


def test_outdoors_and_typed_answers(chat, services):
    declare(services, ["kita"], hazard="flood", level=4)
    hana = resident_in(chat, services, "kita")
    hana.says("避難したほうがいい？")
    *_, advice = hana.says("屋外")
    assert advice["text"].startswith("【洪水・警戒レベル4】屋外にいる方へ")
    assert "頑丈な建物" in advice["text"] and quick_types(advice)[0] == "location"


@pytest.mark.parametrize("hazard, level, expect", [("earthquake", 4, "いますぐ避難してください"),
                                                   ("flood", 5, "命を守ってください")])
def test_a_hazard_the_city_did_not_write_and_the_highest_level(chat, services, hazard, level, expect):
    declare(services, ["kita"], hazard=hazard, level=level)
    hana = resident_in(chat, services, "kita")
    hana.says("いま何をすれば")
    if hazard == "flood":
        hana.taps("action=advice.where&step=where&at=home")
        *_, advice = hana.taps("action=advice.area&step=area&answer=yes")
        assert "3階以上" in advice["text"]
        *_, advice = hana.taps("action=advice.floor&step=floor&answer=no")
    else:
        *_, advice = hana.taps("action=advice.where&step=where&at=home")  # no hazard-map split: answered at once
    assert expect in advice["text"]


def test_in_english_and_easy_japanese(chat, services):
    declare(services, ["kita"], hazard="flood", level=4)
    for lang, asks, home, said in [("en", "What to do now", "at home", "level 4] If you are in a car:"),
                                   ("easy_ja", "いま どうする", "いえ", "レベル4】くるまの なかに いる ひとへ")]:
        person = resident_in(chat, services, "kita", name=lang)
        person.taps(f"action=language.set&lang={lang}")
        *_, where = person.says(asks)
        assert quick_labels(where)[0] == home
        *_, advice = person.taps("action=advice.where&step=where&at=car")
        assert said in advice["text"].split("\n")[0], advice["text"]


def test_a_resident_elsewhere_is_not_told_of_another_districts_order(chat, services):
    declare(services, ["minami"], hazard="flood", level=4)
    hana = resident_in(chat, services, "kita")
    *_, answer = hana.says("いま何をすれば")
    assert answer["text"].startswith("いま、あなたの地域に災害の警戒レベルは出ていません")


def test_a_drill_declared_from_the_command_line_advises_a_tester_who_only_taps(chat, services, citybot, desk):
    """The issue's drill: `citybot incidents declare --training`, then 自宅 and 屋外 by taps,
    then 「安否」: safe at home, 3 people, counted on the desk under their district."""
    out = citybot("incidents", "declare", "--hazard", "flood", "--level", "4", "--district", "kita",
                  "--open-designated", "--status-ja", "訓練です。", "--status-en", "Drill.",
                  "--status-easy-ja", "くんれん です。", "--training")
    incident = int(re.search(r"declared #(\d+)", out).group(1))
    tester = resident_in(chat, services, "kita", tester=True)
    *_, information = tester.taps("action=disaster")
    assert "action=advice" in quick_data(information)
    tester.taps("action=advice")
    tester.taps("action=advice.where&step=where&at=home")
    tester.taps("action=advice.area&step=area&answer=yes")
    *_, at_home = tester.taps("action=advice.floor&step=floor&answer=no")
    assert at_home["text"].startswith("【洪水・警戒レベル4】自宅にいる方へ")
    tester.taps("action=advice")
    *_, outdoors = tester.taps("action=advice.where&step=where&at=outdoors")
    assert outdoors["text"].startswith("【洪水・警戒レベル4】屋外にいる方へ") and quick_types(outdoors)[0] == "location"
    tester.says("安否")
    tester.taps("action=safety.status&step=status&is=home")
    *_, saved = tester.taps("action=safety.people&step=people&n=3")
    assert saved["text"].startswith("市に報告しました: 自宅で無事・3人")
    counts = desk("desk-a").get("/admin/safety/counts.json").get_json()
    [drill] = [i for i in counts["incidents"] if i["id"] == incident]
    assert drill["cells"]["kita"]["home"] == {"reports": 1, "people": 3}
    # a resident who is not a tester is not told of the drill
    *_, other = resident_in(chat, services, "kita").says("いま何をすれば")
    assert other["text"].startswith("いま、あなたの地域に災害の警戒レベルは出ていません")


def test_leaving_names_the_open_sites_of_their_district_that_still_take_people(chat, services):
    from handlers.disaster import room
    from handlers.disaster.tables import Room
    from tests.integration.test_disaster import SHELTERS

    opened = [s for s in SHELTERS if s["district"] == "kita" and "flood" in s["hazards"]][:3]
    declare(services, ["kita"], hazard="flood", level=4, shelters=[s["id"] for s in opened])
    with services.sessions() as s:
        room.set_state(s, opened[0]["id"], Room.FULL, by="desk-a", now=services.now())
        s.commit()
    hana = resident_in(chat, services, "kita")
    hana.says("いま何をすれば")
    *_, advice = hana.taps("action=advice.where&step=where&at=outdoors")
    [line] = [line for line in advice["text"].split("\n") if line.startswith("開いている避難所: ")]
    assert opened[0]["name"] not in line  # full: never offered
    assert all(site["name"] in line for site in opened[1:])
