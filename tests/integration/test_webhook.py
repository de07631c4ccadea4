"""The webhook's rules: what is refused, what is stored, and that nothing is lost."""

import json

import pytest
from sqlalchemy import func, select

from bot import create_app
from bot.bootstrap import bootstrap
from bot.fakeline import webhook_events as ev
from bot.models import InboxEvent
from tests.conftest import SECRET, signed_post, texts

pytestmark = pytest.mark.contract


def stored(services) -> int:
    with services.sessions() as s:
        return s.scalar(select(func.count()).select_from(InboxEvent))


def test_missing_or_wrong_signature_is_refused_and_nothing_is_stored(client, services, line):
    user = line.add_user("x")
    body = ev.callback_body([ev.text_event(user, "メニュー", reply_token=line.mint_reply_token(user))])
    assert client.post("/callback", data=body).status_code == 400
    assert signed_post(client, body, secret="another-channels-secret").status_code == 400
    tampered = body.replace("メニュー".encode(), "ヘルプ".encode())
    assert client.post("/callback", data=tampered,
                       headers={"X-Line-Signature": ev.signature(SECRET, body)}).status_code == 400
    services.dispatcher.drain()
    assert stored(services) == 0
    assert line.messages_for(user) == []


def test_signed_body_that_is_not_json_is_400(client, services):
    for body in (b"not json", b"\xff\xfe\x00", b'{"events": "nope"}', b"[]", b'{"destination": "U1"}'):
        assert signed_post(client, body).status_code == 400, body
    assert stored(services) == 0


def test_body_over_one_mebibyte_is_413(client, services):
    event = ev.text_event("U" + "1" * 32, "あ" * 10)
    body = ev.callback_body([event] * 1) + b" " * (1024 * 1024)
    assert signed_post(client, body).status_code == 413
    assert stored(services) == 0


def test_empty_events_from_the_console_verify_button_is_200(client):
    assert signed_post(client, ev.callback_body([])).status_code == 200


def test_unknown_event_types_are_logged_ignored_and_acknowledged(chat, services, caplog):
    taro = chat.resident()
    odd = {**ev.text_event(taro.user_id, "x"), "type": "somethingNew"}
    join = {"type": "join", "mode": "active", "timestamp": odd["timestamp"], "webhookEventId": ev.new_ulid(),
            "deliveryContext": {"isRedelivery": False}, "replyToken": "r" * 32,
            "source": {"type": "group", "groupId": "C" + "0" * 32}}
    caplog.set_level("INFO")
    chat.post(odd, join)
    assert "ignoring unknown or malformed 'somethingNew' event" in caplog.text
    assert taro.received() == []


def test_redelivered_event_is_processed_once(chat, line):
    taro = chat.resident()
    event = ev.text_event(taro.user_id, "ヘルプ", reply_token=taro.token())
    chat.post(event)
    chat.post(ev.as_redelivery(event))
    chat.post(event, event)  # and twice in one body
    assert len(taro.received()) == 1


def test_ack_does_not_wait_for_line(chat, line, services):
    """The 200 goes out while the reply to LINE is still hanging."""
    import time

    taro = chat.resident()
    line.inject("reply", latency=1.5)
    started = time.monotonic()
    response = signed_post(chat.client, ev.callback_body([ev.text_event(taro.user_id, "ヘルプ", reply_token=taro.token())]))
    assert response.status_code == 200
    assert time.monotonic() - started < 1.0
    services.dispatcher.drain()
    assert len(taro.received()) == 1


def test_crash_between_ack_and_processing_is_recovered_at_restart(config, clock, line):
    """The process dies after the 200: the stored event is answered by the next process,
    by push because the reply token has expired by then, and only once."""
    first = bootstrap(config, now=clock)  # the web process: it stores, no worker runs before the crash
    client = create_app(services=first).test_client()
    user = line.add_user("太郎")
    body = ev.callback_body([ev.text_event(user, "問い合わせ", reply_token=line.mint_reply_token(user))])
    assert signed_post(client, body).status_code == 200
    first.close()
    assert line.messages_for(user) == []

    clock.advance(minutes=3)  # the restart takes a while: the reply token is gone
    second = bootstrap(config, now=clock)
    try:
        assert second.dispatcher.work_once()
        assert not second.dispatcher.work_once()
    finally:
        second.close()
    delivered = line.messages_for(user)
    assert [d["via"] for d in delivered] == ["push", "push"]
    assert texts([d["message"] for d in delivered])[0] == "お返事が遅くなりました。"
    assert "06-0000-0000" in delivered[1]["message"]["text"]


