"""保育園の空き: a parent finds a place for their child's class, by ward or nearest first,
and hears about it when a place opens at a nursery they follow.

Everything runs on the sample city shipped in content/childcare/ (imported from
tests/data/childcare/ by `citybot import childcare|vacancies`).
"""

import math
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import select

from bot import delivery
from bot.cli import main as cli_main
from bot.models import Resident, ResidentChild
from handlers import childcare as cc
from tests.conftest import quick_data, quick_labels
from tests.integration.test_garbage import at

CONTENT = Path(__file__).resolve().parents[2] / "content"
FACILITIES = yaml.safe_load((CONTENT / "childcare" / "facilities.yaml").read_text(encoding="utf-8"))["facilities"]
VACANCIES = yaml.safe_load((CONTENT / "childcare" / "vacancies.yaml").read_text(encoding="utf-8"))
AS_OF = VACANCIES["as_of"] if isinstance(VACANCIES["as_of"], date) else date.fromisoformat(VACANCIES["as_of"])
WARD_NAMES = {"kita": "北区", "chuo": "中央区", "higashi": "東区", "nishi": "西区", "minami": "南区", "minato": "港区",
              "yamanote": "山手区"}


def places(facility_id, age):
    return (VACANCIES["places"].get(facility_id) or {}).get(age, 0)


def with_places(age, ward=None):
    return [f for f in FACILITIES if age in f["ages"] and places(f["id"], age) > 0 and (ward is None or f["ward"] == ward)]


