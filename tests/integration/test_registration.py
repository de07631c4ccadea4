"""Registration in the chat: consent, one question at a time, 「設定」, 「データ削除」, blocking.

Residents here only tap, or only type, as real ones do; what they registered is read
back from the database the bot wrote.
"""

import shutil
from datetime import date, timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, inspect, select, text
from sqlalchemy.orm import selectinload

from bot import delivery, profile
from bot.cli import main
from bot.models import ConversationState, Push, PushRecipient, Resident, ResidentChild, ResidentTopic
from bot.segments import AgeRange, Segment, count
from tests.conftest import quick_data, quick_labels, texts

CONTENT = Path(__file__).resolve().parents[2] / "content"

YES = "action=settings.consent&answer=yes"
SKIP = "action=settings.skip&step={}"
QUIT = "action=settings.quit"


def pick(step: str, value: str) -> str:
    return f"action=settings.pick&step={step}&id={value}"


def row(services, user_id: str) -> Resident | None:
    with services.sessions() as s:
        return s.scalars(select(Resident).where(Resident.line_user_id == user_id)
                         .options(selectinload(Resident.children), selectinload(Resident.topics))).first()


def summary(message: dict) -> str:
    assert message["type"] == "flex", message
    return message["contents"]["body"]["contents"][1]["text"]


def buttons(message: dict) -> list[str]:
    return [b["action"]["data"] for b in message["contents"]["footer"]["contents"]]


def conversations(services) -> int:
    with services.sessions() as s:
        return s.scalar(select(func.count()).select_from(ConversationState))


def places_holding(engine, needle: str) -> list[tuple[str, str]]:
    """Every (table, column) of the database whose value contains `needle`."""
    found = []
    with engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for record in conn.execute(text(f'SELECT * FROM "{table}"')):
                found += [(table, column) for column, value in record._mapping.items()
                          if value is not None and needle in str(value)]
    return found


def consented(person) -> list[dict]:
    person.follows()
    return person.taps(YES)


# -- the whole registration by tapping ----------------------------------------------------------
def test_follow_consent_and_a_registration_by_tapping_only(chat, services, clock):
    taro = chat.resident()
    [welcome] = taro.follows()
    assert "友だち追加ありがとう" in welcome["text"] and "「データ削除」" in welcome["text"]
    assert quick_labels(welcome)[:2] == ["はい、登録する", "いいえ・あとで"]
    assert row(services, taro.user_id).consented_at is None

    thanks, question = taro.taps(YES)
    assert "スキップ" in thanks["text"] and question["text"] == "お住まいの区を選んでください。"
    assert quick_data(question) == [pick("district", d) for d in
                                    ("kita", "chuo", "higashi", "nishi", "minami", "minato", "yamanote")] \
        + [SKIP.format("district"), QUIT]
    assert row(services, taro.user_id).consented_at is not None

    [areas] = taro.taps(pick("district", "kita"))
    assert areas["text"].startswith("北区の")
    assert quick_data(areas) == [pick("area", "kita-1"), pick("area", "kita-2"), SKIP.format("area"), QUIT]

    [children] = taro.taps(pick("area", "kita-2"))
    picker = children["quickReply"]["items"][0]["action"]
    assert picker["type"] == "datetimepicker" and picker["mode"] == "date"
    assert picker["min"] <= picker["initial"] <= picker["max"]
    added, more = taro.taps(picker["data"], params={"date": "2021-04-15"})
    assert added["text"] == "2021年4月生まれのお子さんを登録しました。"
    assert "✕ 2021年4月" in quick_labels(more)
    added, more = taro.taps(picker["data"], params={"date": "2024-01-31"})
    assert "2021年4月生まれ、2024年1月生まれ" in more["text"]

    [topics] = taro.taps("action=settings.done&step=children")
    assert quick_labels(topics)[:4] == ["ごみの日", "子育て", "防災・災害", "市のお知らせ"]
    for topic in ("garbage", "childcare", "disaster"):
        taro.taps(pick("topics", topic))
    off, again = taro.taps(pick("topics", "disaster"))
    assert off["text"] == "「防災・災害」は受け取りません。"
    assert quick_labels(again)[:4] == ["✓ ごみの日", "✓ 子育て", "防災・災害", "市のお知らせ"]

    [reminder] = taro.taps("action=settings.done&step=topics")
    assert quick_labels(reminder)[:6] == ["06:30", "07:00", "18:00", "19:00", "20:00", "21:00"]
    done, bubble = taro.taps(pick("reminder", "07:00"))
    assert done["text"].startswith("登録が終わりました")
    assert summary(bubble).splitlines()[:6] == [
        "言葉：日本語", "区：北区", "ごみの収集地区：北町・緑町", "子ども：2021年4月生まれ、2024年1月生まれ",
        "受け取る情報：ごみの日、子育て", "お知らせの時刻：07:00"]

    saved = row(services, taro.user_id)
    assert (saved.district, saved.garbage_area, saved.reminder_time) == ("kita", "kita-2", "07:00")
    assert [c.birth_month for c in saved.children] == [2021 * 12 + 3, 2024 * 12 + 0]
    assert [(c.year, c.month) for c in saved.children] == [(2021, 4), (2024, 1)]
    assert [t.topic for t in saved.topics] == ["childcare", "garbage"]
    assert conversations(services) == 0
    with services.sessions() as s:  # what registration stores is what pushes are aimed with
        assert count(s, Segment(districts=["kita"], topics=["childcare"],
                                child_age=AgeRange(min=5, max=5)), date(2026, 6, 1)) == 1
        assert count(s, Segment(child_age=AgeRange(min=6, max=12)), date(2026, 6, 1)) == 0


