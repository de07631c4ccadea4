"""The fake platform under a slow reply, and a body it cannot encode (issue 18).

LINE takes a reply token when the request arrives, not when its slow answer leaves: a
second reply with the same token while the first is still in flight is refused, and the
first is delivered even if the bot that sent it is gone by then. A bot that recovers
from a crash relies on exactly this to learn whether its reply arrived.
"""

from __future__ import annotations

import threading
import time
from typing import Iterator

import pytest
import requests

from bot.fakeline import FakeLine, FakeLineSettings, start_fake_line
from bot.fakeline.server import RunningFakeLine

TOKEN = "citybot-dev-access-token"


@pytest.fixture(scope="module")
def server() -> Iterator[RunningFakeLine]:
    running = start_fake_line(port=0)
    yield running
    running.stop()


@pytest.fixture
def fake(server: RunningFakeLine) -> FakeLine:
    server.state.settings = FakeLineSettings()
    server.state.reset()
    return server.state


def reply(server: RunningFakeLine, token: str, text: str = "こんにちは", timeout: float = 5) -> requests.Response:
    return requests.post(server.url + "/v2/bot/message/reply", timeout=timeout,
                         json={"replyToken": token, "messages": [{"type": "text", "text": text}]},
                         headers={"Authorization": f"Bearer {TOKEN}"})


def test_slow_reply_takes_its_token_on_receipt(server: RunningFakeLine, fake: FakeLine) -> None:
    user = fake.add_user("市民 太郎")
    token = fake.mint_reply_token(user)
    fake.inject("reply", latency=1.0, count=1)
    first: list[requests.Response] = []
    slow = threading.Thread(target=lambda: first.append(reply(server, token, "一回目")))
    slow.start()
    time.sleep(0.3)  # the first reply has arrived and is being held
    started = time.monotonic()
    again = reply(server, token, "二回目")
    assert again.status_code == 400 and again.json() == {"message": "Invalid reply token"}
    assert time.monotonic() - started < 0.5  # refused at once, not after the first finishes
    assert fake.messages_for(user) == []  # the slow one is not delivered yet
    slow.join(timeout=5)
    assert first[0].status_code == 200
    assert [m["message"]["text"] for m in fake.messages_for(user)] == ["一回目"]


def test_slow_reply_is_delivered_even_when_its_sender_gave_up(server: RunningFakeLine, fake: FakeLine) -> None:
    """What a bot killed while waiting for LINE's answer leaves behind: a delivered reply."""
    user = fake.add_user("市民 花子")
    token = fake.mint_reply_token(user)
    fake.inject("reply", latency=0.8, count=1)
    with pytest.raises(requests.Timeout):
        reply(server, token, timeout=0.2)
    delivered = fake.wait_for_messages(user, timeout=3)
    assert [m["via"] for m in delivered] == ["reply"]
    assert reply(server, token).json() == {"message": "Invalid reply token"}


def test_text_with_a_lone_surrogate_is_refused_not_a_500(server: RunningFakeLine, fake: FakeLine) -> None:
    user = fake.add_user("市民 次郎")
    token = fake.mint_reply_token(user)
    body = ('{"replyToken":"%s","messages":[{"type":"text","text":"zz\\ud800zz"}]}' % token).encode()
    response = requests.post(server.url + "/v2/bot/message/reply", data=body, timeout=5,
                             headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    assert response.status_code == 400
    assert "message" in response.json()
    assert fake.messages_for(user) == []
    assert fake.requests[-1]["valid"] is False
    assert reply(server, token).status_code == 200  # the refused body did not spend the token
    assert requests.get(server.url + "/__fake__/requests", timeout=5).status_code == 200
