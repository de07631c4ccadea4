"""Signed bodies at the edge of what LINE sends: never a 500, never a resident left unanswered.

Each case came from a review (issue 18): a body nested a thousand deep, an event id holding
NUL (PostgreSQL refuses NUL in text), a lone surrogate in a resident's text, an event of a
channel in standby, and one event twice in one body.
"""

import json

import pytest
from sqlalchemy import select

from bot.fakeline import webhook_events as ev
from bot.models import InboxEvent
from tests.conftest import signed_post

pytestmark = pytest.mark.contract


def rows(services) -> list[InboxEvent]:
    with services.sessions() as s:
        return list(s.scalars(select(InboxEvent).order_by(InboxEvent.id)))


def test_body_nested_a_thousand_deep_is_refused_not_a_500(client, services):
    deep = "[" * 1000 + "]" * 1000
    user = "U" + "1" * 32
    event = json.dumps(ev.text_event(user, "x"), ensure_ascii=False)
    bodies = [
        f'{{"destination":"{user}","events":{deep}}}',
        f'{{"destination":"{user}","events":[{event[:-1]},"extra":{deep}}}]}}',
        f'{{"destination":"{user}","deep":{deep},"events":[]}}',
    ]
    for body in bodies:
        response = signed_post(client, body.encode())
        assert response.status_code in (200, 400), (body[:120], response.status_code)
    services.dispatcher.drain()
    assert all(row.status in ("done", "failed", "ignored") for row in rows(services))


def test_event_nested_deep_but_parseable_is_ignored_and_its_neighbour_answered(chat, services):
    """Deep enough to hurt a recursive walk later, shallow enough for json to parse."""
    taro = chat.resident()
    odd = ev.text_event(taro.user_id, "メニュー", reply_token=taro.token())
    odd["extra"] = json.loads("[" * 400 + "]" * 400)
    good = ev.text_event(taro.user_id, "ヘルプ", reply_token=taro.token())
    chat.post(odd, good)
    assert [row.webhook_event_id for row in rows(services)] == [good["webhookEventId"]]
    [answer] = taro.received()
    assert "LINE窓口" in answer["text"]


def test_event_id_with_nul_is_ignored_at_the_edge(chat, services):
    taro = chat.resident()
    bad = ev.text_event(taro.user_id, "ヘルプ", reply_token=taro.token(), webhook_event_id="01H\x00X")
    good = ev.text_event(taro.user_id, "ヘルプ", reply_token=taro.token())
    response = chat.post(bad, good)
    assert response.get_json() == {"received": 2}
    assert len(taro.received()) == 1
    assert [row.webhook_event_id for row in rows(services)] == [good["webhookEventId"]]


def test_nul_anywhere_else_in_an_event_is_no_500(chat, services):
    taro = chat.resident()
    event = ev.text_event(taro.user_id, "ヘル\x00プ", reply_token=taro.token())
    event["type"] = "message"
    event["source"]["extra\x00"] = "\x00"
    chat.post(event)
    assert len(taro.received()) == 1
    assert [row.status for row in rows(services)] == ["done"]


def test_lone_surrogate_in_a_text_is_replaced_and_the_resident_answered(chat, line, services):
    taro = chat.resident()
    event = ev.text_event(taro.user_id, "PLACEHOLDER", reply_token=taro.token())
    body = ev.callback_body([event]).replace(b"PLACEHOLDER", rb"zz\ud800zz\udfff")
    response = signed_post(chat.client, body)
    assert response.status_code == 200, response.get_data(as_text=True)
    services.dispatcher.split_bodies()
    [row] = rows(services)
    assert row.payload["message"]["text"] == "zz\ufffdzz\ufffd"  # what the handlers will see
    services.dispatcher.drain()
    answers = taro.received()  # the fallback echoes the text: uncleaned, LINE could not take it
    assert len(answers) == 1
    json.dumps(answers, ensure_ascii=False).encode("utf-8")  # nothing unencodable was sent


def test_standby_events_are_stored_ignored_and_never_answered(chat, line, services):
    """Another channel is active for this chat (LINE's module channels): LINE sends every
    event with `mode: standby` and this channel must not answer it in any way."""
    taro = chat.resident()
    chat.post(ev.text_event(taro.user_id, "ヘルプ", reply_token=taro.token(), mode="standby"),
              ev.follow_event(taro.user_id, reply_token=taro.token(), mode="standby"),
              ev.postback_event(taro.user_id, "action=menu", reply_token=taro.token(), mode="standby"))
    assert taro.received() == []
    assert [row.status for row in rows(services)] == ["ignored"] * 3
    assert [r for r in line.requests if r.get("endpoint") in ("reply", "push", "multicast")] == []
    taro.says("ヘルプ")  # active again: answered as usual
    assert [row.status for row in rows(services)] == ["ignored"] * 3 + ["done"]


def test_same_event_twice_in_one_body_is_stored_once(chat, services):
    taro = chat.resident()
    event = ev.text_event(taro.user_id, "ヘルプ", reply_token=taro.token())
    response = chat.post(event, event)
    assert response.get_json() == {"received": 2}
    assert len(rows(services)) == 1
    assert len(taro.received()) == 1


def test_block_in_standby_still_forgets_the_resident(chat, line, services):
    """The one standby event acted on: it needs no answer, and a resident who blocked the
    account is forgotten whichever channel was active."""
    from bot.models import Resident

    taro = chat.resident()
    taro.says("ヘルプ")
    line.unfollow(taro.user_id)
    chat.post(ev.unfollow_event(taro.user_id, mode="standby"))
    with services.sessions() as s:
        assert s.scalars(select(Resident).where(Resident.line_user_id == taro.user_id)).first() is None
    assert [row.status for row in rows(services)] == ["done", "done"]
    assert [r["endpoint"] for r in line.requests if r.get("endpoint") in ("reply", "push")] == ["reply"]
