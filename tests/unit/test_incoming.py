"""The dispatcher reads a stored event from its JSON, not from the SDK's models (they take
most of a second to import): what it reads must be what the SDK would have said."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from linebot.v3.webhooks import (
    Event,
    FollowEvent,
    ImageMessageContent,
    LocationMessageContent,
    MessageEvent,
    PostbackEvent,
    TextMessageContent,
    UnfollowEvent,
    UserSource,
)

from bot.dispatch import incoming_of, user_of
from bot.fakeline import webhook_events as ev
from bot.router import Incoming, parse_postback
from bot.turn import Context

HANAKO = "U" + "0" * 31 + "7"


def as_the_sdk_reads_it(event: Any) -> Incoming | None:
    """The reading the dispatcher did with the SDK's classes, kept here as the reference."""
    if isinstance(event, MessageEvent):
        message = event.message
        if isinstance(message, TextMessageContent):
            return Incoming("text", text=(message.text or "").replace("\x00", ""))
        if isinstance(message, LocationMessageContent):
            return Incoming("location", params={"latitude": str(message.latitude), "longitude": str(message.longitude),
                                                "title": message.title or "", "address": message.address or ""})
        if isinstance(message, ImageMessageContent) and message.content_provider.type == "line":
            image_set = message.image_set
            return Incoming("image", params={"message_id": str(message.id),
                                             **({"set": image_set.id, "total": str(image_set.total or "")}
                                                if image_set else {})})
        return Incoming("unsupported", params={"type": str(message.type)})
    if isinstance(event, PostbackEvent):
        action, params = parse_postback(event.postback.data)
        params.update({k: str(v) for k, v in (event.postback.params or {}).items()})
        return Incoming("postback", action=action, params=params)
    if isinstance(event, FollowEvent):
        return Incoming("follow")
    if isinstance(event, UnfollowEvent):
        return Incoming("unfollow")
    return None


def group_chat(raw: dict[str, Any]) -> dict[str, Any]:
    return {**raw, "source": {"type": "group", "groupId": "C" + "1" * 32, "userId": HANAKO}}


def joined(raw: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in raw.items() if key != "message"} | {"type": "join"}


EVENTS = {
    "text": ev.text_event(HANAKO, "ペットボトル"),
    "text with NUL": ev.text_event(HANAKO, "粗大\x00ごみ"),
    "empty text": ev.text_event(HANAKO, ""),
    "location, float": ev.location_event(HANAKO, 34.5733, 135.4828, title="市役所", address="堺市堺区"),
    "location, whole degrees": ev.location_event(HANAKO, 35, 139),
    "photo": ev.image_event(HANAKO, message_id="1234567890"),
    "photo of a set": ev.image_event(HANAKO, image_set={"id": "E005D41A", "index": 1, "total": 2}),
    "photo of a set, total unknown": ev.image_event(HANAKO, image_set={"id": "E005D41A"}),
    "sticker": ev.sticker_event(HANAKO),
    "postback": ev.postback_event(HANAKO, "action=garbage.day&when=today"),
    "postback, date picked": ev.postback_event(HANAKO, "action=large_waste.date", params={"date": "2026-12-03"}),
    "postback without action": ev.postback_event(HANAKO, "step=area"),
    "follow": ev.follow_event(HANAKO),
    "unfollow": ev.unfollow_event(HANAKO),
    "in a group chat": group_chat(ev.text_event(HANAKO, "ヘルプ")),
    "join (not answered)": joined(ev.text_event(HANAKO, "x")),
}


@pytest.mark.parametrize("raw", EVENTS.values(), ids=EVENTS.keys())
def test_what_the_dispatcher_reads_is_what_the_sdk_reads(raw):
    event = Event.from_dict(raw)
    assert incoming_of(raw) == as_the_sdk_reads_it(event)
    source = getattr(event, "source", None)
    assert user_of(raw) == (source.user_id if isinstance(source, UserSource) else None)


def test_a_handler_that_names_event_still_gets_the_sdk_event():
    raw = ev.postback_event(HANAKO, "action=help", reply_token="r")
    ctx = Context(raw=raw, incoming=incoming_of(raw), session=None, content=None,  # type: ignore[arg-type]
                  now=datetime.now(timezone.utc), user_id=HANAKO)
    event = ctx.dependencies(["event", "text"])["event"]
    assert isinstance(event, PostbackEvent) and event.postback.data == "action=help"
    assert ctx.dependencies(["event"])["event"] is event  # built once
