"""Collection-day rules and the item dictionary, on small hand-made data."""

from datetime import date

import pytest

from bot.lookup.dictionary import fold, split_items
from handlers.garbage.book import GarbageBook
from handlers.garbage.models import AreasFile, CalendarFile, CategoriesFile, DayRule, ItemsFile


@pytest.mark.parametrize("rule, yes, no", [
    ("mon", [date(2026, 12, 7)], [date(2026, 12, 8)]),
    ("2nd wed", [date(2026, 12, 9), date(2027, 1, 13)], [date(2026, 12, 2), date(2026, 12, 16)]),
    ("4th wed", [date(2026, 12, 23)], [date(2026, 12, 30)]),
    ("every other tue from 2026-04-07", [date(2026, 4, 7), date(2026, 4, 21), date(2026, 12, 15)],
     [date(2026, 4, 14), date(2026, 3, 24), date(2026, 12, 8)]),
    ("2026-12-28", [date(2026, 12, 28)], [date(2027, 12, 28)]),
])
def test_day_rules(rule, yes, no):
    parsed = DayRule.parse(rule)
    assert str(parsed) == rule
    assert all(parsed.matches(d) for d in yes) and not any(parsed.matches(d) for d in no)


@pytest.mark.parametrize("bad", ["monday", "6th wed", "every other tue from 2026-04-08", "2026-13-01", "毎週月曜"])
def test_bad_rules_are_refused_with_the_grammar(bad):
    with pytest.raises(ValueError, match="is not a collection day|is not a tue|month must be"):
        DayRule.parse(bad)


def book(collect_on_holidays=True) -> GarbageBook:
    categories = CategoriesFile.model_validate({"categories": [
        {"id": "burnable", "name": {"ja": "燃えるごみ", "en": "Burnable"}},
        {"id": "non_burnable", "name": "燃えないごみ"},
        {"id": "hazardous", "name": "有害ごみ"},
    ]})
    items = ItemsFile.model_validate({"items": [
        {"name": "ペットボトル", "aliases": ["PETボトル"], "category": "burnable"},
        {"name": "乾電池", "aliases": ["電池"], "category": "hazardous"},
        {"name": "傘", "category": "non_burnable"},
        {"name": "布団", "category": "burnable"},
        {"name": "電子レンジ", "category": "non_burnable"},
        {"name": "電気ストーブ", "category": "non_burnable"},
        {"name": "石油ストーブ", "category": "non_burnable", "note": "灯油を抜いてください"},
    ]})
    areas = AreasFile.model_validate({"areas": [{"id": "kita-1", "name": "北区", "days": {
        "burnable": ["mon", "thu"], "non_burnable": ["2nd wed", "4th wed"]}}]})
    calendar = CalendarFile.model_validate({
        "breaks": [{"from": "2026-12-31", "to": "2027-01-03", "reason": "年末年始"}],
        "collect_on_holidays": collect_on_holidays})
    content = {"garbage/categories": categories, "garbage/items": items, "garbage/areas": areas,
               "garbage/calendar": calendar}

    class FakeContent:
        def __getitem__(self, key):
            return content[key]
    return GarbageBook.from_content(FakeContent())


def test_next_second_wednesday_asked_on_a_sunday():
    assert book().next_dates("kita-1", "non_burnable", date(2026, 12, 6), 2) == [date(2026, 12, 9), date(2026, 12, 23)]


def test_new_year_break_and_after():
    rules = book()
    assert rules.collected_on("kita-1", date(2026, 12, 31)) == []  # a Thursday, but the break
    assert rules.no_collection("kita-1", date(2027, 1, 1)).reason.ja == "年末年始"
    assert [c.id for c in rules.collected_on("kita-1", date(2027, 1, 4))] == ["burnable"]
    assert rules.next_dates("kita-1", "burnable", date(2026, 12, 29), 2) == [date(2027, 1, 4), date(2027, 1, 7)]


def test_holidays_when_the_city_does_not_collect_on_them():
    assert [c.id for c in book().collected_on("kita-1", date(2027, 1, 11))] == ["burnable"]  # 成人の日, collected
    assert book(collect_on_holidays=False).collected_on("kita-1", date(2027, 1, 11)) == []
    assert book(collect_on_holidays=False).no_collection("kita-1", date(2027, 1, 11)) == "成人の日"


@pytest.mark.parametrize("typed", ["ペットボトル", "ぺっとぼとる", "ﾍﾟｯﾄﾎﾞﾄﾙ", "PETボトル", "ｐｅｔボトル", "ペットボトル　",
                                   "ぺとぼとる", "ペットボトロ"])
def test_the_ways_people_type_pet_bottle(typed):
    found = book().find(typed)
    assert found.kind in ("exact", "fuzzy") and found.best.name == "ペットボトル", (typed, found)


def test_kanji_names_are_found_by_their_reading():
    assert book().find("かんでんち").best.name == "乾電池"
    assert book().find("でんしれんじ").best.name == "電子レンジ"


def test_near_names_become_choices_and_nonsense_is_none():
    found = book().find("ストーブ")
    assert found.kind == "choices" and {h.entry.name for h in found.hits} == {"電気ストーブ", "石油ストーブ"}
    assert book().find("でんき").best.name == "電気ストーブ"  # far ahead of the rest: taken
    assert book().find("ほげほげ").kind == "none"


def test_two_items_in_one_message():
    assert [i.name for i in book().find_several("ペットボトルと乾電池")] == ["ペットボトル", "乾電池"]
    assert [i.name for i in book().find_several("ぺっとぼとるとかんでんち")] == ["ペットボトル", "乾電池"]
    assert [i.name for i in book().find_several("傘、布団")] == ["傘", "布団"]
    assert book().find_several("布団") is None


def test_folding_and_splitting():
    assert fold("ﾍﾟｯﾄﾎﾞﾄﾙ") == fold("ぺっとぼとる") == "へつとほとる".replace("へ", "ぺ").replace("ほ", "ぼ")
    assert split_items("ふとんとまくら") == ["ふとんとまくら"]  # hiragana と is left to the dictionary
