"""The router's promises: fixed order, first match wins, conflicts fail at start-up."""

from pathlib import Path

import pytest

from bot.bootstrap import build_router, content_schema
from bot.config import Config
from bot.content.models import Keywords
from bot.content.store import load_content
from bot.conversation import Conversation
from bot.router import Incoming, Intent, RouteConflict, Router

CONTENT = Path(__file__).resolve().parents[2] / "content"


@pytest.fixture(scope="module")
def router():
    return build_router(Config(env="test"))


@pytest.fixture(scope="module")
def content(router):
    return load_content(CONTENT, content_schema(build_router(Config(env="test"))))


def route(router, content, text=None, postback=None, conversation=None):
    incoming = Incoming("postback", action=postback) if postback else Incoming("text", text=text)
    return router.match(incoming, content, conversation)


def test_keyword_then_fuzzy_then_fallback(router, content):
    assert route(router, content, "メニュー").how == "keyword"
    assert route(router, content, "ﾒﾆｭｰ").how == "keyword"
    near = route(router, content, "メニュ")
    assert (near.how, near.suggestions) == ("fallback", ("menu",))
    fuzzy = route(router, content, "hw to use")
    assert (fuzzy.how, fuzzy.intent, fuzzy.keyword) == ("fuzzy", "help", "how to use") and fuzzy.score >= 88
    assert route(router, content, "全然関係ない話").how == "fallback"
    assert route(router, content, "全然関係ない話").suggestions == ()


def test_postback_routes_exactly(router, content):
    m = route(router, content, postback="language.set")
    assert (m.how, m.intent, m.handler.__name__) == ("postback", "language", "set_language")
    assert route(router, content, postback="language.se").how == "fallback"


def test_two_intents_named_in_one_message_are_offered_not_guessed(router, content):
    m = route(router, content, "メニューと使い方")
    assert m.how == "fallback" and set(m.suggestions) == {"menu", "help"}


def test_a_keyword_inside_a_longer_one_is_not_a_second_intent():
    from bot.router import _named_in

    exact = {"訓練登録": ("testers", "訓練登録"), "登録": ("settings", "登録"), "メニュー": ("menu", "メニュー")}
    keys = sorted(exact, key=len, reverse=True)
    assert _named_in("訓練登録1234", keys, exact) == {"testers": "訓練登録"}
    assert _named_in("訓練登録して登録も", keys, exact) == {"testers": "訓練登録", "settings": "登録"}
    assert _named_in("メニューと登録", keys, exact) == {"menu": "メニュー", "settings": "登録"}


def test_active_conversation_comes_first_and_other_taps_pass_through():
    intent = Intent("booking", content=None)
    conv = intent.conversation(Conversation("booking", "booking"))

    @conv.state("ask_date")
    def ask_date(reply):
        pass

    @intent.postback("other")
    def other(reply):
        pass

    @intent.on("fallback")
    def fallback(reply):
        pass

    r = Router()
    r.include(intent)

    class State:
        conversation, state = "booking", "ask_date"

    assert r.match(Incoming("text", text="ヘルプ"), None, State()).how == "conversation"
    assert r.match(Incoming("postback", action="booking.pick"), None, State()).how == "conversation"
    assert r.match(Incoming("postback", action="other"), None, State()).how == "postback"


def test_registering_a_key_twice_fails():
    a, b = Intent("a", content=None), Intent("b", content=None)

    @a.postback("same")
    def one(reply):
        pass

    @b.postback("same")
    def two(reply):
        pass

    r = Router()
    r.include(a)
    with pytest.raises(RouteConflict, match="'same' is already registered by .*one"):
        r.include(b)
    with pytest.raises(RouteConflict, match="intent 'a' registered twice"):
        r.include(a)


def test_handler_parameters_are_checked_at_registration():
    intent = Intent("x", content=None)

    @intent.entry
    def wants_too_much(reply, db_connection):
        pass

    with pytest.raises(TypeError, match="asks for 'db_connection'"):
        Router().include(intent)


def test_routes_table_lists_the_matching_order(router):
    orders = [row[0] for row in router.table()]
    assert orders == sorted(orders, key=lambda o: "12345-".index(o[0]))  # events and schedules last
    [fallback] = [row for row in router.table() if row[0] == "5 fallback"]
    assert fallback[1].startswith("fallback: the FAQ's prepared answer")  # what a resident's stray question meets
    assert fallback[2:] == ("fallback", "handlers.fallback.did_you_mean")


def test_item_names_do_not_hijack_everyday_sentences(router, content):
    assert route(router, content, "メニューお願いします").intent == "menu"  # 「いし」 is an item name
    assert route(router, content, "設定お願いします").intent == "settings"
    assert route(router, content, "電話").intent == "contact"
    assert route(router, content, "割れたお皿").intent == "garbage"
    assert route(router, content, "おいしい").how == "fallback"


def test_an_interrupting_intent_is_answered_even_during_a_conversation(content):
    booking = Intent("booking", content=None)
    conv = booking.conversation(Conversation("booking", "booking"))

    @conv.state("ask_date")
    def ask_date(reply):
        pass

    shelters = Intent("shelters", interrupts=True)

    @shelters.entry
    def ask_location(reply):
        pass

    @booking.on("fallback")
    def fallback(reply):
        pass

    r = Router()
    r.include(booking)
    r.include(shelters)

    class State:
        conversation, state = "booking", "ask_date"

    class Doc:
        keywords = Keywords(ja=["避難所"])
        label = None

    class Content:
        version = "x"

        def intents(self):
            return {"shelters": Doc()}

    assert r.match(Incoming("text", text="近くの避難所は？"), Content(), State()).handler is ask_location
    assert r.match(Incoming("text", text="12月3日"), Content(), State()).handler is ask_date
