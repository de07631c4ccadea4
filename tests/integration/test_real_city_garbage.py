"""Garbage answers for a real city nobody here wrote: Matsudo's published 5374 data
(tests/data/5374/matsudo), imported the way README tells a city to, asked in ja, en and
やさしい日本語 through the webhook.

Readings, spellings and listed names reach the item through the router (it asks the item
dictionary itself); imported names the city has not translated are marked as Japanese in
English answers instead of being passed off as English.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.garbage import onboard
from bot import create_app
from bot.bootstrap import bootstrap
from tests.conftest import Chat, quick_data

MATSUDO = Path(__file__).resolve().parents[1] / "data" / "5374" / "matsudo"


@pytest.fixture(scope="module")
def matsudo_content(tmp_path_factory) -> Path:
    return onboard(MATSUDO, tmp_path_factory.mktemp("matsudo"))


@pytest.fixture
def matsudo(matsudo_content, config, clock, line):
    svc = bootstrap(config.with_(content_dir=str(matsudo_content)), now=clock)
    yield Chat(create_app(services=svc).test_client(), svc, line)
    svc.close()


@pytest.mark.parametrize("typed", ["アイロン", "あいろん", "ｱｲﾛﾝ", "アイロンの捨て方は？"])
def test_a_resident_asks_for_an_item_any_way(matsudo, typed):
    [answer] = matsudo.resident().says(typed)
    assert answer["text"].startswith("「アイロン」は【燃やさないごみ】です。")


def test_a_reading_finds_a_kanji_name_and_several_entries_are_offered(matsudo):
    [answer] = matsudo.resident().says("かんでんち")  # 乾電池: その他 (the shop) in Matsudo
    assert answer["text"].startswith("「乾電池」は【その他】です。")
    [choices] = matsudo.resident().says("ICレコーダー")  # listed twice: small appliances and 燃やさないごみ
    assert sum("action=garbage.item&" in d for d in quick_data(choices)) >= 2


def test_a_name_listed_with_others_is_found_by_one_of_them(matsudo):
    [answer] = matsudo.resident().says("ガス台")  # 「ガステーブル・ガス台」
    assert answer["text"].startswith("「ガステーブル・ガス台」は【粗大ごみ】です。")


def test_english_marks_what_the_city_has_not_translated(matsudo):
    john = matsudo.resident("John")
    john.taps("action=language.set&lang=en")
    [answer] = john.says("アイロン")
    assert answer["text"].startswith('"アイロン (in Japanese)" goes out as: 燃やさないごみ (in Japanese).')


def test_easy_japanese_answers_too(matsudo):
    hana = matsudo.resident("花")
    hana.taps("action=language.set&lang=easy_ja")
    [answer] = hana.says("あいろん")
    assert answer["text"].startswith("「アイロン」は【燃やさないごみ】です。")