def haversine(lat1, lon1, lat2, lon2):
    """Written out again here, on purpose: the check must not share the code it checks."""
    r = 6371.0088
    a = (math.sin(math.radians(lat2 - lat1) / 2) ** 2
         + math.cos(math.radians(lat1)) * math.cos(math.radians(lat2)) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * r * math.asin(math.sqrt(a))


def parent(chat, services, name="保護者 花子", *, district=None, born=()):
    """A resident who registered a ward and children born in (year, month)."""
    person = chat.resident(name)
    person.says("こんにちは")
    with services.sessions() as s:
        resident = s.scalars(select(Resident).where(Resident.line_user_id == person.user_id)).one()
        resident.district, resident.consented_at = district, services.now()
        for year, month in born:
            s.add(ResidentChild(resident_id=resident.id, birth_month=year * 12 + month - 1))
        s.commit()
    person.received()
    return person


def bubbles(message):
    assert message["type"] == "flex" and message["contents"]["type"] == "carousel"
    return message["contents"]["contents"]


def bubble_texts(bubble):
    return [c["text"] for c in bubble["body"]["contents"] if c["type"] == "text"]


def bubble_name(bubble):
    return bubble_texts(bubble)[1]


def buttons(bubble):
    return {b["action"]["label"]: b["action"] for b in bubble["footer"]["contents"]}


def tap(person, message, label):
    return person.taps(dict(zip(quick_labels(message), quick_data(message)))[label])


def as_of_ja():
    return f"{AS_OF.year}年{AS_OF.month}月{AS_OF.day}日"


def born_in_class(age):
    """A birth (year, month) whose class is `age` in the sample table's fiscal year."""
    fy = cc.fiscal_year(AS_OF)
    return (fy - age - 1, 6)  # June: safely inside the cohort


# -- ward and age from the profile -----------------------------------------------------------------
def test_registered_ward_and_child_give_the_places_at_once(chat, services):
    ward = next(w for w in WARD_NAMES if len(with_places(1, w)) >= 2)
    hanako = parent(chat, services, district=ward, born=[born_in_class(1)])
    intro, carousel, apply = hanako.says("保育園の空き")
    expected = with_places(1, ward)
    assert intro["text"] == f"{WARD_NAMES[ward]}で1歳児クラスに空きのある施設は{len(expected)}か所です。"
    shown = bubbles(carousel)
    assert {bubble_name(b) for b in shown} == {f["name"] for f in expected[:10]}
    counts = [int(bubble_texts(b)[2].removeprefix("空き ").removesuffix("人")) for b in shown]
    assert counts == sorted(counts, reverse=True)  # most places first
    first = next(f for f in expected if f["name"] == bubble_name(shown[0]))
    assert bubble_texts(shown[0])[3] == f"1歳児 / {as_of_ja()}時点"
    actions = buttons(shown[0])
    assert actions["地図"]["uri"] == f"https://www.google.com/maps/search/?api=1&query={first['lat']},{first['lon']}"
    assert actions["電話する"]["uri"].startswith("tel:0")
    assert "空きが出たら知らせる" not in actions  # a place is there now: apply rather than wait
    assert apply["text"].startswith(f"空き状況は{as_of_ja()}時点のもので") and "区役所の保育担当窓口" in apply["text"]
    assert "位置情報で探す" in quick_labels(apply) and "ほかの区" in quick_labels(apply)


def test_asked_for_age_and_ward_when_nothing_is_registered(chat, services):
    taro = chat.resident("父 太郎")
    [ask] = taro.says("保育園")
    fy = cc.fiscal_year(AS_OF)
    assert ask["text"].startswith(f"お子さんは何歳児クラスですか？ クラスは{fy}年4月1日の年齢で決まります"
                                  f"（{fy - 1}年4月2日以降に生まれたお子さんは0歳児クラス）")
    assert quick_labels(ask)[:6] == ["0歳児", "1歳児", "2歳児", "3歳児", "4歳児", "5歳児"]
    [ask] = tap(taro, ask, "2歳児")
    assert ask["text"].startswith("2歳児クラスの空きを、どの区で探しますか？")
    assert ask["quickReply"]["items"][0]["action"] == {"type": "location", "label": "位置情報で探す"}
    ward = next(w for w in WARD_NAMES if with_places(2, w))
    intro, carousel, apply = taro.says(WARD_NAMES[ward])  # typed instead of tapped
    assert intro["text"].startswith(f"{WARD_NAMES[ward]}で2歳児クラスに空きのある施設は")
    assert {bubble_name(b) for b in bubbles(carousel)} == {f["name"] for f in with_places(2, ward)[:10]}


def test_typed_birth_month_and_ward_in_one_go(chat, services):
    year, month = born_in_class(3)
    taro = chat.resident("父 太郎")
    [ask] = taro.says("保育園の空き")
    [ask] = taro.says(f"{year}年{month}月")
    assert ask["text"].startswith("3歳児クラスの空きを")
    assert len(taro.says("やめる")) == 1
    ward = next(w for w in WARD_NAMES if with_places(4, w))
    intro, *_ = taro.says(f"{WARD_NAMES[ward]}で4歳児の保育園")
    assert intro["text"].startswith(f"{WARD_NAMES[ward]}で4歳児クラスに空きのある施設は")


def test_two_children_are_asked_about(chat, services):
    hanako = parent(chat, services, district="chuo", born=[born_in_class(0), born_in_class(4)])
    [ask] = hanako.says("保育園の空き")
    assert ask["text"] == f"どのお子さんの保育園を探しますか？（{cc.fiscal_year(AS_OF)}年度のクラス）"
    labels = quick_labels(ask)
    assert labels[0].endswith("4歳児") and labels[1].endswith("0歳児") and labels[2] == "やめる"  # eldest first
    intro, *_ = tap(hanako, ask, labels[0])
    assert intro["text"].startswith("中央区で4歳児クラス")
    [ask] = hanako.says("保育園の空き")
    year, month = born_in_class(0)
    typed = hanako.says(f"{year}年{month}月")  # typed instead of tapped: the answer, and nothing else
    assert typed[0]["text"].startswith("中央区") and len(typed) <= 3 and "何歳児クラス" not in str(typed)


# -- location ----------------------------------------------------------------------------------
@pytest.mark.parametrize("where", [(34.7000, 135.5000), (34.6620, 135.4400), (34.7400, 135.5600)])
def test_nearest_first_agrees_with_brute_force_haversine(chat, services, where):
    lat, lon = where
    taro = chat.resident("父 太郎")
    [ask] = taro.says("保育園")
    [ask] = tap(taro, ask, "1歳児")
    intro, carousel, apply = taro.sends_location(lat, lon)
    ranked = sorted(with_places(1), key=lambda f: (haversine(lat, lon, f["lat"], f["lon"]), f["id"]))
    shown = bubbles(carousel)
    assert [bubble_name(b) for b in shown] == [f["name"] for f in ranked[:10]]
    assert intro["text"] == f"1歳児クラスに空きのある施設を、近い順に{len(shown)}か所お知らせします。"
    km = haversine(lat, lon, ranked[0]["lat"], ranked[0]["lon"])
    distance = bubble_texts(shown[0])[4]
    assert distance.startswith("ここから約")
    shown_km = float(distance.removeprefix("ここから約").removesuffix("km")) if distance.endswith("km") \
        else float(distance.removeprefix("ここから約").removesuffix("m")) / 1000
    assert abs(shown_km - km) <= 0.06
    assert as_of_ja() in apply["text"]


def test_location_after_ward_results_searches_near_it(chat, services):
    hanako = parent(chat, services, district="kita", born=[born_in_class(2)])
    hanako.says("保育園の空き")
    intro, carousel, _ = hanako.sends_location(34.655, 135.500)
    ranked = sorted(with_places(2), key=lambda f: (haversine(34.655, 135.500, f["lat"], f["lon"]), f["id"]))
    assert bubble_name(bubbles(carousel)[0]) == ranked[0]["name"]
    assert "ペットボトル" in hanako.says("ペットボトル")[0]["text"]  # a question elsewhere is not held


# -- no places -----------------------------------------------------------------------------------
def test_no_places_in_a_ward_says_so_and_offers_the_neighbours(chat, services):
    empty = next(w for w in WARD_NAMES if not with_places(0, w))
    hanako = parent(chat, services, district=empty, born=[born_in_class(0)])
    text, full, apply = hanako.says("保育園の空き")
    assert text["text"].startswith(f"{WARD_NAMES[empty]}には、0歳児クラスの空きがありません（{as_of_ja()}時点）。")
    neighbours = services.content.current()["settings"].district(empty).neighbours
    listed = "、".join(f"{WARD_NAMES[n]} {len(with_places(0, n))}か所" for n in neighbours)
    assert f"となりの区: {listed}" in text["text"]
    takes_zero = [f for f in FACILITIES if f["ward"] == empty and 0 in f["ages"]]
    assert {bubble_name(b) for b in bubbles(full)} == {f["name"] for f in takes_zero[:10]}
    assert all(bubble_texts(b)[2] == "空きなし" for b in bubbles(full))
    assert all("空きが出たら知らせる" in buttons(b) for b in bubbles(full))
    neighbour = next(n for n in neighbours if with_places(0, n))
    intro, carousel, _ = tap(hanako, apply, f"{WARD_NAMES[neighbour]} {len(with_places(0, neighbour))}か所")
    assert intro["text"].startswith(f"{WARD_NAMES[neighbour]}で0歳児クラスに空きのある施設は")
    assert {bubble_name(b) for b in bubbles(carousel)} == {f["name"] for f in with_places(0, neighbour)[:10]}


# -- April 1 -------------------------------------------------------------------------------------
def table_as_of(content_dir, day: date, changes=None):
    path = content_dir / "childcare" / "vacancies.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["as_of"] = day
    for (facility, age), count in (changes or {}).items():
        data["places"].setdefault(facility, {})[age] = count
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_the_class_moves_up_on_april_1(city, clock):
    content_dir, services, chat = city
    at(clock, 2027, 3, 20, 10, 0)
    hanako = parent(chat, services, district="kita", born=[(2024, 5)])  # 1 on 1 April 2026, 2 on 1 April 2027
    table_as_of(content_dir, date(2027, 3, 1))
    services.content.reload_if_changed()
    assert hanako.says("保育園の空き")[0]["text"].startswith("北区で1歳児クラス")
    table_as_of(content_dir, date(2027, 4, 1))  # next year's table, published in March
    services.content.reload_if_changed()
    assert hanako.says("保育園の空き")[0]["text"].startswith("北区で2歳児クラス")


def test_a_child_born_in_april_is_in_the_younger_class(city, clock):
    content_dir, services, chat = city
    hanako = parent(chat, services, district="kita", born=[(2025, 4)])
    table_as_of(content_dir, date(2026, 11, 1))
    services.content.reload_if_changed()
    assert hanako.says("保育園の空き")[0]["text"].startswith("北区で0歳児クラス")


# -- following a nursery, and the push when a place opens -------------------------------------------
def full_facility(age):
    """A sample facility taking `age` and `age + 1` with no place in either."""
    return next(f for f in FACILITIES if age in f["ages"] and age + 1 in f["ages"]
                and places(f["id"], age) == 0 and places(f["id"], age + 1) == 0)


@pytest.fixture
def import_vacancies(city, monkeypatch):
    """`citybot import vacancies FILE` run as staff run it, on the test's city."""
    content_dir, services, _ = city
    for name, value in (("CONTENT_DIR", str(content_dir)), ("DATABASE_URL", services.config.database_url),
                        ("CITYBOT_ENV", "test"), ("CITYBOT_INSTANCE_DIR", services.config.instance_dir)):
        monkeypatch.setenv(name, value)
    return run_import


def run_import(csv_path, *options):
    result = CliRunner().invoke(cli_main, ["import", "vacancies", str(csv_path), *options], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def deliver(services, clock):
    return delivery.deliver_due(services.sessions, services.messenger, clock, quiet_hours=None,
                                lease=timedelta(seconds=60))


def test_an_import_that_opens_a_place_tells_exactly_its_followers_once(city, clock, tmp_path, import_vacancies):
    content_dir, services, chat = city
    facility = full_facility(1)
    one, two = born_in_class(1), born_in_class(2)
    hanako = parent(chat, services, "花子", district=facility["ward"], born=[one])
    jiro = parent(chat, services, "次郎", district=facility["ward"], born=[two])
    saburo = parent(chat, services, "三郎", district=facility["ward"], born=[one])
    for person, age in ((hanako, 1), (jiro, 2)):
        data = f"action=childcare.follow&f={facility['id']}&cohort={cc.cohort((lambda y, m: y * 12 + m - 1)(*(one if age == 1 else two)))}"
        [answer] = person.taps(data)
        assert answer["text"].startswith(f"「{facility['name']}」の{age}歳児クラスに空きが出たら、お知らせします。")
        assert person.taps(data)[0]["text"] == f"「{facility['name']}」はすでにお知らせの対象です。"  # double tap

    opened = tmp_path / "december.csv"
    opened.write_text("facility_id,age,places,as_of\n"
                      + "".join(f"{f['id']},{age},{places(f['id'], age)},{AS_OF + timedelta(days=30)}\n"
                                for f in FACILITIES for age in f["ages"] if (f["id"], age) != (facility["id"], 1))
                      + f"{facility['id']},1,2,{AS_OF + timedelta(days=30)}\n", encoding="utf-8")
    output = import_vacancies(opened)
    assert "1 opening(s): 1 resident(s) to be told" in output
    assert deliver(services, clock) == 1
    [push] = hanako.received()
    assert push["altText"].startswith(f"【保育園の空き】「{facility['name']}」（{WARD_NAMES[facility['ward']]}）の1歳児クラスに空きが出ました")
    assert jiro.received() == [] and saburo.received() == []

    assert "nobody to tell" in import_vacancies(opened)  # the same file again
    services.content.reload_if_changed()
    from handlers.childcare import vacancies_changed
    with services.sessions() as s:  # and the clock's own check
        vacancies_changed(s, clock(), services.content.current())
        s.commit()
    assert deliver(services, clock) == 0 and hanako.received() == []


def test_a_place_that_was_already_open_is_no_news(city, clock, tmp_path, import_vacancies):
    content_dir, services, chat = city
    facility = next(f for f in FACILITIES if 3 in f["ages"] and places(f["id"], 3) > 0)
    hanako = parent(chat, services, born=[born_in_class(3)])
    hanako.taps(f"action=childcare.follow&f={facility['id']}&cohort={cc.fiscal_year(AS_OF) - 3}")
    more = tmp_path / "more.csv"
    more.write_text(f"facility_id,age,places,as_of\n{facility['id']},3,{places(facility['id'], 3) + 1},"
                    f"{AS_OF + timedelta(days=30)}\n", encoding="utf-8")
    assert "nobody to tell" in import_vacancies(more, "--partial")
    assert deliver(services, clock) == 0


def test_unfollow_from_the_settings_and_from_the_alert(chat, services):
    facility = full_facility(1)
    cohort = cc.fiscal_year(AS_OF) - 1
    hanako = parent(chat, services, district="chuo", born=[born_in_class(1)])
    [followed] = hanako.taps(f"action=childcare.follow&f={facility['id']}&cohort={cohort}")
    [summary] = hanako.says("設定")
    settings_buttons = {b["action"]["label"]: b["action"]["data"] for b in summary["contents"]["footer"]["contents"]}
    [listing] = hanako.taps(settings_buttons["保育園の空きのお知らせ"])
    assert listing["text"] == f"空きが出たらお知らせする施設:\n・{facility['name']}（{WARD_NAMES[facility['ward']]}、1歳児）"
    [done] = tap(hanako, listing, f"× {facility['name']}"[:20])
    assert done["text"] == f"「{facility['name']}」のお知らせをやめました。"
    assert hanako.taps(settings_buttons["保育園の空きのお知らせ"])[0]["text"].startswith("空きのお知らせを登録している施設はありません")
    hanako.taps(f"action=childcare.follow&f={facility['id']}&cohort={cohort}")
    assert tap(hanako, followed, "お知らせをやめる")[0]["text"] == f"「{facility['name']}」のお知らせをやめました。"
    with services.sessions() as s:
        assert s.scalars(select(cc.ChildcareFollow)).all() == []


def test_following_is_deleted_with_the_residents_data(chat, services):
    hanako = parent(chat, services, district="chuo", born=[born_in_class(1)])
    hanako.taps(f"action=childcare.follow&f={full_facility(1)['id']}&cohort={cc.fiscal_year(AS_OF) - 1}")
    hanako.says("データ削除")
    hanako.taps("action=delete_data.confirm")
    with services.sessions() as s:
        assert s.scalars(select(cc.ChildcareFollow)).all() == []


def test_english_answers(chat, services):
    ward = next(w for w in WARD_NAMES if with_places(3, w))
    tom = chat.resident("Tom")
    tom.taps("action=language.set&lang=en")
    [ask] = tom.says("nursery")
    assert ask["text"].startswith("Which age class is your child in?")
    [ask] = tap(tom, ask, "Age 3")
    assert ask["text"].startswith("Where should I look for a place in the Age 3 class?")
    intro, carousel, apply = tom.says(ward)
    assert "Age 3" in intro["text"] and "as of" in apply["text"]
    assert set(buttons(bubbles(carousel)[0])) == {"Call", "Map"}


def test_a_partial_table_is_refused_and_an_older_one_too(city, clock, tmp_path, import_vacancies):
    content_dir, services, chat = city
    before = (content_dir / "childcare" / "vacancies.yaml").read_text(encoding="utf-8")
    one = FACILITIES[0]
    partial = tmp_path / "one.csv"
    partial.write_text(f"facility_id,age,places,as_of\n{one['id']},{one['ages'][0]},1,{AS_OF + timedelta(days=30)}\n",
                       encoding="utf-8")
    result = CliRunner().invoke(cli_main, ["import", "vacancies", str(partial)])
    assert result.exit_code == 1 and "47 of 48 facilities are not in the table" in result.output + result.stderr
    older = tmp_path / "older.csv"
    older.write_text("facility_id,age,places,as_of\n" + "".join(
        f"{f['id']},{age},0,{AS_OF - timedelta(days=30)}\n" for f in FACILITIES for age in f["ages"]), encoding="utf-8")
    result = CliRunner().invoke(cli_main, ["import", "vacancies", str(older)])
    assert result.exit_code == 1 and "older than the current one" in result.output + result.stderr
    assert (content_dir / "childcare" / "vacancies.yaml").read_text(encoding="utf-8") == before  # nothing written

    # --partial keeps the others as they are; none of them becomes an "opening" later
    import_vacancies_partial = CliRunner().invoke(cli_main, ["import", "vacancies", str(partial), "--partial"])
    assert import_vacancies_partial.exit_code == 0, import_vacancies_partial.output
    kept = yaml.safe_load((content_dir / "childcare" / "vacancies.yaml").read_text(encoding="utf-8"))
    assert len(kept["places"]) == len(VACANCIES["places"])
    assert kept["as_of"] == AS_OF  # only as new as its oldest figures
    assert kept["places"][FACILITIES[1]["id"]] == VACANCIES["places"][FACILITIES[1]["id"]]


def test_a_facility_missing_from_a_table_is_unknown_not_full(services):
    from handlers.childcare import FacilitiesFile, VacanciesFile, record

    facilities = FacilitiesFile.model_validate({"facilities": FACILITIES[:2]})
    a, b = FACILITIES[0]["id"], FACILITIES[1]["id"]
    full = {age: 0 for age in FACILITIES[0]["ages"]}
    with services.sessions() as s:
        record(s, VacanciesFile(as_of=date(2026, 11, 1), places={a: full, b: {1: 2}}), facilities)
        assert record(s, VacanciesFile(as_of=date(2026, 12, 1), places={a: full}), facilities) == []  # b left out
        assert record(s, VacanciesFile(as_of=date(2027, 1, 1), places={a: full, b: {1: 2}}), facilities) == []


def test_another_service_named_mid_search_is_answered_and_the_search_waits(chat, services):
    taro = chat.resident("父 太郎")
    taro.says("保育園の空き")
    answer = taro.says("粗大ごみ")  # the booking starts; the search waits behind a button
    assert "収集地区" in answer[0]["text"]
    assert quick_labels(answer[-1])[0] == "保育園さがしに戻る"
    again = taro.says("ペットボトル")  # not an answer to the booking's question: garbage answers it
    assert again[0]["text"].startswith("「ペットボトル」は")


def test_following_asks_for_consent_first_and_settings_then_shows_it(chat, services):
    facility = full_facility(1)
    cohort = cc.fiscal_year(AS_OF) - 1
    taro = chat.resident("父 太郎")  # never registered, never agreed to anything
    [ask] = taro.taps(f"action=childcare.follow&f={facility['id']}&cohort={cohort}")
    assert ask["text"].startswith(f"「{facility['name']}」に空きが出たらお知らせするために、あなたのLINEの利用者ID")
    with services.sessions() as s:
        assert s.scalars(select(cc.ChildcareFollow)).all() == []  # nothing kept before they agree
    [done] = tap(taro, ask, "はい、お知らせを受け取る")
    assert done["text"].startswith(f"「{facility['name']}」の1歳児クラスに空きが出たら、お知らせします。")
    [consent] = taro.says("設定")  # registering is still asked for in full, and the alerts are one tap away
    assert consent["text"].startswith("あなたに合ったお知らせ")
    [listing] = tap(taro, consent, "保育園の空きのお知らせ")
    assert facility["name"] in listing["text"]
    with services.sessions() as s:
        assert s.scalars(select(Resident.consented_at).where(Resident.line_user_id == taro.user_id)).one() is None


def test_a_mistyped_future_table_is_refused_and_forcing_an_older_one_back_still_tells(city, clock, tmp_path,
                                                                                    import_vacancies):
    content_dir, services, chat = city
    facility = full_facility(1)
    hanako = parent(chat, services, district=facility["ward"], born=[born_in_class(1)])
    hanako.taps(f"action=childcare.follow&f={facility['id']}&cohort={cc.fiscal_year(AS_OF) - 1}")

    def table(path, day, opened=False):
        path.write_text("facility_id,age,places,as_of\n" + "".join(
            f"{f['id']},{age},{2 if opened and (f['id'], age) == (facility['id'], 1) else places(f['id'], age)},{day}\n"
            for f in FACILITIES for age in f["ages"]), encoding="utf-8")
        return path

    typo = table(tmp_path / "typo.csv", date(2036, 12, 1))
    refused = CliRunner().invoke(cli_main, ["import", "vacancies", str(typo)])
    assert refused.exit_code == 1 and "days ahead (a typo?)" in refused.output + refused.stderr
    assert "nobody to tell" in import_vacancies(typo, "--force")  # taken on purpose after all
    fixed = table(tmp_path / "december.csv", AS_OF + timedelta(days=30), opened=True)
    assert "1 opening(s): 1 resident(s) to be told" in import_vacancies(fixed, "--force")
    assert deliver(services, clock) == 1 and len(hanako.received()) == 1


def test_a_closed_facility_leaves_the_vacancy_table_too(city, tmp_path, monkeypatch):
    content_dir, services, _ = city
    monkeypatch.setenv("CONTENT_DIR", str(content_dir))
    monkeypatch.setenv("CITYBOT_ENV", "test")
    source = (Path(__file__).resolve().parents[1] / "data" / "childcare" / "sample_facilities.csv")
    lines = source.read_bytes().decode("utf-8-sig").splitlines(keepends=True)
    first_id = FACILITIES[0]["id"]
    fewer = tmp_path / "fewer.csv"
    fewer.write_text("".join(line for line in lines if f",{first_id}," not in line), encoding="utf-8")
    result = CliRunner().invoke(cli_main, ["import", "childcare", str(fewer)])
    assert result.exit_code == 0, result.output
    assert f"{first_id}: no longer a facility: removed" in result.stderr
    check = CliRunner().invoke(cli_main, ["content", "check"])
    assert check.exit_code == 0, check.output


def test_a_location_outside_the_city_is_said_to_be_so(chat, services):
    taro = chat.resident("父 太郎")
    taro.says("保育園")
    taro.taps("action=childcare.ask.age&n=1")
    [far] = taro.sends_location(35.681, 139.767)
    assert far["text"].startswith("送られた場所は市の外のようです") and "ほかの区" in quick_labels(far)
