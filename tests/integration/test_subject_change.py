"""A resident in the middle of one conversation asks about something else: the other
service answers, and a button takes them back to the question they were at.

One test per conversation (large-waste booking, nursery search, registration, report,
what to do now in a disaster),
plus what the driver owns for all of them: a step that takes any words keeps them, a
button of a conversation that is over says so, and the way back after the timeout.
"""

from sqlalchemy import select

from bot.models import ConversationState
from tests.conftest import quick_data, quick_labels, texts
from tests.integration.test_reports import phone_photo


def state_of(services):
    """(conversation, state, paused) of the live conversation, else of the one waiting."""
    with services.sessions() as session:
        rows = session.scalars(select(ConversationState)).all()
        rows.sort(key=lambda row: bool(row.data.get("_paused")))
        return (rows[0].conversation, rows[0].state, bool(rows[0].data.get("_paused"))) if rows else None


def waiting(services, name):
    """(state, paused) of the resident's row of conversation `name`, None if there is none."""
    with services.sessions() as session:
        row = session.scalars(select(ConversationState).where(ConversationState.conversation == name)).first()
        return (row.state, bool(row.data.get("_paused"))) if row else None


def resume_button(message):
    return next(d for d in quick_data(message) if d.startswith("action=conversation.resume"))


def test_mid_booking_a_nursery_question_is_answered_and_the_booking_waits(chat, services):
    taro = chat.resident()
    [ask] = taro.says("粗大ごみを出したい")
    assert state_of(services) == ("large_waste", "area", False)
    answer = taro.says("住民票を取りたい")
    assert "住民票" in " ".join(texts(answer)) and "粗大ごみの品物" not in " ".join(texts(answer))
    assert quick_labels(answer[-1])[0] == "粗大ごみの申し込みに戻る"
    assert waiting(services, "large_waste") == ("area", True)
    # while paused, the next question is routed as a new one
    assert "ペットボトル" in " ".join(texts(taro.says("ペットボトル")))
    [again] = taro.taps(resume_button(answer[-1]))
    assert again["text"] == ask["text"]  # the question they were at, word for word
    assert state_of(services) == ("large_waste", "area", False)


def test_mid_search_a_garbage_question_is_answered_and_the_search_waits(chat, services):
    hanako = chat.resident()
    [ask] = hanako.says("保育園の空き")
    assert state_of(services)[0] == "childcare"
    answer = hanako.says("電池の捨て方")
    assert "電池" in " ".join(texts(answer))
    assert "保育園さがしに戻る" in quick_labels(answer[-1])
    [again] = hanako.taps(resume_button(answer[-1]))
    assert again["text"] == ask["text"]
    assert state_of(services)[2] is False


def test_mid_registration_a_disaster_question_is_answered_and_registration_waits(chat, services):
    taro = chat.resident()
    taro.follows()
    ask = taro.taps("action=settings.consent&answer=yes")[-1]
    step = state_of(services)
    assert step[0] == "settings"
    answer = taro.says("災害情報")
    assert "災害" in " ".join(texts(answer))
    assert "登録の続きに戻る" in quick_labels(answer[-1])
    [again] = taro.taps(resume_button(answer[-1]))
    assert again["text"] == ask["text"]
    assert state_of(services) == step


def test_mid_report_a_question_is_answered_and_the_report_waits(chat, services):
    taro = chat.resident()
    ask = taro.says("道路に穴があいています")[-1]
    assert state_of(services)[0] == "report"
    answer = taro.says("保育園の空きを知りたい")  # a nursery search starts; the report waits
    assert state_of(services)[0] == "childcare"
    assert "通報の続きに戻る" in quick_labels(answer[-1])
    [again] = taro.taps(resume_button(answer[-1]))
    assert again["text"] == ask["text"]
    assert state_of(services) == ("report", "photo", False)
    with services.sessions() as session:  # the search gave way: one live conversation
        assert len(session.scalars(select(ConversationState)).all()) == 1


def test_mid_disaster_advice_a_garbage_question_is_answered_and_the_advice_waits(chat, services):
    from tests.integration.test_disaster import declare, resident_in

    declare(services, ["kita"], hazard="flood", level=4)
    hana = resident_in(chat, services, "kita")
    ask = hana.says("いま何をすれば")[-1]
    assert state_of(services) == ("advice", "where", False)
    answer = hana.says("ペットボトル")
    assert "ペットボトル" in " ".join(texts(answer))
    assert "「いま何をすれば」に戻る" in quick_labels(answer[-1])
    again = hana.taps(resume_button(answer[-1]))[-1]  # (the incident's banner line comes first)
    assert again["text"] == ask["text"]
    assert state_of(services) == ("advice", "where", False)


def test_a_step_that_takes_any_words_keeps_them_and_leaves_only_for_a_keyword(chat, services):
    taro = chat.resident()
    taro.says("道路に穴があいています")
    taro.sends_image(phone_photo())
    ask = taro.taps("action=report.next&step=photo")[-1]
    assert state_of(services)[:2] == ("report", "place")
    answer = taro.says("ごみ")  # another service's keyword itself leaves
    assert waiting(services, "report") == ("place", True)
    [again] = taro.taps(resume_button(answer[-1]))
    assert again["text"] == ask["text"]
    taro.says("ごみ置き場の横、住民票の窓口の向かい")  # names other services, but is a place
    assert state_of(services)[0] == "report" and state_of(services)[1] != "place"
    with services.sessions() as session:
        row = session.scalars(select(ConversationState)).one()
        assert row.data["place"] == "ごみ置き場の横、住民票の窓口の向かい"


def test_a_button_of_a_conversation_that_is_over_says_so(chat, services, clock):
    taro = chat.resident()
    hanako = taro
    [ask] = hanako.says("保育園の空き")
    old = next(d for d in quick_data(ask) if d.startswith("action=childcare.ask."))
    hanako.says("やめる")
    [said] = taro.taps(old)
    assert "終わっています" in said["text"]
    assert state_of(services) is None


def test_the_way_back_after_the_timeout_says_it_is_over(chat, services, clock):
    taro = chat.resident()
    taro.says("粗大ごみを出したい")
    answer = taro.says("住民票を取りたい")
    clock.advance(hours=2)
    [said] = taro.taps(resume_button(answer[-1]))
    assert "終わっています" in said["text"]
