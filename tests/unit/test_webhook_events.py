"""Webhook builders produce bodies LINE's webhook.yml accepts, signed the way LINE signs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from linebot.v3.webhook import WebhookParser
from linebot.v3.webhooks import (
    FollowEvent,
    ImageMessageContent,
    LocationMessageContent,
    MessageEvent,
    PostbackEvent,
    StickerMessageContent,
    TextMessageContent,
    UnfollowEvent,
)

from bot.fakeline.spec import ErrorDetail, WebhookSpec
from bot.fakeline.webhook_events import (
    CROCKFORD,
    DEFAULT_DESTINATION,
    as_redelivery,
    callback_body,
    follow_event,
    image_event,
    location_event,
    new_ulid,
    postback_event,
    signature,
    sticker_event,
    text_event,
    unfollow_event,
    webhook_headers,
)

pytestmark = pytest.mark.contract

USER = "U" + "1" * 32
SECRET = "citybot-dev-channel-secret"

BUILDERS = {
    "text": lambda: text_event(USER, "ごみの日はいつ？"),
    "text with token": lambda: text_event(USER, "hi", reply_token="a" * 32),
    "postback": lambda: postback_event(USER, "menu=garbage"),
    "postback with params": lambda: postback_event(USER, "pick", params={"date": "2025-04-01"}),
    "location": lambda: location_event(USER, 35.68, 139.76, title="市役所", address="本町1-1"),
    "bare location": lambda: location_event(USER, 35.68, 139.76),
    "follow": lambda: follow_event(USER),
    "unblock": lambda: follow_event(USER, is_unblocked=True),
    "unfollow": lambda: unfollow_event(USER),
    "sticker": lambda: sticker_event(USER, keywords=["happy"]),
    "image": lambda: image_event(USER),
}


@pytest.fixture(scope="module")
def spec() -> WebhookSpec:
    return WebhookSpec()


@pytest.mark.parametrize("build", BUILDERS.values(), ids=BUILDERS.keys())
def test_every_builder_validates_against_webhook_yml(spec: WebhookSpec, build) -> None:
    event = build()
    body = json.loads(callback_body([event]))
    assert spec.validate(body) == []
    assert event["mode"] == "active" and event["deliveryContext"] == {"isRedelivery": False}
    assert event["source"] == {"type": "user", "userId": USER}
    assert abs(event["timestamp"] - time.time() * 1000) < 5000


def test_the_spec_check_is_not_vacuous(spec: WebhookSpec) -> None:
    event = text_event(USER, "x")
    del event["message"]["text"]
    broken_type = {**postback_event(USER, "d"), "type": "postbak"}
    details = spec.validate(json.loads(callback_body([event, broken_type])))
    assert ErrorDetail("May not be empty", "events[0].message.text") in details
    assert any(d.property == "events[1].type" for d in details)
    assert spec.validate({"destination": "bot", "events": []})[0].property == "destination"


def test_unfollow_has_no_reply_token_and_follow_has_one() -> None:
    assert "replyToken" not in unfollow_event(USER)
    assert len(follow_event(USER)["replyToken"]) == 32
    assert text_event(USER, "x", reply_token="t" * 32)["replyToken"] == "t" * 32


def test_message_ids_and_quote_tokens() -> None:
    first, second = text_event(USER, "a"), text_event(USER, "b")
    assert first["message"]["id"].isdigit() and first["message"]["id"] != second["message"]["id"]
    assert first["message"]["quoteToken"] != second["message"]["quoteToken"]
    assert "quoteToken" in sticker_event(USER)["message"]
    assert "quoteToken" in image_event(USER)["message"]


def test_webhook_event_id_is_a_time_ordered_ulid() -> None:
    ids = [text_event(USER, str(i))["webhookEventId"] for i in range(50)]
    assert all(len(i) == 26 and set(i) <= set(CROCKFORD) for i in ids)
    assert ids == sorted(ids) and len(set(ids)) == 50
    stamp = 0
    for char in ids[0][:10]:
        stamp = stamp * 32 + CROCKFORD.index(char)
    assert abs(stamp - time.time() * 1000) < 5000
    assert new_ulid(ms=0).startswith("0000000000")


def test_overrides_and_redelivery(spec: WebhookSpec) -> None:
    original = text_event(USER, "x", timestamp=1_700_000_000_000)
    again = as_redelivery(original)
    assert again["webhookEventId"] == original["webhookEventId"]
    assert again["timestamp"] == 1_700_000_000_000
    assert again["deliveryContext"] == {"isRedelivery": True}
    assert original["deliveryContext"] == {"isRedelivery": False}
    flagged = follow_event(USER, redelivery=True, webhook_event_id=original["webhookEventId"],
                           mode="standby")
    assert flagged["deliveryContext"]["isRedelivery"] and flagged["mode"] == "standby"
    assert spec.validate(json.loads(callback_body([again, flagged]))) == []


def test_callback_body_is_compact_utf8() -> None:
    body = callback_body([text_event(USER, "こんにちは")])
    assert "こんにちは".encode() in body and b": " not in body and b", " not in body
    assert json.loads(body)["destination"] == DEFAULT_DESTINATION
    assert json.loads(callback_body([], destination="U" + "2" * 32)) == {
        "destination": "U" + "2" * 32, "events": []}


def test_signature_is_base64_hmac_sha256_of_the_raw_body() -> None:
    body = callback_body([text_event(USER, "署名")])
    expected = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    assert signature(SECRET, body) == expected
    assert webhook_headers(SECRET, body)["X-Line-Signature"] == expected


def test_the_sdk_parser_accepts_what_the_builders_make() -> None:
    events = [builder() for builder in BUILDERS.values()]
    body = callback_body(events).decode("utf-8")
    parsed = WebhookParser(SECRET).parse(body, signature(SECRET, body.encode("utf-8")))
    kinds = [type(e) for e in parsed]
    assert kinds.count(MessageEvent) == 6
    assert {FollowEvent, UnfollowEvent, PostbackEvent} <= set(kinds)
    contents = {type(e.message) for e in parsed if isinstance(e, MessageEvent)}
    assert contents == {TextMessageContent, LocationMessageContent, StickerMessageContent,
                        ImageMessageContent}
