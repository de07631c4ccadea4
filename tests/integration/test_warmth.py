"""A resident who says hello, thanks, or something the bot does not know is never left
at a dead end: a kind word, the services as buttons, and a button that calls City Hall."""

from __future__ import annotations

import pytest

from tests.conftest import quick_labels


def actions(message):
    return [item["action"] for item in message.get("quickReply", {}).get("items", [])]


def calls_city_hall(message) -> bool:
    return any(a["type"] == "uri" and a["uri"] == "tel:06-0000-0000" for a in actions(message))


@pytest.mark.parametrize("typed", ["こんにちは", "おはようございます", "hello"])
def test_hello_is_answered_kindly_with_the_services(chat, typed):
    [answer] = chat.resident().says(typed)
    assert "わかりませんでした" not in answer["text"] and "understand" not in answer["text"]
    assert {"粗大ごみ", "保育園の空き", "避難所"} <= set(quick_labels(answer)) or \
           {"Large waste", "Shelters"} <= set(quick_labels(answer))
    assert calls_city_hall(answer)


@pytest.mark.parametrize("typed", ["ありがとう", "ありがとうございました", "助かりました"])
def test_thanks_is_answered_with_thanks(chat, typed):
    [answer] = chat.resident().says(typed)
    assert answer["text"].startswith("どういたしまして")


def test_a_question_nobody_understood_offers_the_services_and_a_call(chat):
    [answer] = chat.resident().says("ほげほげぴよぴよ")
    assert "わかりませんでした" in answer["text"]
    assert {"粗大ごみ", "保育園の空き", "災害情報", "避難所", "メニュー"} <= set(quick_labels(answer))
    assert calls_city_hall(answer)
    assert len(actions(answer)) <= 13


def test_how_to_use_lists_what_the_bot_can_do(chat):
    [answer] = chat.resident().says("使い方")
    for service in ("ごみの出し方", "粗大ごみ", "保育園の空き", "避難所"):
        assert service in answer["text"]


@pytest.mark.parametrize("typed", ["げんご", "ことば", "言葉"])
def test_easy_words_for_language_work(chat, typed):
    [answer] = chat.resident().says(typed)
    assert "Choose your language" in answer["text"]


def test_easy_japanese_never_nests_brackets(chat):
    hana = chat.resident("花")
    hana.taps("action=language.set&lang=easy_ja")
    for typed in ("ソファ (3人掛け以上)", "ほげほげ", "ヘルプ"):
        for message in hana.says(typed):
            text = message.get("text", "")
            depth, deepest = 0, 0
            for char in text:
                depth += char in "「（(【『"
                deepest = max(deepest, depth)
                depth -= char in "」）)】』" and depth > 0
            assert deepest <= 1, text


def test_a_resident_whose_line_is_in_english_is_greeted_in_english(chat):
    john = chat.resident("John", language="en")  # LINE's profile says English
    [welcome] = john.follows()
    assert welcome["text"].startswith("Welcome to")
    [answer] = john.says("hello")
    assert answer["text"].startswith("Hello!")


def test_a_resident_whose_line_is_in_japanese_is_greeted_in_japanese(chat):
    [welcome] = chat.resident("花子", language="ja").follows()
    assert not welcome["text"].isascii()


def test_line_is_asked_a_new_residents_language_with_no_transaction_waiting_on_it(chat, services, monkeypatch):
    """Get profile can take up to the API timeout: no transaction of the bot's is open while
    it is asked (a read one holds PostgreSQL's snapshot and SQLite's WAL back meanwhile)."""
    from sqlalchemy import event

    open_ = set()
    event.listen(services.engine, "begin", lambda conn: open_.add(id(conn)))
    for ended in ("commit", "rollback"):
        event.listen(services.engine, ended, lambda conn: open_.discard(id(conn)))
    seen = []
    asked = services.messenger.profile

    def profile(user_id):
        seen.append(len(open_))
        return asked(user_id)

    monkeypatch.setattr(services.messenger, "profile", profile)
    john = chat.resident("John", language="en")
    [answer] = john.says("hello")
    assert answer["text"].startswith("Hello!")
    assert seen == [0]
    john.says("hello")  # known now: LINE is not asked again
    assert seen == [0]
