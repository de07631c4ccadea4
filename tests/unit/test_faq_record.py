"""What is worth a place on the staff's list of questions the FAQ could not answer."""

from __future__ import annotations

import pytest

from handlers.faq.record import is_question


@pytest.mark.parametrize("text", ["住民票", "マイナ保険証", "マイナンバーカード", "パスポート", "ｺﾝﾋﾞﾆ 納付",
                                  "How do I renew my passport?"])
def test_a_word_with_kanji_or_katakana_is_a_question(text):
    # katakana alone counts too: the analyser folds マイナンバーカード to hiragana, the text keeps it
    assert is_question(text)


@pytest.mark.parametrize("text", ["ありがとう", "ほげほげ", "ア", "ありがとネ", "hello", "？？"])
def test_greetings_and_stray_letters_are_not(text):
    assert not is_question(text)