def test_claimed_event_of_a_dead_process_is_taken_over_after_its_lease(config, clock, line, services):
    user = line.add_user("花子")
    raw = ev.text_event(user, "ヘルプ", reply_token=line.mint_reply_token(user))
    from datetime import timedelta

    from bot import inbox

    with services.sessions() as s:
        [inbox_id] = inbox.store_events(s, [raw], clock()).inserted
        s.commit()
        assert inbox.claim(s, inbox_id, clock(), timedelta(seconds=60)) is not None  # then the claimant dies
        assert inbox.claim(s, inbox_id, clock(), timedelta(seconds=60)) is None
    clock.advance(seconds=30)
    assert not services.dispatcher.work_once()  # the lease still holds
    clock.advance(seconds=config.inbox_lease_seconds)
    assert services.dispatcher.work_once()
    assert len(line.messages_for(user)) == 2  # late note + answer, by push


def test_reply_token_refused_falls_back_to_push(chat, line):
    taro = chat.resident()
    token = taro.token()
    line.mint_reply_token(taro.user_id)
    event = ev.text_event(taro.user_id, "ヘルプ", reply_token="0" * 32)  # a token LINE never issued
    chat.post(event)
    delivered = line.messages_for(taro.user_id)
    assert [d["via"] for d in delivered] == ["push", "push"]
    assert token  # the real one stays unused


def test_line_500_on_reply_is_retried_and_delivered_once(chat, line, services):
    taro = chat.resident()
    line.inject("reply", status=500, count=1)
    taro.says("ヘルプ")
    assert taro.received() == []
    with services.sessions() as s:
        assert s.scalars(select(InboxEvent.status)).one() == "answered"
    services.dispatcher.process(1)
    [answer] = taro.received()
    assert "LINE窓口" in answer["text"]
    services.dispatcher.process(1)
    assert taro.received() == []


def test_lost_push_response_is_not_sent_twice(chat, line, clock, services):
    """LINE delivered the push but the answer got lost: the retry, with the same key, is a 409."""
    taro = chat.resident()
    line.inject("push", lose_response=True, count=1)
    clock.advance(minutes=5)  # reply token expired: the answer goes by push
    from bot import inbox

    with services.sessions() as s:
        [inbox_id] = inbox.store_events(s, [ev.text_event(taro.user_id, "ヘルプ", reply_token=taro.token())],
                                        clock()).inserted
        s.commit()
    services.dispatcher.process(inbox_id)
    services.dispatcher.process(inbox_id)
    assert len(taro.received()) == 2  # the late note and the answer, once
    with services.sessions() as s:
        assert s.get(InboxEvent, inbox_id).status == "done"


def test_handler_crash_apologises_and_records_the_error(chat, services, monkeypatch, caplog):
    import handlers.help as help_module

    def broken(reply, content, lang):
        raise RuntimeError("boom")

    monkeypatch.setitem(services.router.entries, "help",
                        services.router.entries["help"].__class__("help", broken, "entry", "help"))
    services.router._parameters[broken] = ("reply", "content", "lang")
    taro = chat.resident()
    [answer] = taro.says("ヘルプ")
    assert "うまく処理できませんでした" in answer["text"]
    with services.sessions() as s:
        row = s.scalars(select(InboxEvent)).one()
        assert row.status == "failed" and "boom" in row.error
    assert help_module  # the real handler is untouched


def test_every_request_the_bot_sent_validated_against_the_spec(chat, line):
    taro = chat.resident()
    for word in ("メニュー", "ヘルプ", "言語", "問い合わせ", "めにゅ", "zzz"):
        taro.says(word)
    taro.sends_sticker()
    sdk_requests = [r for r in line.requests if str(r.get("userAgent", "")).startswith("line-bot-sdk-python")]
    assert len(sdk_requests) >= 7
    assert all(r["valid"] for r in sdk_requests), json.dumps(sdk_requests, ensure_ascii=False)[:2000]


def test_reply_whose_answer_was_lost_is_not_pushed_again(chat, line, services):
    """LINE delivered the reply but the bot saw a 500: the retry finds the token used and
    stops there, instead of pushing the same answer a second time."""
    taro = chat.resident()
    line.inject("reply", lose_response=True, count=1)
    assert len(taro.says("ヘルプ")) == 1
    services.dispatcher.process(1)
    assert taro.received() == []
    with services.sessions() as s:
        assert s.scalars(select(InboxEvent.status)).one() == "done"
