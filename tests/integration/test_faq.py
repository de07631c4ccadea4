"""City-hall questions: prepared answers for the questions residents word their own way.

The held-out questions (tests/data/faq_heldout.txt, nobody's phrasings from the YAML, and
faq_real.txt / faq_real2.txt, questions real cities published) go through the router like any message; the services keep their own questions; what the
bot cannot answer is on the staff's list, text only.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.models import ConversationState
from handlers.faq.tables import FaqFeedback, UnansweredQuestion
from tests.conftest import quick_data, quick_labels
from tests.integration.test_admin_auth import login, staff  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def answered_id(messages: list[dict]) -> str | None:
    for data in (d for m in messages for d in quick_data(m)):
        if data.startswith("action=faq.feedback.yes&id="):
            return data.split("id=", 1)[1]
    return None


# Questions nobody on this project wrote reach their prepared answer: faq_heldout.txt (70
# everyday questions written after the search was first tuned, none copied from the YAML), and
# questions real municipalities published on their own FAQ pages, labelled by meaning, never
# tuned on: faq_real.txt (57, 21 municipalities) and faq_real2.txt (98, 43 municipalities,
# labelled blind by people who never ran the search). Measured on the code that added
# faq_real2: at once 92.9 / 63.2 / 73.5 %, reached 95.7 / 82.5 / 84.7 %, wrong 1.4 / 12.3 / 2.0 %.
REAL = ["faq_real.txt", "faq_real2.txt"]


@pytest.mark.parametrize("name, at_once, wrong", [
    ("faq_heldout.txt", 0.75, 0.05), *((name, 0.60, 0.15) for name in REAL),
])
def test_questions_nobody_here_wrote_reach_a_prepared_answer(name, at_once, wrong):
    """The issue's bar: the prepared answer reached, at once or by one tap among at most three
    choices; most of them at once, few wrong answers given with confidence, and every question
    told the contact on the staff's list."""
    from bench.faq import measure

    outcomes, listed = measure(ROOT / "tests" / "data" / name)
    total = len(outcomes)
    assert total >= 50
    kinds = {kind: sum(1 for o in outcomes if o.kind == kind) for kind in ("answered", "offered", "wrong")}
    reached = (kinds["answered"] + kinds["offered"]) / total
    print(f"{name}: {total} questions, answered at once {kinds['answered'] / total:.1%}, reached {reached:.1%}")
    assert reached >= 0.80, [o for o in outcomes if o.kind not in ("answered", "offered")]
    assert kinds["answered"] / total >= at_once
    assert kinds["wrong"] / total <= wrong
    missed = {o.question for o in outcomes if o.kind == "none"}
    assert missed <= set(listed)  # what was not answered is on the staff's list


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="beyond the issue's bar: real cities' questions answered at once, without a tap, in 80 % of "
    "cases; the search's first candidate is the right one for about 79 % of faq_real.txt, so no "
    "threshold reaches it: 63.2 % and 73.5 % at once",
)
def test_questions_real_cities_published_are_mostly_answered_without_a_tap():
    from bench.faq import measure

    outcomes = [o for name in REAL for o in measure(ROOT / "tests" / "data" / name)[0]]
    answered = sum(1 for o in outcomes if o.kind == "answered")
    assert len(outcomes) >= 100, "the real sets did not load"
    assert answered / len(outcomes) >= 0.80


def test_questions_nobody_prepared_get_no_pretended_answer_and_go_on_the_list():
    from bench.faq import measure

    outcomes, listed = measure(ROOT / "tests" / "data" / "faq_unprepared.txt")
    assert [o.question for o in outcomes if o.kind == "wrong"] == []  # "wrong": any answer given with confidence
    told_contact = {o.question for o in outcomes if o.kind == "none"}
    assert len(told_contact) >= 12 and told_contact <= set(listed)


def test_the_question_that_got_wakarimasen_now_gets_an_answer(chat):
    [answer] = chat.resident().says("住民票を取りたい")
    assert answer["text"].startswith("Q. 住民票の写しを取るには") and "300円" in answer["text"]
    assert answer["text"].endswith("この回答は役に立ちましたか？")
    assert quick_labels(answer)[:2] == ["はい", "いいえ"]


@pytest.mark.parametrize("lang, typed, start", [
    ("en", "My My Number card is lost", "Q. I lost my My Number card. What should I do?"),
    ("easy_ja", "いんかんを とうろく したい", "しつもん：いんかんを とうろく したいです。"),
])
def test_answers_come_in_the_residents_language(chat, lang, typed, start):
    hana = chat.resident()
    hana.taps(f"action=language.set&lang={lang}")
    [answer] = hana.says(typed)
    assert answer["text"].startswith(start)