def test_every_question_can_be_skipped_and_nothing_is_stored(chat, services):
    taro = chat.resident()
    consented(taro)
    for step, expected in (("district", "ごみの収集地区を選んでください。"), ("area", "お子さんはいますか"),
                           ("children", "受け取りたい情報"), ("topics", "お知らせ（ごみの日など）")):
        [question] = taro.taps(SKIP.format(step))
        assert question["text"].startswith(expected), step
    done, bubble = taro.taps(SKIP.format("reminder"))
    assert summary(bubble).splitlines()[1:6] == ["区：未登録", "ごみの収集地区：未登録", "子ども：なし",
                                                 "受け取る情報：なし", "お知らせの時刻：未登録"]
    saved = row(services, taro.user_id)
    assert saved.consented_at is not None
    assert (saved.district, saved.garbage_area, saved.reminder_time, saved.children, saved.topics) == \
        (None, None, None, [], [])


def test_without_a_district_the_areas_come_a_page_at_a_time(chat, services):
    taro = chat.resident()
    consented(taro)
    [first] = taro.taps(SKIP.format("district"))
    assert len(first["quickReply"]["items"]) == 13
    assert quick_labels(first)[-3:] == ["次へ ▶", "スキップ", "やめる"]
    [second] = taro.taps(quick_data(first)[-3])
    assert quick_data(second)[:2] == [pick("area", "minato-2"), pick("area", "yamanote-1")]
    [back] = taro.taps(quick_data(second)[2])  # "次へ" on the last page comes round to the first
    assert quick_data(back) == quick_data(first)
    taro.taps(pick("area", "yamanote-1"))
    saved = row(services, taro.user_id)
    assert (saved.district, saved.garbage_area) == ("yamanote", "yamanote-1")  # the area tells the district


def test_stopping_midway_keeps_what_was_answered(chat, services):
    taro = chat.resident()
    consented(taro)
    taro.taps(pick("district", "chuo"))
    [stopped] = taro.taps(QUIT)
    assert "ここまでの内容は残っています" in stopped["text"]
    assert quick_data(stopped) == ["action=settings", "action=menu"]
    assert row(services, taro.user_id).district == "chuo"
    assert conversations(services) == 0
    assert "区：中央区" in summary(taro.says("設定")[0])  # something is registered: the summary

    hanako = chat.resident("山田 花子")
    consented(hanako)
    hanako.taps(pick("district", "minato"))
    assert "ここまでの内容は残っています" in hanako.says("やめる")[0]["text"]
    assert row(services, hanako.user_id).district == "minato"


