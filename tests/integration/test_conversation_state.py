"""Multi-step conversations: state in the database, each step committed, expiry polite."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot import create_app
from bot.bootstrap import bootstrap, handler_intents
from bot.conversation import Conversation
from bot.models import ConversationState
from bot.router import Intent
from tests.conftest import Chat, texts


def survey_intent() -> Intent:
    """A two-question survey, as a city service would write one."""
    intent = Intent("survey", content=None)
    conv = intent.conversation(Conversation("survey", "survey", expired_text="messages.error"))

    @intent.postback("survey")
    def start(reply, conversation):
        conversation.start("survey", "ward")
        reply("お住まいの区は？")

    @conv.state("ward")
    def ward(reply, conversation, text):
        conversation.goto("children", ward=text)
        reply(f"{text}ですね。お子さんは何人？")

    @conv.state("children")
    def children(reply, conversation, text):
        data = conversation.data
        conversation.end()
        reply(f"{data['ward']}、{text}人。ありがとうございました。")

    return intent


@pytest.fixture
def make_chat(config, clock, line):
    made = []

    def make():
        svc = bootstrap(config, now=clock, intents=handler_intents() + [survey_intent()])
        made.append(svc)
        return Chat(create_app(services=svc).test_client(), svc, line)
    yield make
    for svc in made:
        svc.close()


def test_steps_survive_a_restart_and_take_precedence_over_keywords(make_chat):
    chat = make_chat()
    taro = chat.resident()
    assert texts(taro.taps("action=survey")) == ["お住まいの区は？"]
    assert texts(taro.says("メニュー")) == ["メニューですね。お子さんは何人？"]  # the conversation owns the text

    restarted = make_chat()
    taro.chat = restarted
    assert texts(taro.says("2")) == ["メニュー、2人。ありがとうございました。"]
    with restarted.services.sessions() as s:
        assert s.scalars(select(ConversationState)).all() == []
    assert taro.says("メニュー")[0]["type"] == "flex"  # back to normal routing


def test_taps_elsewhere_leave_the_conversation_waiting(make_chat):
    chat = make_chat()
    taro = chat.resident()
    taro.taps("action=survey")
    assert "06-0000-0000" in taro.taps("action=contact")[0]["text"]
    assert texts(taro.says("北区")) == ["北区ですね。お子さんは何人？"]


def test_a_lapsed_conversation_says_so_and_routes_normally(make_chat, clock):
    chat = make_chat()
    taro = chat.resident()
    taro.taps("action=survey")
    with chat.services.sessions() as s:  # 31 minutes pass (the resident's phone clock needn't)
        state = s.scalars(select(ConversationState)).one()
        assert state.expires_at - clock() > timedelta(minutes=29)
        state.expires_at = clock() - timedelta(minutes=1)
        s.commit()
    answer = taro.says("ヘルプ")
    assert answer[0]["text"].startswith("申し訳ありません")  # the conversation's expired text
    assert "LINE窓口" in answer[1]["text"]
    with chat.services.sessions() as s:
        assert s.scalars(select(ConversationState)).all() == []
