"""Handlers are plain functions: hand them fakes by name and look at what they did."""

from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.bootstrap import build_router, content_schema
from bot.config import Config
from bot.content.store import load_content
from bot.dispatch import Reply
from bot.router import Match
from handlers import fallback, language

CONTENT = Path(__file__).resolve().parents[2] / "content"


@pytest.fixture(scope="module")
def content():
    return load_content(CONTENT, content_schema(build_router(Config(env="test"))))


def test_language_set_changes_the_resident_and_answers_in_the_new_language(content):
    reply, resident = Reply(), SimpleNamespace(language="ja")
    language.set_language(reply=reply, content=content, resident=resident, params={"lang": "easy_ja"}, lang="ja")
    assert resident.language == "easy_ja"
    assert reply.messages == [{"type": "text", "text": "これから やさしい にほんごで おしらせ します。"}]


def test_language_set_with_a_made_up_language_just_asks_again(content):
    reply, resident = Reply(), SimpleNamespace(language="en")
    language.set_language(reply=reply, content=content, resident=resident, params={"lang": "klingon"}, lang="en")
    assert resident.language == "en"
    assert reply.messages[0]["text"].startswith("Choose your language.")


def test_did_you_mean_offers_suggested_intents_first_then_the_usual_way_out(content):
    reply = Reply()
    match = Match(handler=fallback.did_you_mean, intent="fallback", how="fallback", suggestions=("contact", "help"))
    fallback.did_you_mean(reply=reply, content=content, lang="en", match=match, text="contakt", location=None)
    [message] = reply.messages
    assert [i["action"]["data"] for i in message["quickReply"]["items"]] == ["action=contact", "action=help", "action=menu"]