def test_typed_answers_work_too(chat, services):
    taro = chat.resident()
    consented(taro)
    sorry, again = taro.says("ふじさん")
    assert sorry["text"].startswith("すみません、わかりませんでした") and again["text"] == "お住まいの区を選んでください。"
    assert taro.says("北区です")[0]["text"].startswith("北区の")
    taro.says("緑町")
    added, _ = taro.says("令和3年4月")
    assert added["text"] == "2021年4月生まれのお子さんを登録しました。"
    taro.says("２０２３／１１")
    taro.says("これで全部")
    assert taro.says("ごみ")[0]["text"] == "「ごみの日」を受け取ります。"
    taro.says("完了")
    done, bubble = taro.says("午後7時")
    saved = row(services, taro.user_id)
    assert (saved.district, saved.garbage_area, saved.reminder_time) == ("kita", "kita-2", "19:00")
    assert [(c.year, c.month) for c in saved.children] == [(2021, 4), (2023, 11)]
    assert [t.topic for t in saved.topics] == ["garbage"]


def test_another_services_keyword_is_answered_and_the_registration_waits_behind_a_button(chat, services):
    taro = chat.resident()
    consented(taro)
    [ask] = taro.taps(pick("district", "nishi"))[-1:]
    [menu] = taro.says("メニュー")
    assert menu["type"] == "flex" and quick_labels(menu)[0] == "登録の続きに戻る"
    assert conversations(services) == 1 and row(services, taro.user_id).district == "nishi"
    assert taro.says("メニュー")[0]["type"] == "flex"  # routed as usual while it waits
    [again] = taro.taps(quick_data(menu)[0])
    assert again["text"] == ask["text"]


def test_children_by_picker_are_checked_and_can_be_removed(chat, services, clock):
    taro = chat.resident()
    consented(taro)
    taro.taps(SKIP.format("district"))
    taro.taps(SKIP.format("area"))
    child = "action=settings.child&step=children"
    future = (clock() + timedelta(days=70)).date().replace(day=1).isoformat()
    note, _ = taro.taps(child, params={"date": future})
    assert note["text"].startswith("その年月は登録できません")
    note, _ = taro.taps(child, params={"date": "1980-05-05"})
    assert note["text"].startswith("その年月は登録できません")
    for day in ("2019-07-01", "2019-07-20", "2022-02-02"):  # twins are two children
        taro.taps(child, params={"date": day})
    removed, question = taro.taps(f"action=settings.drop&step=children&month={2019 * 12 + 6}")
    assert removed["text"] == "2019年7月生まれのお子さんを消しました。"
    assert "2019年7月生まれ、2022年2月生まれ" in question["text"]
    assert [(c.year, c.month) for c in row(services, taro.user_id).children] == [(2019, 7), (2022, 2)]


def test_a_button_of_an_earlier_question_gets_the_current_question_again(chat, services):
    taro = chat.resident()
    consented(taro)
    taro.taps(pick("district", "kita"))
    old, current = taro.taps(pick("district", "chuo"))
    assert old["text"].startswith("それは前の質問のボタンです")
    assert current["text"].startswith("北区の")
    assert row(services, taro.user_id).district == "kita"
    taro.taps(QUIT)
    [over] = taro.taps(pick("area", "kita-1"))  # the question is over: said so, 「設定」 one tap away
    assert over["text"].startswith("そのボタンの手続きは、もう終わっています")
    assert "action=settings" in quick_data(over)
    assert row(services, taro.user_id).garbage_area is None
    [bubble] = taro.taps("action=settings")
    assert "区：北区" in summary(bubble)


