"""The simulator's JSON API against a real fake LINE platform.

A minimal Flask app carries only the simulator blueprint and a stub `/callback` that
records what it is sent, served over real HTTP so /simulator/api/send really POSTs the
webhook. Whether the blueprint is registered in production is the app factory's job and
is tested there.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import threading

import pytest
import requests
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

from bot.config import DEV_ACCESS_TOKEN, Config
from bot.fakeline import WebhookSpec, start_fake_line
from bot.simulator import bp

SECRET = "simulator-test-secret"


class Harness:
    def __init__(self) -> None:
        self.fake = start_fake_line()
        self.received: list[dict] = []
        self.callback_status = 200
        app = Flask("simulator-test")
        app.register_blueprint(bp)

        @app.post("/callback")
        def callback():
            self.received.append({"body": request.get_data(), "headers": dict(request.headers)})
            return jsonify({}), self.callback_status

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.app = app
        self.configure()
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def configure(self, **changes) -> None:
        values = dict(env="test", channel_secret=SECRET, line_api_base=self.fake.url,
                      webhook_url=self.url + "/callback")
        values.update(changes)
        self.app.config["CITYBOT_CONFIG"] = Config(**values).checked()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)
        self.server.server_close()
        self.fake.stop()

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, self.url + "/simulator" + path, timeout=15, **kwargs)

    def resident(self, name: str = "堺 花子", language: str = "ja") -> str:
        resp = self.api("POST", "/api/residents", json={"displayName": name, "language": language})
        assert resp.status_code == 201, resp.text
        return resp.json()["userId"]

    def line_api(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {DEV_ACCESS_TOKEN}", **kwargs.pop("headers", {})}
        return requests.request(method, self.fake.url + path, headers=headers, timeout=10, **kwargs)


@pytest.fixture(scope="module")
def harness():
    h = Harness()
    yield h
    h.stop()


@pytest.fixture
def sim(harness):
    harness.received.clear()
    harness.callback_status = 200
    harness.configure()
    yield harness
    harness.configure()


@pytest.fixture(scope="module")
def spec():
    return WebhookSpec()


def _expected_signature(body: bytes) -> str:
    return base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()


def _only_event(sim) -> tuple[dict, dict]:
    assert len(sim.received) == 1, sim.received
    got = sim.received[0]
    return json.loads(got["body"]), got["headers"]


# -- sending --------------------------------------------------------------------------------

def test_text_is_a_signed_spec_valid_webhook_with_a_live_reply_token(sim, spec):
    user = sim.resident()
    resp = sim.api("POST", "/api/send", json={"userId": user, "kind": "text", "text": "ごみの日\n教えて"})
    assert resp.status_code == 200, resp.text
    out = resp.json()
    assert out["status"] == 200

    body, headers = _only_event(sim)
    assert spec.validate(body) == []
    assert headers["X-Line-Signature"] == _expected_signature(sim.received[0]["body"])
    event = body["events"][0]
    assert event["webhookEventId"] == out["eventId"]
    assert event["type"] == "message" and event["source"] == {"type": "user", "userId": user}
    assert event["message"]["text"] == "ごみの日\n教えて"
    assert "ごみ".encode() in sim.received[0]["body"]  # Japanese unescaped, as LINE sends it

    # the reply token was minted at the fake platform: the bot can reply with it
    reply = sim.line_api("POST", "/v2/bot/message/reply", json={
        "replyToken": event["replyToken"], "messages": [{"type": "text", "text": "月曜です"}]})
    assert reply.status_code == 200, reply.text
    msgs = sim.api("GET", "/api/messages", params={"userId": user, "after": 0}).json()
    assert [m["message"]["text"] for m in msgs["messages"]] == ["月曜です"]
    assert msgs["messages"][0]["via"] == "reply"


@pytest.mark.parametrize("payload, check", [
    ({"kind": "postback", "data": "action=garbage&area=3"},
     lambda e: e["type"] == "postback" and e["postback"] == {"data": "action=garbage&area=3"}),
    ({"kind": "postback", "data": "pick", "params": {"date": "2025-01-31"}, "displayText": "1月31日"},
     lambda e: e["postback"]["params"] == {"date": "2025-01-31"}),
    ({"kind": "postback", "data": "",
      "params": {"newRichMenuAliasId": "page-2", "status": "SUCCESS"}},
     lambda e: e["postback"]["params"]["status"] == "SUCCESS"),
    ({"kind": "location", "latitude": 34.5733, "longitude": 135.4830, "title": "堺市役所",
      "address": "大阪府堺市堺区南瓦町3-1"},
     lambda e: e["message"]["type"] == "location" and e["message"]["latitude"] == 34.5733
     and e["message"]["title"] == "堺市役所"),
    ({"kind": "location", "latitude": "34.5", "longitude": -0.25},
     lambda e: e["message"]["latitude"] == 34.5 and "title" not in e["message"]),
    ({"kind": "sticker", "packageId": "446", "stickerId": "1993"},
     lambda e: e["message"]["type"] == "sticker" and e["message"]["stickerId"] == "1993"),
    ({"kind": "image"}, lambda e: e["message"]["type"] == "image"),
])
def test_every_kind_is_spec_valid(sim, spec, payload, check):
    user = sim.resident()
    resp = sim.api("POST", "/api/send", json={"userId": user, **payload})
    assert resp.status_code == 200, resp.text
    body, headers = _only_event(sim)
    assert spec.validate(body) == []
    assert headers["X-Line-Signature"] == _expected_signature(sim.received[0]["body"])
    assert check(body["events"][0])


def test_follow_and_unfollow_flip_the_flag(sim, spec):
    user = sim.resident()

    def following() -> bool:
        users = sim.api("GET", "/api/residents").json()["residents"]
        return next(u for u in users if u["userId"] == user)["following"]

    assert sim.api("POST", "/api/send", json={"userId": user, "kind": "unfollow"}).status_code == 200
    assert following() is False
    assert sim.api("POST", "/api/send", json={"userId": user, "kind": "follow"}).status_code == 200
    assert following() is True

    unfollow, follow = (json.loads(r["body"])["events"][0] for r in sim.received)
    assert unfollow["type"] == "unfollow" and "replyToken" not in unfollow
    assert follow["type"] == "follow" and follow["follow"] == {"isUnblocked": True}
    assert follow["replyToken"]
    for r in sim.received:
        assert spec.validate(json.loads(r["body"])) == []


def test_default_webhook_target_is_this_servers_callback(sim):
    sim.configure(webhook_url="")
    user = sim.resident()
    resp = sim.api("POST", "/api/send", json={"userId": user, "kind": "text", "text": "hi"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["webhookUrl"] == sim.url + "/callback"
    assert len(sim.received) == 1


def test_webhook_status_is_reported(sim):
    sim.callback_status = 500
    user = sim.resident()
    resp = sim.api("POST", "/api/send", json={"userId": user, "kind": "text", "text": "hi"})
    assert resp.status_code == 200
    assert resp.json()["status"] == 500


@pytest.mark.parametrize("payload, fragment", [
    ({"kind": "fax", "text": "x"}, "kind"),
    ({"kind": "text"}, "text is required"),
    ({"kind": "text", "text": ""}, "text may not be empty"),
    ({"kind": "text", "text": "あ" * 5001}, "at most 5000"),
    ({"kind": "text", "text": "😀" * 2501}, "at most 5000"),  # UTF-16 units, as LINE counts
    ({"kind": "text", "text": 12}, "must be a string"),
    ({"kind": "postback"}, "data is required"),
    ({"kind": "postback", "data": "x" * 301}, "at most 300"),
    ({"kind": "postback", "data": "x", "params": {"date": 5}}, "params"),
    ({"kind": "postback", "data": "x", "params": ["a"]}, "params"),
    ({"kind": "location", "latitude": 91, "longitude": 0}, "latitude must be between"),
    ({"kind": "location", "latitude": 0, "longitude": -180.5}, "longitude must be between"),
    ({"kind": "location", "latitude": "north", "longitude": 0}, "latitude must be a number"),
    ({"kind": "location", "latitude": True, "longitude": 0}, "latitude must be a number"),
    ({"kind": "location", "latitude": float("nan"), "longitude": 0}, "latitude must be a number"),
    ({"kind": "location", "longitude": 0}, "latitude must be a number"),
    ({"kind": "location", "latitude": 0, "longitude": 0, "title": "t" * 101}, "title"),
    ({"kind": "sticker", "packageId": "abc"}, "digits"),
    ({"kind": "text", "text": "x", "displayText": 3}, "displayText"),
])
def test_bad_input_is_a_400_with_a_message_and_no_webhook(sim, payload, fragment):
    user = sim.resident()
    data = json.dumps({"userId": user, **payload}, allow_nan=True)
    resp = sim.api("POST", "/api/send", data=data, headers={"Content-Type": "application/json"})
    assert resp.status_code == 400, resp.text
    assert fragment in resp.json()["error"]
    assert sim.received == []


@pytest.mark.parametrize("user_id", [None, "", "U123", "u" + "0" * 32, "U" + "G" * 32, 7])
def test_bad_user_id_is_a_400(sim, user_id):
    resp = sim.api("POST", "/api/send", json={"userId": user_id, "kind": "text", "text": "x"})
    assert resp.status_code == 400
    assert "userId" in resp.json()["error"]


def test_not_json_is_a_400(sim):
    resp = sim.api("POST", "/api/send", data="kind=text", headers={"Content-Type": "text/plain"})
    assert resp.status_code == 400
    assert resp.json()["error"]


def test_unknown_resident_is_a_404(sim):
    resp = sim.api("POST", "/api/send", json={"userId": "U" + "0" * 32, "kind": "text", "text": "x"})
    assert resp.status_code == 404
    assert sim.received == []


# -- residents ----------------------------------------------------------------------------------

def test_residents_are_created_and_listed(sim):
    user = sim.resident("Alex", "en")
    users = sim.api("GET", "/api/residents").json()["residents"]
    assert {"userId": user, "displayName": "Alex", "language": "en", "following": True} in users


@pytest.mark.parametrize("payload", [
    {"displayName": "", "language": "ja"},
    {"displayName": "   ", "language": "ja"},
    {"displayName": "x" * 21, "language": "ja"},
    {"displayName": "Bo", "language": "fr"},
    {"language": "ja"},
])
def test_bad_resident_is_a_400(sim, payload):
    resp = sim.api("POST", "/api/residents", json=payload)
    assert resp.status_code == 400
    assert resp.json()["error"]


# -- messages --------------------------------------------------------------------------------------

def test_messages_proxy_filters_by_user_and_seq(sim):
    alice, bob = sim.resident("Alice", "en"), sim.resident("Bob", "en")
    for to, text in [(alice, "one"), (bob, "other"), (alice, "two")]:
        resp = sim.line_api("POST", "/v2/bot/message/push",
                            json={"to": to, "messages": [{"type": "text", "text": text}]})
        assert resp.status_code == 200, resp.text
    got = sim.api("GET", "/api/messages", params={"userId": alice, "after": 0}).json()
    assert [m["message"]["text"] for m in got["messages"]] == ["one", "two"]
    assert all(m["via"] == "push" and m["userId"] == alice for m in got["messages"])
    first = got["messages"][0]["seq"]
    later = sim.api("GET", "/api/messages", params={"userId": alice, "after": first}).json()
    assert [m["message"]["text"] for m in later["messages"]] == ["two"]
    assert later["last"] == got["messages"][1]["seq"]


@pytest.mark.parametrize("params", [{"userId": "nope"}, {"userId": "U" + "a" * 32, "after": "x"}])
def test_messages_bad_query_is_a_400(sim, params):
    assert sim.api("GET", "/api/messages", params=params).status_code == 400


# -- rich menus --------------------------------------------------------------------------------------

def _png(width: int, height: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (6, 199, 85)).save(out, "PNG")
    return out.getvalue()


def _make_menu(sim, name: str, chat_bar: str, alias: str | None = None) -> str:
    definition = {
        "size": {"width": 2500, "height": 843}, "selected": True, "name": name,
        "chatBarText": chat_bar,
        "areas": [
            {"bounds": {"x": 0, "y": 0, "width": 1250, "height": 843},
             "action": {"type": "message", "label": "ごみ", "text": "ごみ"}},
            {"bounds": {"x": 1250, "y": 0, "width": 1250, "height": 843},
             "action": {"type": "richmenuswitch", "richMenuAliasId": "sim-page-2", "data": "page=2"}},
        ],
    }
    resp = sim.line_api("POST", "/v2/bot/richmenu", json=definition)
    assert resp.status_code == 200, resp.text
    menu_id = resp.json()["richMenuId"]
    resp = sim.line_api("POST", f"/v2/bot/richmenu/{menu_id}/content", data=_png(2500, 843),
                        headers={"Content-Type": "image/png"})
    assert resp.status_code == 200, resp.text
    if alias:
        resp = sim.line_api("POST", "/v2/bot/richmenu/alias",
                            json={"richMenuAliasId": alias, "richMenuId": menu_id})
        assert resp.status_code == 200, resp.text
    return menu_id


def test_rich_menu_image_and_alias(sim):
    user = sim.resident()
    assert sim.api("GET", "/api/richmenu", params={"userId": user}).json()["richMenu"] is None

    main = _make_menu(sim, "main", "メニュー")
    page2 = _make_menu(sim, "page two", "2ページ目", alias="sim-page-2")
    assert sim.line_api("POST", f"/v2/bot/user/{user}/richmenu/{main}").status_code == 200

    shown = sim.api("GET", "/api/richmenu", params={"userId": user}).json()
    assert shown["richMenuId"] == main
    assert shown["richMenu"]["chatBarText"] == "メニュー"
    assert shown["richMenu"]["areas"][0]["bounds"] == {"x": 0, "y": 0, "width": 1250, "height": 843}
    image = requests.get(sim.url + shown["imageUrl"], timeout=10)
    assert image.status_code == 200
    assert image.headers["Content-Type"] == "image/png"
    assert image.content.startswith(b"\x89PNG")

    switched = sim.api("GET", "/api/richmenu/alias/sim-page-2").json()
    assert switched["richMenuId"] == page2
    assert switched["richMenu"]["chatBarText"] == "2ページ目"
    assert switched["imageUrl"].endswith(f"/{page2}/image")

    missing = sim.api("GET", "/api/richmenu/alias/no-such-alias")
    assert missing.status_code == 404
    assert missing.json()["code"] == "RICHMENU_ALIAS_ID_NOTFOUND"
    assert sim.api("GET", "/api/richmenu/alias/Bad Alias!").status_code in (400, 404)
    assert sim.api("GET", "/api/richmenu/nope!/image").status_code in (400, 404)


# -- the page and failures ----------------------------------------------------------------------------

def test_page_and_assets_are_served(sim):
    page = sim.api("GET", "/")
    assert page.status_code == 200
    assert 'id="chat-log"' in page.text and "simulator.js" in page.text
    assert sim.fake.url in page.text
    for asset in ("simulator.js", "simulator.css"):
        assert sim.api("GET", "/static/" + asset).status_code == 200


def test_fake_platform_down_is_a_502_with_a_clear_error(sim):
    sim.configure(line_api_base="http://127.0.0.1:9")  # discard port: nothing listens
    resp = sim.api("GET", "/api/residents")
    assert resp.status_code == 502
    assert "fake LINE platform" in resp.json()["error"]
    resp = sim.api("POST", "/api/send", json={"userId": "U" + "a" * 32, "kind": "text", "text": "x"})
    assert resp.status_code == 502
    assert sim.received == []


def test_webhook_down_is_a_502(sim):
    sim.configure(webhook_url="http://127.0.0.1:9/callback")
    user = sim.resident()
    resp = sim.api("POST", "/api/send", json={"userId": user, "kind": "text", "text": "x"})
    assert resp.status_code == 502
    assert "webhook" in resp.json()["error"]