@pytest.mark.parametrize("typed, service", [
    ("ペットボトル", "action=garbage"), ("粗大ごみ", "action=large_waste"), ("保育園の空き", "action=childcare"),
    ("避難所", "action=shelters"), ("スプレー缶の捨て方", "action=garbage"), ("明日のごみ", "action=garbage"),
])
def test_services_keep_their_questions(chat, services, typed, service):
    messages = chat.resident().says(typed)
    assert answered_id(messages) is None, typed
    with services.sessions() as s:
        assert s.scalars(select(UnansweredQuestion)).all() == []


def test_a_question_with_no_prepared_answer_gets_the_contact_and_goes_on_the_staff_list(chat, client, staff):
    taro = chat.resident()
    [answer] = taro.says("市長の給料はいくらですか")
    assert "わかりませんでした" in answer["text"] and "06-0000-0000" in answer["text"]
    taro.says("市長の給料はいくらですか")  # asked twice: counted, listed once
    staff("mori", "viewer")
    login(client, "mori")
    page = client.get("/admin/faq").get_data(as_text=True)
    assert "市長の給料はいくらですか" in page and taro.user_id not in page
    assert re.search(r"市長の給料はいくらですか</td>\s*<td class=\"num\">2</td>", page)
    assert "削除" not in page  # a viewer reads the list; editors delete


def test_editors_delete_questions_they_handled(chat, services, client, staff):
    chat.resident().says("市長の給料はいくらですか")
    chat.resident().says("市営プールの営業時間を知りたい")
    staff("hensyu", "editor")
    login(client, "hensyu")
    page = client.get("/admin/faq").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    with services.sessions() as s:
        first, second = s.scalars(select(UnansweredQuestion.id).order_by(UnansweredQuestion.id)).all()
    assert client.post(f"/admin/faq/unanswered/{first}/delete", data={"csrf_token": token}).status_code == 302
    with services.sessions() as s:
        assert s.scalars(select(UnansweredQuestion.id)).all() == [second]
    client.post("/admin/faq/unanswered/delete", data={"csrf_token": token, "id": [str(second)]})
    with services.sessions() as s:
        assert s.scalars(select(UnansweredQuestion)).all() == []


def test_no_means_the_question_goes_on_the_list_and_yes_is_counted(chat, services):
    taro = chat.resident()
    [helpful] = taro.says("マイナンバーカードを作りたいのですが")
    no = next(d for d in quick_data(helpful) if d.startswith("action=faq.feedback.no"))
    [sorry] = taro.taps(no)
    assert "お役に立てず" in sorry["text"]
    hana = chat.resident()
    [helpful] = hana.says("マイナンバーカードを作りたいのですが")
    [thanks] = hana.taps(next(d for d in quick_data(helpful) if d.startswith("action=faq.feedback.yes")))
    assert thanks["text"].startswith("ありがとうございます")
    with services.sessions() as s:
        [listed] = s.scalars(select(UnansweredQuestion)).all()
        [feedback] = s.scalars(select(FaqFeedback)).all()
    assert (listed.text, listed.reason) == ("マイナンバーカードを作りたいのですが", "unhelpful")
    assert (feedback.entry_id, feedback.helpful, feedback.unhelpful) == ("mynumber-apply", 1, 1)


def test_no_to_an_answer_offers_the_questions_the_search_passed_over(chat, services):
    # a real city's question (大崎市): the pension's answer comes first, the exemption was next
    asked = "国民年金の保険料を納めることができない場合はどうすればよいですか。"
    taro = chat.resident()
    [answer] = taro.says(asked)
    assert answered_id([answer]) == "nenkin"
    [sorry] = taro.taps(next(d for d in quick_data(answer) if d.startswith("action=faq.feedback.no")))
    assert sorry["text"].startswith("お役に立てず") and "次のどれか" in sorry["text"] and "代表電話" in sorry["text"]
    assert "action=faq.show&id=nenkin-exempt" in quick_data(sorry) and "action=contact" in quick_data(sorry)
    [exempt] = taro.taps("action=faq.show&id=nenkin-exempt")
    assert answered_id([exempt]) == "nenkin-exempt"
    with services.sessions() as s:
        [state] = s.scalars(select(ConversationState)).all()
        [listed] = s.scalars(select(UnansweredQuestion)).all()
    assert (state.data["question"], state.data["id"]) == (asked, "nenkin-exempt")  # はい/いいえ now about it
    assert (listed.text, listed.reason) == (asked, "unhelpful")  # the answer first given did not help
    [thanks] = taro.taps(next(d for d in quick_data(exempt) if d.startswith("action=faq.feedback.yes")))
    assert thanks["text"].startswith("ありがとうございます")