def test_settings_shows_everything_and_changes_one_thing(chat, services):
    taro = chat.resident()
    consented(taro)
    taro.taps(pick("district", "kita"))
    taro.taps(pick("area", "kita-1"))
    taro.taps("action=settings.none&step=children")
    taro.taps(pick("topics", "city_news"))
    taro.taps("action=settings.done&step=topics")
    taro.taps(pick("reminder", "06:30"))

    [bubble] = taro.says("設定")
    assert buttons(bubble) == [f"action=settings.edit&field={f}" for f in ("district", "area", "children", "topics",
                                                                          "reminder", "address")] \
        + ["action=language", "action=childcare.following", "action=delete_data"]
    assert texts(taro.taps(buttons(bubble)[0])) == ["お住まいの区を選んでください。"]
    reset, areas = taro.taps(pick("district", "minami"))
    assert reset["text"] == "区が変わったので、ごみの収集地区も選び直してください。"
    assert areas["text"].startswith("南区の")
    saved, bubble = taro.taps(pick("area", "minami-2"))
    assert saved["text"] == "変更しました。"
    assert summary(bubble).splitlines()[1:6] == ["区：南区", "ごみの収集地区：若葉台", "子ども：なし",
                                                 "受け取る情報：市のお知らせ", "お知らせの時刻：06:30"]

    taro.taps("action=settings.edit&field=reminder")
    assert "お知らせの時刻：未登録" in summary(taro.taps("action=settings.none&step=reminder")[1])
    taro.taps("action=settings.edit&field=topics")
    [bubble] = taro.taps(SKIP.format("topics"))  # nothing changed: just the summary
    assert "受け取る情報：市のお知らせ" in summary(bubble)
    saved = row(services, taro.user_id)
    assert (saved.district, saved.garbage_area, saved.reminder_time) == ("minami", "minami-2", None)
    assert conversations(services) == 0


def test_settings_asks_for_consent_first_and_no_keeps_nothing_more(chat, services):
    taro = chat.resident()
    [question] = taro.says("設定")
    assert "登録しますか" in question["text"]
    assert quick_data(question) == [YES, "action=settings.consent&answer=no"]
    [later] = taro.taps("action=settings.consent&answer=no")
    assert "「設定」" in later["text"]
    [again] = taro.taps("action=settings.edit&field=district")  # a stray button: consent still first
    assert "登録しますか" in again["text"]
    saved = row(services, taro.user_id)
    assert saved.consented_at is None and saved.district is None
    assert conversations(services) == 0


def test_english_and_easy_japanese_from_the_greeting(chat, services):
    john = chat.resident("John")
    john.follows()
    changed, question = john.taps("action=settings.language&lang=en")
    assert changed["text"] == "From now on I will answer in English."
    assert question["text"].startswith("Would you like to register")
    assert quick_labels(question) == ["Yes, register", "No / later"]
    thanks, district = john.taps(YES)
    assert district["text"] == "Which ward do you live in?" and "Kita Ward" in quick_labels(district)
    john.taps(pick("district", "kita"))
    john.taps(SKIP.format("area"))
    john.taps("action=settings.child&step=children", params={"date": "2020-09-09"})
    assert john.says("settings")[0]["text"].startswith("Children registered:")  # the question again
    john.says("stop")
    [bubble] = john.says("settings")
    assert "Children: born 09/2020" in summary(bubble)

    hana = chat.resident("はな")
    hana.follows()
    hana.taps("action=settings.language&lang=easy_ja")
    assert hana.taps(YES)[1]["text"] == "すんでいる くを えらんで ください。"


def test_a_conversation_left_too_long_says_so_and_keeps_the_answers(chat, services, clock):
    taro = chat.resident()
    consented(taro)
    taro.taps(pick("district", "higashi"))
    with services.sessions() as s:  # an hour and more passes
        state = s.scalars(select(ConversationState)).one()
        assert state.expires_at - clock() > timedelta(minutes=59)
        state.expires_at = clock() - timedelta(minutes=1)
        s.commit()
    expired, over = taro.taps(pick("area", "higashi-1"))
    assert "時間がたった" in expired["text"]
    assert "action=settings" in quick_data(over) and row(services, taro.user_id).garbage_area is None
    [bubble] = taro.taps("action=settings")
    assert "区：東区" in summary(bubble)


