"""The fake platform keeps what users send as images and serves it where LINE does."""

from __future__ import annotations

from bot.fakeline import webhook_events as ev
from bot.messenger import LineError, Messenger


def test_an_image_event_names_content_the_data_endpoint_serves(fake_line, line):
    message_id = line.put_content(b"\xff\xd8 a jpeg", "image/jpeg")
    event = ev.image_event("U" + "0" * 32, message_id=message_id)
    assert event["message"]["id"] == message_id and event["message"]["contentProvider"] == {"type": "line"}
    from tests.conftest import TOKEN

    messenger = Messenger(fake_line.url, fake_line.url, TOKEN)
    assert messenger.message_content(message_id, 1000) == (b"\xff\xd8 a jpeg", "image/jpeg")


def test_unknown_expired_or_too_large_content_is_refused(fake_line, line):
    from tests.conftest import TOKEN

    messenger = Messenger(fake_line.url, fake_line.url, TOKEN)
    message_id = line.put_content(b"x" * 100, "image/png")
    for wanted, limit, status in (("999", 1000, 404), (message_id, 10, 413)):
        try:
            messenger.message_content(wanted, limit)
        except LineError as err:
            assert err.status == status
        else:
            raise AssertionError("refused content was served")
    line.settings.content_ttl, ttl = -1.0, line.settings.content_ttl
    try:
        try:
            messenger.message_content(message_id, 1000)
        except LineError as err:
            assert err.status == 404
        else:
            raise AssertionError("expired content was served")
    finally:
        line.settings.content_ttl = ttl
