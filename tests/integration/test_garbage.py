"""「これ、どうやって捨てるの？」 and 「明日のごみは？」, the way residents ask."""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot import delivery
from bot.models import Push, Resident, ResidentTopic
from bot.scheduler import Clock
from tests.conftest import quick_data, quick_labels, texts

TOKYO = ZoneInfo("Asia/Tokyo")


def at(clock, *when):
    """Move the bot's clock (and the residents' phones) to a Japan time."""
    clock.offset = datetime(*when, tzinfo=TOKYO).astimezone(timezone.utc) - datetime.now(timezone.utc)


def living_in(chat, services, area: str, name: str = "東区 花子"):
    person = chat.resident(name)
    person.says("こんにちは")
    with services.sessions() as s:
        resident = s.scalars(select(Resident).where(Resident.line_user_id == person.user_id)).one()
        resident.garbage_area, resident.district, resident.consented_at = area, area.split("-")[0], services.now()
        s.commit()
    person.received()
    return person


@pytest.mark.parametrize("typed", ["ペットボトル", "ぺっとぼとる", "ﾍﾟｯﾄﾎﾞﾄﾙ", "PETボトル", "ペットボトルの捨て方は？",
                                   "ペットボトロ"])
def test_pet_bottle_however_it_is_typed(chat, typed):
    taro = chat.resident()
    [answer] = taro.says(typed)
    assert answer["text"].startswith("「ペットボトル」は【ペットボトル】です。"), typed
    assert "キャップとラベルを外し" in answer["text"]  # how to put it out (said once, by the category)


def test_kanji_item_found_by_its_reading(chat):
    [answer] = chat.resident().says("かんでんち")
    assert answer["text"].startswith("「乾電池」は【有害ごみ】です。")


def test_two_items_in_one_message_answer_both(chat):
    first, second = chat.resident().says("ペットボトルと乾電池")
    assert first["text"].startswith("「ペットボトル」") and second["text"].startswith("「乾電池」")
    assert "quickReply" in second and "quickReply" not in first


def test_unknown_item_is_a_kind_not_found_with_a_way_to_ask_staff(chat):
    [answer] = chat.resident().says("ほげほげの捨て方")
    assert "見つかりませんでした" in answer["text"] and "ほげほげ" in answer["text"]
    assert "action=contact" in quick_data(answer)


def test_close_names_become_choices_and_a_tap_answers(chat):
    taro = chat.resident()
    [choices] = taro.says("ソファー")
    assert choices["text"].startswith("どれのことですか")
    assert all(label.startswith("ソファ") for label in quick_labels(choices)[:3])
    [answer] = taro.taps(quick_data(choices)[0])
    assert "【粗大ごみ】" in answer["text"] and "円" in answer["text"]


def test_large_waste_says_fee_and_booking(chat):
    [answer] = chat.resident().says("自転車")
    assert "【粗大ごみ】" in answer["text"] and "400円" in answer["text"] and "申し込み" in answer["text"]


def test_english_resident_gets_english(chat):
    john = chat.resident("John")
    john.taps("action=language.set&lang=en")
    [answer] = john.says("PET bottle")
    assert answer["text"].startswith('"PET bottle" goes out as: PET bottles.') or "PET" in answer["text"]
    assert "Remove the cap" in answer["text"]


def test_unknown_area_is_asked_once_then_dates_are_given(chat, services, clock):
    at(clock, 2026, 12, 6, 10, 0)  # a Sunday
    taro = chat.resident()
    [answer] = taro.says("ペットボトル")
    assert "お住まいの地域を教えてください" in answer["text"]
    assert quick_data(answer)[0] == "action=settings.edit&field=area"  # asked first
    with services.sessions() as s:
        resident = s.scalars(select(Resident).where(Resident.line_user_id == taro.user_id)).one()
        resident.garbage_area = "higashi-2"
        s.commit()
    [answer] = taro.says("ペットボトル")
    assert "日の出・旭が丘の次の収集日：12月10日(木)、12月17日(木)" in answer["text"]
    assert quick_data(answer)[0] == "action=garbage.day&when=today"  # no longer pressed on them


def test_next_second_wednesday_asked_on_a_sunday(chat, services, clock):
    at(clock, 2026, 11, 29, 9, 0)  # Sunday; the 1st Wednesday (Dec 2) is not a 燃えないごみ day here
    hanako = living_in(chat, services, "higashi-2")
    [answer] = hanako.says("次の燃えないごみはいつ?")
    assert "12月9日(水)、12月23日(水)、1月13日(水)" in answer["text"]


def test_tomorrows_garbage_on_the_eve_of_a_second_wednesday(chat, services, clock):
    at(clock, 2026, 12, 8, 20, 0)
    hanako = living_in(chat, services, "higashi-2")
    assert texts(hanako.says("明日のごみは?")) == ["明日 12月9日(水)（日の出・旭が丘）は 燃えないごみ の日です。"]
    at(clock, 2026, 12, 6, 20, 0)  # a Sunday evening: Monday is cans and bottles here
    assert texts(hanako.says("明日のごみは？")) == ["明日 12月7日(月)（日の出・旭が丘）は 缶・びん の日です。"]


