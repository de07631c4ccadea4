"""The simulator sends a picked picture as LINE does: the platform keeps it, the event names it."""

from __future__ import annotations

import base64
import json

import pytest

from tests.unit.test_simulator_api import Harness, _only_event


@pytest.fixture(scope="module")
def sim():
    harness = Harness()
    yield harness
    harness.stop()


def test_a_picked_picture_can_be_downloaded_by_the_bot(sim):
    sim.received.clear()
    user = sim.resident()
    picture = b"\xff\xd8\xff\xe0 a tiny jpeg"
    data_url = "data:image/jpeg;base64," + base64.b64encode(picture).decode()
    resp = sim.api("POST", "/api/send", json={"userId": user, "kind": "image", "image": data_url})
    assert resp.status_code == 200, resp.text
    body, _ = _only_event(sim)
    message = body["events"][0]["message"]
    assert message["type"] == "image" and message["contentProvider"] == {"type": "line"}
    content = sim.line_api("GET", f"/v2/bot/message/{message['id']}/content")
    assert content.status_code == 200 and content.content == picture
    assert content.headers["Content-Type"].startswith("image/jpeg")


@pytest.mark.parametrize("image", ["http://example.com/a.jpg", "data:text/html;base64,PGI+", "data:image/png;base64,",
                                   42])
def test_what_is_no_picture_is_refused(sim, image):
    sim.received.clear()
    user = sim.resident()
    resp = sim.api("POST", "/api/send", json={"userId": user, "kind": "image", "image": image})
    assert resp.status_code == 400 and "image" in json.loads(resp.text)["error"]
    assert sim.received == []