# -- deleting -----------------------------------------------------------------------------------
def test_delete_my_data_leaves_no_trace_of_the_user_id(chat, services, clock):
    taro = chat.resident()
    consented(taro)
    taro.taps(pick("district", "kita"))
    taro.taps(pick("area", "kita-1"))
    taro.taps("action=settings.child&step=children", params={"date": "2022-05-05"})
    taro.taps("action=settings.done&step=children")
    taro.taps(pick("topics", "garbage"))  # left mid-conversation on purpose
    with services.sessions() as s:  # a notice waiting to be sent to him
        delivery.create_push(s, source_key="notice:test", kind="notice",
                             messages={"*": [{"type": "text", "text": "北区のお知らせ"}]},
                             recipients=delivery.to_residents([taro.user_id]), now=clock())
        s.commit()
    hanako = chat.resident("山田 花子")
    consented(hanako)
    hanako.taps(pick("district", "chuo"))
    assert ("residents", "line_user_id") in places_holding(services.engine, taro.user_id)

    [confirm] = taro.taps("action=delete_data")  # the summary's button
    assert "元には戻せません" in confirm["text"]
    assert quick_data(confirm) == ["action=delete_data.confirm", "action=delete_data.cancel"]
    assert texts(taro.taps("action=delete_data.confirm")) == [
        "削除しました。あなたの情報はもう残っていません。また登録するときは、いつでも「設定」と送ってください。"]

    assert places_holding(services.engine, taro.user_id) == []
    with services.sessions() as s:
        assert s.scalars(select(Resident.line_user_id)).all() == [hanako.user_id]
        assert s.scalar(select(func.count()).select_from(ResidentChild)) == 0
        assert s.scalar(select(func.count()).select_from(ResidentTopic)) == 0
        assert s.scalar(select(func.count()).select_from(PushRecipient)) == 0
        assert s.scalar(select(Push.recipients_total)) == 1  # anonymous counts stay
        assert s.scalar(select(func.count()).select_from(ConversationState)) == 1  # Hanako's

    [question] = taro.says("設定")  # a stranger again
    assert "登録しますか" in question["text"]
    assert row(services, taro.user_id).consented_at is None


def test_deletion_can_be_called_off_and_answers_in_the_residents_language(chat, services):
    taro = chat.resident()
    consented(taro)
    taro.taps(pick("district", "kita"))
    taro.taps(QUIT)
    taro.says("データ削除")
    assert texts(taro.taps("action=delete_data.cancel"))[0].startswith("削除しませんでした")
    assert row(services, taro.user_id).district == "kita"

    john = chat.resident("John")
    john.follows()
    john.taps("action=settings.language&lang=en")
    assert john.says("delete my data")[0]["text"].startswith("This deletes everything")
    assert texts(john.taps("action=delete_data.confirm"))[0].startswith("Deleted.")
    assert row(services, john.user_id) is None


def test_typing_delete_in_the_middle_of_registration_still_leads_to_deletion(chat, services):
    taro = chat.resident()
    consented(taro)
    [ask] = taro.says("データ削除")  # answered at once; the registration waits behind a button
    assert "action=delete_data.confirm" in quick_data(ask)
    taro.taps("action=delete_data.confirm")
    assert row(services, taro.user_id) is None


def test_blocking_the_account_deletes_everything(chat, services):
    taro = chat.resident()
    consented(taro)
    taro.taps(pick("district", "kita"))
    taro.taps(pick("area", "kita-1"))
    taro.taps("action=settings.child&step=children", params={"date": "2022-05-05"})
    assert taro.blocks() == []
    assert places_holding(services.engine, taro.user_id) == []
    with services.sessions() as s:
        assert s.scalar(select(func.count()).select_from(ResidentChild)) == 0
        assert s.scalar(select(func.count()).select_from(ConversationState)) == 0