def test_tomorrow_across_the_new_year(chat, services, clock):
    hanako = living_in(chat, services, "higashi-2")
    at(clock, 2026, 12, 30, 19, 0)
    [answer] = hanako.says("あしたのごみ")
    assert answer["text"].startswith("明日 12月31日(木)（日の出・旭が丘）は収集がありません。")
    assert "1月4日から通常どおり" in answer["text"]
    at(clock, 2027, 1, 3, 19, 0)
    assert texts(hanako.says("明日のごみは?")) == ["明日 1月4日(月)（日の出・旭が丘）は 缶・びん の日です。"]
    at(clock, 2027, 1, 4, 7, 0)
    assert texts(hanako.taps("action=garbage.day&when=today")) == ["今日 1月4日(月)（日の出・旭が丘）は 缶・びん の日です。"]


def test_evening_reminder_reaches_followers_of_garbage_at_their_time_once(chat, services, clock, line):
    at(clock, 2026, 12, 8, 19, 0)
    hanako = living_in(chat, services, "higashi-2", "花子")
    jiro = living_in(chat, services, "higashi-2", "次郎")   # no garbage topic: no reminder
    with services.sessions() as s:
        for person, time in ((hanako, "19:00"), (jiro, "19:00")):
            resident = s.scalars(select(Resident).where(Resident.line_user_id == person.user_id)).one()
            resident.reminder_time = time
            if person is hanako:
                s.add(ResidentTopic(resident_id=resident.id, topic="garbage"))
        s.commit()
    clock_process = Clock(services)
    job = services.router.jobs["garbage.remind"]
    clock_process.run_job(job, clock())
    clock_process.run_job(job, clock())  # a second clock, or a retry: still one push
    delivery.deliver_due(services.sessions, services.messenger, clock, quiet_hours=None, lease=timedelta(seconds=60))
    assert texts(hanako.received()) == ["【ごみ出しのお知らせ】明日 12月9日(水) は 燃えないごみ の日です（日の出・旭が丘）。"]
    assert jiro.received() == []
    with services.sessions() as s:
        assert len(s.scalars(select(Push)).all()) == 1


def test_after_the_put_out_time_todays_collection_is_no_longer_next(chat, services, clock):
    hanako = living_in(chat, services, "higashi-2")
    at(clock, 2026, 12, 10, 7, 0)  # Thursday, PET bottles day here, before 8:30
    assert "次の収集日：12月10日(木)、12月17日(木)" in hanako.says("ペットボトル")[0]["text"]
    at(clock, 2026, 12, 10, 9, 0)  # too late for today's
    assert "次の収集日：12月17日(木)、12月24日(木)" in hanako.says("ペットボトル")[0]["text"]


def test_the_item_index_is_built_when_content_loads_never_inside_a_request(config, clock, line, monkeypatch):
    """Building the readings index takes a moment; done inside the first resident's event it
    held the SQLite write lock and made other webhooks wait past LINE's 2 seconds."""
    from bot import create_app
    from bot.bootstrap import bootstrap
    from handlers.garbage import book
    from tests.conftest import Chat

    book.book_for.clear()
    services = bootstrap(config, now=clock)  # start: the index is built here
    try:
        monkeypatch.setattr(book.GarbageBook, "from_content",
                            classmethod(lambda cls, content: pytest.fail("index built inside a request")))
        taro = Chat(create_app(services=services).test_client(), services, line).resident()
        assert taro.says("ぺっとぼとる")[0]["text"].startswith("「ペットボトル」は【")
    finally:
        services.close()


def test_one_message_per_item_category_and_date_first_and_no_repeated_note(chat, services, clock):
    at(clock, 2026, 12, 3, 10, 0)
    taro = living_in(chat, services, "kita-1", "太郎")
    [answer] = taro.says("ペットボトル")
    lines = answer["text"].splitlines()
    assert lines[0] == "「ペットボトル」は【ペットボトル】です。"
    assert "の次の収集日：" in lines[1]  # when, right after where
    assert not any(line.startswith("キャップとラベルを外して、中を軽くすすいで") for line in lines)  # the note repeats the category
    [battery] = taro.says("リモコン")
    assert "電池は外して、有害ごみに出してください。" in battery["text"]  # a note that adds something stays


@pytest.mark.parametrize("typed", ["精神障害者保健福祉手帳がほしい", "Where can I vote early?"])
def test_an_item_name_hidden_in_a_longer_question_does_not_take_it(chat, typed):
    [answer] = chat.resident().says(typed)
    assert "は【" not in answer["text"] and "goes out as" not in answer["text"]
