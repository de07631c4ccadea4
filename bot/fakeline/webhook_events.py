"""Builders for the webhook bodies LINE sends, conforming to LINE's webhook.yml.

Used by the simulator, tests and benchmarks to play the LINE platform's side of a webhook.
Every builder returns one event dict; `callback_body` wraps events into the exact bytes to
POST and `signature` signs them the way LINE does. A reply token only works against the
fake platform if it was minted there (`FakeLine.mint_reply_token` or
`POST /__fake__/reply-tokens`); without one the builder makes up a well-formed token.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import secrets
import threading
import time
from typing import Any, Iterable, TypedDict, Unpack

DEFAULT_DESTINATION = "Ucb0000000000000000000000c17b0700"
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
WEBHOOK_USER_AGENT = "LineBotWebhook/2.0"

_ulid_lock = threading.Lock()
_ulid_last = (0, 0)


def _encode_crockford(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, digit = divmod(value, 32)
        chars.append(CROCKFORD[digit])
    return "".join(reversed(chars))


def new_ulid(ms: int | None = None) -> str:
    """A ULID: 48-bit millisecond time + 80 random bits, 26 Crockford base32 characters.
    Ids made for "now" are strictly increasing even within one millisecond (the random
    part is incremented), so sorting them sorts events by creation."""
    global _ulid_last
    if ms is not None:
        return _encode_crockford((ms << 80) | secrets.randbits(80), 26)
    with _ulid_lock:
        now = time.time_ns() // 1_000_000
        last_ms, last_rand = _ulid_last
        if now <= last_ms:
            now, rand = last_ms, last_rand + 1
        else:
            rand = secrets.randbits(79)  # headroom so increments never overflow 80 bits
        _ulid_last = (now, rand)
    return _encode_crockford((now << 80) | rand, 26)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def new_message_id() -> str:
    """LINE message ids are numeric strings (18 digits today)."""
    return str(100_000_000_000_000_000 + secrets.randbelow(900_000_000_000_000_000))


def new_quote_token() -> str:
    return secrets.token_urlsafe(48)


def new_reply_token() -> str:
    return secrets.token_hex(16)


class EventMeta(TypedDict, total=False):
    """Overrides every builder accepts."""

    timestamp: int  # ms; a redelivered event keeps its original timestamp
    redelivery: bool  # deliveryContext.isRedelivery
    webhook_event_id: str  # keep it to simulate a redelivery of the same event
    mode: str  # "active" (default) or "standby"


def _event(event_type: str, user_id: str, meta: EventMeta) -> dict[str, Any]:
    timestamp = meta.get("timestamp", now_ms())
    return {
        "type": event_type,
        "mode": meta.get("mode", "active"),
        "timestamp": timestamp,
        "source": {"type": "user", "userId": user_id},
        "webhookEventId": meta.get("webhook_event_id") or new_ulid(),
        "deliveryContext": {"isRedelivery": bool(meta.get("redelivery", False))},
    }


def _message_event(user_id: str, message: dict[str, Any], reply_token: str | None,
                   meta: EventMeta) -> dict[str, Any]:
    event = _event("message", user_id, meta)
    event["replyToken"] = reply_token or new_reply_token()
    event["message"] = {"id": new_message_id(), **message}
    return event


def text_event(user_id: str, text: str, reply_token: str | None = None, *,
               quote_token: str | None = None, **meta: Unpack[EventMeta]) -> dict[str, Any]:
    """The user sends a text message."""
    message = {"type": "text", "text": text, "quoteToken": quote_token or new_quote_token()}
    return _message_event(user_id, message, reply_token, meta)


def location_event(user_id: str, lat: float, lon: float, title: str | None = None,
                   address: str | None = None, reply_token: str | None = None,
                   **meta: Unpack[EventMeta]) -> dict[str, Any]:
    """The user shares a location (title/address only when LINE has them)."""
    message: dict[str, Any] = {"type": "location", "latitude": lat, "longitude": lon}
    if title is not None:
        message["title"] = title
    if address is not None:
        message["address"] = address
    return _message_event(user_id, message, reply_token, meta)


def sticker_event(user_id: str, package_id: str = "446", sticker_id: str = "1988",
                  reply_token: str | None = None, resource_type: str = "STATIC",
                  keywords: list[str] | None = None, **meta: Unpack[EventMeta]) -> dict[str, Any]:
    """The user sends a sticker."""
    message: dict[str, Any] = {"type": "sticker", "packageId": package_id,
                               "stickerId": sticker_id, "stickerResourceType": resource_type,
                               "quoteToken": new_quote_token()}
    if keywords:
        message["keywords"] = keywords[:15]
    return _message_event(user_id, message, reply_token, meta)


def image_event(user_id: str, reply_token: str | None = None,
                image_set: dict[str, Any] | None = None, message_id: str | None = None,
                **meta: Unpack[EventMeta]) -> dict[str, Any]:
    """The user sends a photo (content kept by LINE: contentProvider `line`). With the
    `message_id` the fake platform gave its bytes (`FakeLine.put_content`, or
    `POST /__fake__/contents`), the bot can download them from the data endpoint."""
    message: dict[str, Any] = {"type": "image", "contentProvider": {"type": "line"},
                               "quoteToken": new_quote_token()}
    if image_set is not None:
        message["imageSet"] = image_set
    event = _message_event(user_id, message, reply_token, meta)
    if message_id is not None:
        event["message"]["id"] = message_id
    return event


def postback_event(user_id: str, data: str, params: dict[str, str] | None = None,
                   reply_token: str | None = None, **meta: Unpack[EventMeta]) -> dict[str, Any]:
    """The user taps a postback action (rich menu, button, quick reply, datetime picker)."""
    event = _event("postback", user_id, meta)
    event["replyToken"] = reply_token or new_reply_token()
    event["postback"] = {"data": data}
    if params is not None:
        event["postback"]["params"] = dict(params)
    return event


def follow_event(user_id: str, reply_token: str | None = None, is_unblocked: bool = False,
                 **meta: Unpack[EventMeta]) -> dict[str, Any]:
    """The user adds the account as a friend (or unblocks it)."""
    event = _event("follow", user_id, meta)
    event["replyToken"] = reply_token or new_reply_token()
    event["follow"] = {"isUnblocked": is_unblocked}
    return event


def unfollow_event(user_id: str, **meta: Unpack[EventMeta]) -> dict[str, Any]:
    """The user blocks the account; there is nobody to reply to, so no reply token."""
    return _event("unfollow", user_id, meta)


def as_redelivery(event: dict[str, Any]) -> dict[str, Any]:
    """The same event sent again by LINE: same webhookEventId and timestamp, flagged."""
    again = copy.deepcopy(event)
    again["deliveryContext"] = {"isRedelivery": True}
    return again


def callback_body(events: Iterable[dict[str, Any]],
                  destination: str = DEFAULT_DESTINATION) -> bytes:
    """The webhook request body: compact UTF-8 JSON, Japanese left unescaped as LINE
    sends it (the signature covers these exact bytes)."""
    payload = {"destination": destination, "events": list(events)}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def signature(channel_secret: str, body: bytes) -> str:
    """X-Line-Signature: base64 HMAC-SHA256 of the raw body, keyed by the channel secret."""
    digest = hmac.new(channel_secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def webhook_headers(channel_secret: str, body: bytes) -> dict[str, str]:
    """The headers LINE sends with a webhook."""
    return {"Content-Type": "application/json; charset=utf-8",
            "User-Agent": WEBHOOK_USER_AGENT,
            "X-Line-Signature": signature(channel_secret, body)}