def test_purge_unfollowed_deletes_only_after_the_grace_period(services, clock):
    now = clock()
    with services.sessions() as s:
        def resident(user: str, unfollowed_hours_ago: float | None) -> None:
            s.add(Resident(line_user_id=user, language="ja", created_at=now, last_seen_at=now,
                           following=unfollowed_hours_ago is None, children=[ResidentChild(birth_month=24255)],
                           unfollowed_at=None if unfollowed_hours_ago is None else
                           now - timedelta(hours=unfollowed_hours_ago)))
        resident("U-long-gone", 49)
        resident("U-just-left", 1)
        resident("U-friend", None)
        s.commit()
        assert profile.purge_unfollowed(s, now, timedelta(hours=48)) == 1
        s.commit()
        assert s.scalars(select(Resident.line_user_id).order_by(Resident.line_user_id)).all() == [
            "U-friend", "U-just-left"]
        assert s.scalar(select(func.count()).select_from(ResidentChild)) == 2
        assert profile.purge_unfollowed(s, now, timedelta(0)) == 1
        s.commit()
        assert s.scalars(select(Resident.line_user_id)).all() == ["U-friend"]


def test_coming_back_within_a_grace_period_keeps_the_registration(chat, services, clock):
    taro = chat.resident()
    consented(taro)
    taro.taps(pick("district", "kita"))
    taro.taps(QUIT)
    with services.sessions() as s:  # blocked, and not purged yet
        s.scalars(select(Resident)).one().following = False
        s.commit()
    [welcome] = taro.follows()
    assert "おかえりなさい" in welcome["text"] and quick_data(welcome)[0] == "action=settings"
    saved = row(services, taro.user_id)
    assert saved.following and saved.unfollowed_at is None and saved.district == "kita"


# -- content ------------------------------------------------------------------------------------
def test_an_area_in_an_unknown_district_is_reported_in_garbage_areas_yaml(tmp_path):
    content_dir = tmp_path / "content"
    shutil.copytree(CONTENT, content_dir)
    path = content_dir / "garbage" / "areas.yaml"
    source = path.read_text(encoding="utf-8").replace("    district: minami\n", "    district: minamii\n", 1)
    path.write_text(source, encoding="utf-8")
    line = next(i for i, text in enumerate(source.splitlines(), 1) if "district: minamii" in text)
    result = CliRunner().invoke(main, ["content", "check", str(content_dir)])
    assert result.exit_code == 1
    assert f"garbage/areas.yaml:{line}: area minami-1: unknown district 'minamii'" in result.output, result.output


def test_content_check_points_at_bad_ids_in_settings_yaml(tmp_path):
    content_dir = tmp_path / "content"
    shutil.copytree(CONTENT, content_dir)
    path = content_dir / "settings.yaml"
    source = path.read_text(encoding="utf-8")
    source = source.replace("  - id: nishi\n", "  - id: chuo\n", 1)
    source = source.replace('"18:00", "19:00"', '"18:00", "19:60"', 1)
    source = source.replace("  - id: city_news\n", "  - id: citynews\n", 1)
    path.write_text(source, encoding="utf-8")
    lines = source.splitlines()

    def line_of(needle: str) -> int:
        return next(i for i, line in enumerate(lines, 1) if needle in line)

    result = CliRunner().invoke(main, ["content", "check", str(content_dir)])
    assert result.exit_code == 1
    assert f"settings.yaml:{line_of('reminder_times:')}: reminder_times.3: '19:60' is not a time of day" \
        in result.output
    # a value that is wrong in itself is reported first; the cross-references once it is fixed
    path.write_text(source.replace('"19:60"', '"19:00"'), encoding="utf-8")
    result = CliRunner().invoke(main, ["content", "check", str(content_dir)])
    second_chuo = [i for i, line in enumerate(lines, 1) if line == "  - id: chuo"][1]
    assert f"settings.yaml:{second_chuo}: districts.3.id: id 'chuo' is listed twice" in result.output
    assert f"settings.yaml:{line_of('topics:')}: topics: topics the city services need are missing: city_news" \
        in result.output
