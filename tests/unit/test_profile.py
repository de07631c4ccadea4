"""The resident profile's pieces: birth months, typed answers, the settings content model."""

from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot import profile
from bot.content.store import Content
from bot.messages import DatePick, Tap
from bot.profile import SettingsContent
from handlers.garbage.models import AreasFile
from handlers.settings import paged


def test_a_birth_month_is_stored_as_year_times_twelve_plus_month_index():
    assert profile.month_index(date(2021, 4, 15)) == 2021 * 12 + 3
    assert profile.month_of(2021 * 12 + 3) == (2021, 4)
    assert profile.month_of(profile.month_index(date(2024, 12, 31))) == (2024, 12)
    assert profile.month_from_date("2024-01-31") == profile.month_from_date("2024-01-01") == 2024 * 12
    assert profile.month_from_date("2024-02-30") is None and profile.month_from_date(None) is None


@pytest.mark.parametrize("typed, expected", [
    ("2021年4月", (2021, 4)), ("2021/4", (2021, 4)), ("2021-04", (2021, 4)), ("２０２１．１２", (2021, 12)),
    ("令和3年4月", (2021, 4)), ("R3.4", (2021, 4)), ("平成30年11月生まれ", (2018, 11)), ("平成元年1月", (1989, 1)),
    ("長男は2019年7月です", (2019, 7)),
])
def test_birth_months_as_people_type_them(typed, expected):
    assert profile.month_of(profile.parse_month(typed)) == expected


@pytest.mark.parametrize("typed", ["2021年13月", "4月", "ことし", "", "21/4"])
def test_what_is_not_a_birth_month(typed):
    assert profile.parse_month(typed) is None


def test_a_child_may_be_born_up_to_this_month_and_at_most_thirty_years_ago():
    oldest, newest = profile.birth_month_range(datetime(2026, 11, 30, 20, 0, tzinfo=timezone.utc))
    assert profile.month_of(newest) == (2026, 12)  # already December in Japan
    assert profile.month_of(oldest) == (1996, 1)


@pytest.mark.parametrize("typed, expected", [
    ("7:00", "07:00"), ("07:00", "07:00"), ("７：００", "07:00"), ("7時", "07:00"), ("19時", "19:00"),
    ("午後7時", "19:00"), ("夜8時", "20:00"), ("6時半", "06:30"), ("7", "07:00"), ("7pm", "19:00"), ("ななじ", None),
    ("25:00", None), ("2021", None),
])
def test_times_as_people_type_them(typed, expected):
    assert profile.parse_time(typed) == expected


def settings_data(**changes):
    text = {"ja": "あ", "en": "a", "easy_ja": "あ"}
    data = {
        "districts": [{"id": "kita", "name": {"ja": "北区", "en": "Kita", "easy_ja": "きたく"}, "words": ["北"]},
                      {"id": "chuo", "name": {"ja": "中央区", "en": "Chuo", "easy_ja": "ちゅうおうく"}}],
        "topics": [{"id": t, "name": text} for t in profile.REQUIRED_TOPICS],
        "reminder_times": ["07:00"],
        "labels": {k: text for k in profile.REQUIRED_LABELS},
        "commands": {k: {"ja": ["x"]} for k in profile.REQUIRED_COMMANDS},
    }
    data.update(changes)
    return data


def errors(data) -> dict[tuple, str]:
    with pytest.raises(ValidationError) as exc:
        SettingsContent.model_validate(data)
    return {tuple(e["loc"]): e["msg"] for e in exc.value.errors()}


def test_settings_content_is_consistent():
    settings = SettingsContent.model_validate(settings_data())
    areas = AreasFile.model_validate({"areas": [
        {"id": "kita-1", "district": "kita", "name": "青葉", "days": {"burnable": ["mon"]}},
        {"id": "chuo-1", "district": "chuo", "name": "本町", "days": {"burnable": ["tue"]}}]})
    content = Content(root=Path("."), version="test", documents={"settings": settings, "garbage/areas": areas})
    assert [a.id for a in profile.areas(content).in_district("kita")] == ["kita-1"]
    assert profile.known_ids(content) == ({"kita", "chuo"}, {"kita-1", "chuo-1"}, set(profile.REQUIRED_TOPICS))

    data = settings_data()
    data["districts"][1]["id"] = "kita"
    assert errors(data) == {("districts", 1, "id"): "id 'kita' is listed twice"}
    assert errors(settings_data(topics=[{"id": "garbage", "name": {"ja": "ごみ", "en": "g", "easy_ja": "ご"}}])) == {
        ("topics",): "topics the city services need are missing: childcare, disaster, city_news"}
    assert errors(settings_data(reminder_times=["07:00", "7:00", "07:00"])) == {
        ("reminder_times", 1): "Value error, '7:00' is not a time of day written HH:MM (for example 07:00)"}
    assert errors(settings_data(reminder_times=["07:00", "07:00"])) == {("reminder_times", 1): "07:00 is listed twice"}
    assert errors(settings_data(labels={})) == {("labels",): "missing: " + ", ".join(sorted(profile.REQUIRED_LABELS))}
    bad_id = settings_data()
    bad_id["districts"][0]["id"] = "Kita Ward"
    assert ("districts", 0, "id") in errors(bad_id)


def test_finding_what_a_resident_typed():
    settings = SettingsContent.model_validate(settings_data())
    assert profile.find(settings.districts, "北区").id == "kita"
    assert profile.find(settings.districts, "きたく").id == "kita"
    assert profile.find(settings.districts, "北").id == "kita"  # a word, exactly
    assert profile.find(settings.districts, "ＫＩＴＡ").id == "kita"
    assert profile.find(settings.districts, "中央区に住んでいます").id == "chuo"
    assert profile.find(settings.districts, "北区と中央区") is None  # two: ask again
    assert profile.find(settings.districts, "南区") is None
    assert settings.means("quit", "Ｘ") and not settings.means("quit", "y")


def test_quick_replies_are_paged_when_the_options_do_not_fit():
    options = [Tap(str(i), f"action=x&i={i}") for i in range(15)]
    fixed = [Tap("skip", "action=x.skip"), Tap("quit", "action=x.quit")]

    def more(page):
        return Tap("more", f"action=x.more&page={page}")

    first, second = paged(options, fixed, 0, more), paged(options, fixed, 1, more)
    assert [t.label for t in first] == [str(i) for i in range(10)] + ["more", "skip", "quit"]
    assert [t.label for t in second] == [str(i) for i in range(10, 15)] + ["more", "skip", "quit"]
    assert first[-3].data == "action=x.more&page=1" and second[-3].data == "action=x.more&page=0"
    assert paged(options[:11], fixed, 0, more) == [*options[:11], *fixed]  # 13 fit without paging


def test_date_pick_opens_the_date_picker():
    pick = DatePick("生まれた年月を選ぶ", "action=settings.child", initial="2026-11-25", min="1996-01-01",
                    max="2026-11-25")
    assert pick.action() == {"type": "datetimepicker", "label": "生まれた年月を選ぶ", "data": "action=settings.child",
                             "mode": "date", "initial": "2026-11-25", "min": "1996-01-01", "max": "2026-11-25"}