def test_no_after_a_neighbour_was_tapped_offers_the_others_not_the_answer_left(chat):
    hana = chat.resident()
    [answer] = hana.says("児童手当のことを知りたい")  # jido-teate, with jido-teate-pay as a chip
    assert answered_id([answer]) == "jido-teate"
    [pay] = hana.taps("action=faq.show&id=jido-teate-pay")
    [sorry] = hana.taps(next(d for d in quick_data(pay) if d.startswith("action=faq.feedback.no")))
    offered = [d.split("id=", 1)[1] for d in quick_data(sorry) if d.startswith("action=faq.show")]
    assert offered and "jido-teate" not in offered and "jido-teate-pay" not in offered


def test_no_to_an_older_answer_or_from_before_the_choices_were_kept_gives_the_contact(chat, services):
    taro = chat.resident()
    [first] = taro.says("住民票を取りたい")
    [second] = taro.says("国民年金の保険料を納めることができない場合はどうすればよいですか。")
    [sorry] = taro.taps(next(d for d in quick_data(first) if d.startswith("action=faq.feedback.no")))
    assert "次のどれか" not in sorry["text"]  # the older answer's いいえ: not the newer question's candidates
    [again] = taro.says("住民票を取りたい")
    with services.sessions() as s:  # a question remembered before the candidates were
        [state] = s.scalars(select(ConversationState)).all()
        state.data = {k: v for k, v in state.data.items() if k != "others"}
        s.commit()
    [sorry] = taro.taps(next(d for d in quick_data(again) if d.startswith("action=faq.feedback.no")))
    assert "お役に立てず" in sorry["text"] and "次のどれか" not in sorry["text"]


def test_no_to_a_question_tapped_from_the_intro_gives_the_contact(chat):
    hana = chat.resident()
    [shown] = hana.taps("action=faq.show&id=juminhyo")
    [sorry] = hana.taps(next(d for d in quick_data(shown) if d.startswith("action=faq.feedback.no")))
    assert "お役に立てず" in sorry["text"] and "次のどれか" not in sorry["text"]
    assert [d for d in quick_data(sorry) if d.startswith("action=faq.show")] == []


def test_a_question_typed_after_an_answer_is_answered_not_taken_for_feedback(chat):
    taro = chat.resident()
    taro.says("児童手当の申請をしたい")
    [answer] = taro.says("児童手当はいつ振り込まれますか")
    assert answer["text"].startswith("Q. 児童手当はいつ振り込まれますか")


def test_an_answer_picked_from_close_questions_offers_the_others_and_a_tap_answers_them(chat, services):
    hana = chat.resident()
    [answer] = hana.says("児童手当のことを知りたい")
    assert answer["text"].startswith("Q. 児童手当の申請方法を教えてください")
    assert "こちらですか" in answer["text"] and answer["text"].endswith("この回答は役に立ちましたか？")
    assert quick_labels(answer)[:2] == ["はい", "いいえ"]
    assert answered_id([answer]) == "jido-teate"
    neighbour = "action=faq.show&id=jido-teate-pay"
    assert neighbour in quick_data(answer)
    [other] = hana.taps(neighbour)
    assert other["text"].startswith("Q. 児童手当はいつ振り込まれますか")
    assert answered_id([other]) == "jido-teate-pay" and "こちらですか" not in other["text"]
    [thanks] = hana.taps(next(d for d in quick_data(other) if d.startswith("action=faq.feedback.yes")))
    assert thanks["text"].startswith("ありがとうございます")
    with services.sessions() as s:
        [feedback] = s.scalars(select(FaqFeedback)).all()
        assert s.scalars(select(UnansweredQuestion)).all() == []
    assert (feedback.entry_id, feedback.helpful) == ("jido-teate-pay", 1)


def test_a_neighbour_tapped_after_an_answer_is_what_the_question_is_recorded_as_answered_by(chat, services):
    hana = chat.resident()
    [answer] = hana.says("児童手当のことを知りたい")
    assert answered_id([answer]) == "jido-teate"

    def recorded():
        with services.sessions() as s:
            [state] = s.scalars(select(ConversationState)).all()
            return state.conversation, state.data["question"], state.data["id"]

    assert recorded() == ("faq_feedback", "児童手当のことを知りたい", "jido-teate")
    [other] = hana.taps("action=faq.show&id=jido-teate-pay")
    assert recorded() == ("faq_feedback", "児童手当のことを知りたい", "jido-teate-pay")
    [sorry] = hana.taps(next(d for d in quick_data(other) if d.startswith("action=faq.feedback.no")))
    assert "お役に立てず" in sorry["text"]
    with services.sessions() as s:
        [feedback] = s.scalars(select(FaqFeedback)).all()
        [listed] = s.scalars(select(UnansweredQuestion)).all()
    assert (feedback.entry_id, feedback.helpful, feedback.unhelpful) == ("jido-teate-pay", 0, 1)
    assert (listed.text, listed.reason) == ("児童手当のことを知りたい", "unhelpful")


def test_a_question_tapped_from_the_intro_changes_no_record(chat, services):
    taro = chat.resident()
    taro.says("児童手当のことを知りたい")
    taro.taps("action=faq.show&id=juminhyo")  # not one of the answer's neighbours
    with services.sessions() as s:
        [state] = s.scalars(select(ConversationState)).all()
    assert state.data["id"] == "jido-teate"


def test_a_choice_tapped_is_recorded_as_the_question_asked_and_no_lists_it(chat, services):
    taro = chat.resident()
    [choose] = taro.says("国民健康保険の手続き")  # 加入 or 脱退?
    choices = [d for d in quick_data(choose) if d.startswith("action=faq.show&id=")]
    assert len(choices) >= 2 and answered_id([choose]) is None
    [shown] = taro.taps(choices[1])
    tapped = choices[1].split("id=", 1)[1]
    assert answered_id([shown]) == tapped and shown["text"].endswith("この回答は役に立ちましたか？")
    [sorry] = taro.taps(next(d for d in quick_data(shown) if d.startswith("action=faq.feedback.no")))
    assert "お役に立てず" in sorry["text"]
    with services.sessions() as s:
        [listed] = s.scalars(select(UnansweredQuestion)).all()
        [feedback] = s.scalars(select(FaqFeedback)).all()
        assert s.scalars(select(ConversationState)).all() == []
    assert (listed.text, listed.reason) == ("国民健康保険の手続き", "unhelpful")
    assert (feedback.entry_id, feedback.unhelpful) == (tapped, 1)


def test_a_question_tapped_from_the_intro_is_recorded_as_itself_and_no_lists_it(chat, services):
    hana = chat.resident()
    [intro] = hana.says("よくある質問")
    chip = next(d for d in quick_data(intro) if d.startswith("action=faq.show&id="))
    [shown] = hana.taps(chip)
    question = shown["text"].split("\n", 1)[0].removeprefix("Q. ")
    [sorry] = hana.taps(next(d for d in quick_data(shown) if d.startswith("action=faq.feedback.no")))
    assert "お役に立てず" in sorry["text"]
    with services.sessions() as s:
        [listed] = s.scalars(select(UnansweredQuestion)).all()
    assert (listed.text, listed.reason) == (question, "unhelpful")


def test_yes_to_a_chosen_answer_lists_nothing(chat, services):
    taro = chat.resident()
    [choose] = taro.says("マイナンバーカード")
    [shown] = taro.taps(next(d for d in quick_data(choose) if d.startswith("action=faq.show&id=")))
    [thanks] = taro.taps(next(d for d in quick_data(shown) if d.startswith("action=faq.feedback.yes")))
    assert thanks["text"].startswith("ありがとうございます")
    with services.sessions() as s:
        assert s.scalars(select(UnansweredQuestion)).all() == []
        assert [f.helpful for f in s.scalars(select(FaqFeedback))] == [1]


@pytest.mark.parametrize("lang, typed, said, neighbour", [
    ("en", "I want to register my seal", "Maybe one of these", "inkan-lost"),
    ("easy_ja", "こくほに はいりたい", "こちらですか", "kokuho-leave"),
])
def test_the_close_questions_come_in_the_residents_language(chat, lang, typed, said, neighbour):
    hana = chat.resident()
    hana.taps(f"action=language.set&lang={lang}")
    [answer] = hana.says(typed)
    assert said in answer["text"] and f"action=faq.show&id={neighbour}" in quick_data(answer)


def test_close_questions_are_offered_as_choices(chat):
    [choose] = chat.resident().says("マイナンバーカード")
    assert choose["text"].startswith("次のどれかについてのご質問ですか")
    shown = [d for d in quick_data(choose) if d.startswith("action=faq.show")]
    assert 2 <= len(shown) <= 3 and "action=faq.show&id=mynumber-apply" in shown


def test_the_menu_opens_the_faq_with_popular_questions(chat):
    taro = chat.resident()
    [intro] = taro.taps("action=faq")
    assert "よくある質問にお答えします" in intro["text"]
    assert "action=faq.show&id=juminhyo" in quick_data(intro)
    [answer] = taro.taps("action=faq.show&id=juminhyo")
    assert answer["text"].startswith("Q. 住民票の写しを取るには")


def test_a_question_mentioning_city_hall_gets_its_answer_and_city_hall_alone_the_contact(chat):
    taro = chat.resident()
    [contact] = taro.says("市役所")
    assert "06-0000-0000" in contact["text"] and answered_id([contact]) is None
    answer = taro.says("市役所の駐車場は無料ですか")
    assert answered_id(answer) == "city-hall-access"
