"""Routes of the simulator: the page and the JSON endpoints it calls.

Every endpoint answers JSON. Bad input is a 400 `{"error": "..."}`; when the fake LINE
platform (or the webhook target) cannot be reached the answer is a 502 with an error that
names the URL tried, so the page can say what is wrong instead of hanging.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import time
from typing import Any

import requests
from flask import Response, current_app, jsonify, render_template, request, url_for

from bot.simulator import bp

USER_ID_RE = re.compile(r"^U[0-9a-f]{32}$")
ALIAS_ID_RE = re.compile(r"^[a-z0-9_-]{1,32}$")
RICH_MENU_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
DIGITS_RE = re.compile(r"^[0-9]{1,20}$")

KINDS = ("text", "postback", "location", "follow", "unfollow", "sticker", "image")
LANGUAGES = ("ja", "en")
MAX_TEXT = 5000          # LINE's text limit, in UTF-16 code units
MAX_DATA = 300           # postback data limit
MAX_DISPLAY_TEXT = 300
MAX_TITLE = 100
MAX_ADDRESS = 100
MAX_NAME = 20
MAX_IMAGE_BYTES = 10 * 1024 * 1024  # what the page lets a resident pick
DATA_URL_RE = re.compile(r"^data:(image/(?:jpeg|png|webp|gif));base64,([A-Za-z0-9+/=\s]+)$")
SIMULATOR_USER_AGENT = "citybot-simulator"

FAKE_TIMEOUT = (2.0, 5.0)      # (connect, read) seconds for the fake platform
WEBHOOK_TIMEOUT = (2.0, 10.0)  # LINE itself gives up after 2 s; we wait longer but report it
LINE_WEBHOOK_DEADLINE_MS = 2000


class ApiError(Exception):
    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    return jsonify({"error": exc.message, **exc.extra}), exc.status


def _config():
    return current_app.config["CITYBOT_CONFIG"]


def _fake(method: str, path: str, **kwargs: Any) -> requests.Response:
    """Call the fake LINE platform; raise a 502 ApiError when it cannot be reached."""
    url = _config().fake_line_base + path
    try:
        return requests.request(method, url, timeout=FAKE_TIMEOUT, **kwargs)
    except requests.RequestException as exc:
        raise ApiError(502, f"the fake LINE platform at {_config().fake_line_base} "
                            f"cannot be reached ({type(exc).__name__})",
                       fakeLineBase=_config().fake_line_base) from None


def _fake_json(method: str, path: str, ok: tuple[int, ...] = (200,), **kwargs: Any) -> Any:
    resp = _fake(method, path, **kwargs)
    if resp.status_code == 404:
        raise ApiError(404, f"not found at the fake LINE platform: {method} {path}",
                       upstream=_safe_json(resp))
    if resp.status_code not in ok:
        raise ApiError(502, f"the fake LINE platform answered {resp.status_code} to "
                            f"{method} {path}", upstream=_safe_json(resp))
    return _safe_json(resp)


def _safe_json(resp: requests.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return {"text": resp.text[:500]}


# -- input checks -----------------------------------------------------------------------

def _utf16_len(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "send a JSON object")
    return body


def _user_id(value: Any) -> str:
    if not isinstance(value, str) or not USER_ID_RE.match(value):
        raise ApiError(400, "userId must be a LINE user id (U followed by 32 hex digits)")
    return value


def _string(body: dict, name: str, *, required: bool, max_len: int, min_len: int = 0,
            default: str | None = None) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise ApiError(400, f"{name} is required")
        return default
    if not isinstance(value, str):
        raise ApiError(400, f"{name} must be a string")
    n = _utf16_len(value)
    if n < min_len:
        raise ApiError(400, f"{name} may not be empty" if min_len == 1
                       else f"{name} must be at least {min_len} characters")
    if n > max_len:
        raise ApiError(400, f"{name} must be at most {max_len} characters")
    return value


def _number(body: dict, name: str, low: float, high: float) -> float:
    value = body.get(name)
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ApiError(400, f"{name} must be a number") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ApiError(400, f"{name} must be a number")
    if not low <= value <= high:
        raise ApiError(400, f"{name} must be between {low:g} and {high:g}")
    return float(value)


def _params(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or len(value) > 10:
        raise ApiError(400, "params must be an object of at most 10 string values")
    for k, v in value.items():
        if not isinstance(k, str) or not isinstance(v, str) or len(k) > 50 or len(v) > 300:
            raise ApiError(400, "params must map short strings to strings")
    return dict(value)


# -- the page ------------------------------------------------------------------------------

@bp.get("/")
def page():
    cfg = _config()
    return render_template("simulator.html", fake_line_base=cfg.fake_line_base,
                           webhook_target=_webhook_url(), env=cfg.env)


# -- residents -------------------------------------------------------------------------------

@bp.get("/api/residents")
def residents():
    data = _fake_json("GET", "/__fake__/users")
    users = data.get("users", []) if isinstance(data, dict) else []
    return jsonify({"residents": users})


@bp.post("/api/residents")
def add_resident():
    body = _body()
    name = _string(body, "displayName", required=True, min_len=1, max_len=MAX_NAME)
    name = name.strip()
    if not name:
        raise ApiError(400, "displayName may not be empty")
    language = body.get("language", "ja")
    if language not in LANGUAGES:
        raise ApiError(400, "language must be ja or en")
    created = _fake_json("POST", "/__fake__/users", ok=(200, 201),
                         json={"displayName": name, "language": language})
    return jsonify({"userId": created.get("userId"), "displayName": name,
                    "language": language}), 201


# -- sending events ----------------------------------------------------------------------------

def _webhook_url() -> str:
    cfg = _config()
    if cfg.webhook_url:
        return cfg.webhook_url
    return request.host_url.rstrip("/") + "/callback"


def _reply_token(user_id: str) -> str:
    data = _fake_json("POST", "/__fake__/reply-tokens", ok=(200, 201), json={"userId": user_id})
    token = data.get("replyToken") if isinstance(data, dict) else None
    if not token:
        raise ApiError(502, "the fake LINE platform gave no reply token", upstream=data)
    return token


def _build_event(kind: str, user_id: str, body: dict, reply_token: str | None) -> dict:
    from bot.fakeline import webhook_events as ev

    if kind == "text":
        text = _string(body, "text", required=True, min_len=1, max_len=MAX_TEXT)
        return ev.text_event(user_id, text, reply_token=reply_token)
    if kind == "postback":
        data = _string(body, "data", required=True, max_len=MAX_DATA)
        params = _params(body.get("params"))
        return ev.postback_event(user_id, data, params=params, reply_token=reply_token)
    if kind == "location":
        lat = _number(body, "latitude", -90, 90)
        lon = _number(body, "longitude", -180, 180)
        title = _string(body, "title", required=False, max_len=MAX_TITLE) or None
        address = _string(body, "address", required=False, max_len=MAX_ADDRESS) or None
        return ev.location_event(user_id, lat, lon, title=title, address=address,
                                 reply_token=reply_token)
    if kind == "follow":
        return ev.follow_event(user_id, reply_token=reply_token)
    if kind == "unfollow":
        return ev.unfollow_event(user_id)
    if kind == "sticker":
        package_id = _string(body, "packageId", required=False, max_len=20, default="446")
        sticker_id = _string(body, "stickerId", required=False, max_len=20, default="1988")
        if not DIGITS_RE.match(package_id) or not DIGITS_RE.match(sticker_id):
            raise ApiError(400, "packageId and stickerId must be digits")
        return ev.sticker_event(user_id, package_id, sticker_id, reply_token=reply_token)
    if kind == "image":
        # The picked picture (a data: URL) is handed to the fake platform first, as LINE
        # keeps a photo on receipt; the event names it, and the bot downloads it from there.
        # Without a picture only the event is sent (content the bot cannot download).
        picture = body.get("image")
        if picture is None:
            return ev.image_event(user_id, reply_token=reply_token)
        picture_bytes, mime = _picture(picture)
        stored = _fake_json("POST", "/__fake__/contents", data=picture_bytes, headers={"Content-Type": mime})
        return ev.image_event(user_id, reply_token=reply_token, message_id=str(stored.get("messageId", "")) or None)
    raise AssertionError(kind)


def _picture(value: Any) -> tuple[bytes, str]:
    """(bytes, type) of a picture the page sent as a data: URL."""
    found = DATA_URL_RE.match(value) if isinstance(value, str) and len(value) < MAX_IMAGE_BYTES * 4 // 3 + 100 else None
    if not found:
        raise ApiError(400, "image must be a data: URL of a JPEG, PNG, WebP or GIF picture of at most 10 MB")
    try:
        data = base64.b64decode(found.group(2), validate=False)
    except (binascii.Error, ValueError):
        raise ApiError(400, "image is not valid base64") from None
    if not data or len(data) > MAX_IMAGE_BYTES:
        raise ApiError(400, "image must be 1 byte to 10 MB")
    return data, found.group(1)


def _destination() -> str:
    """The bot's user id, as LINE puts it in `destination`: asked of the fake platform
    once and remembered; the builders' default if it has none."""
    from bot.fakeline import webhook_events as ev

    cached = current_app.extensions.get("citybot_simulator_destination")
    if cached:
        return cached
    try:
        resp = _fake("GET", "/v2/bot/info", headers={
            "Authorization": f"Bearer {_config().access_token}", "User-Agent": SIMULATOR_USER_AGENT})
    except ApiError:
        return ev.DEFAULT_DESTINATION
    info = _safe_json(resp) if resp.status_code == 200 else {}
    destination = str(info.get("userId", "")) if isinstance(info, dict) else ""
    if not USER_ID_RE.match(destination):
        return ev.DEFAULT_DESTINATION
    current_app.extensions["citybot_simulator_destination"] = destination
    return destination


def _is_blocked(user_id: str) -> bool:
    data = _fake_json("GET", "/__fake__/users")
    for user in data.get("users", []) if isinstance(data, dict) else []:
        if user.get("userId") == user_id:
            return user.get("following") is False
    raise ApiError(404, f"no resident {user_id} at the fake LINE platform")


def _validate_send(body: dict) -> tuple[str, str]:
    kind = body.get("kind")
    if kind not in KINDS:
        raise ApiError(400, f"kind must be one of {', '.join(KINDS)}")
    user_id = _user_id(body.get("userId"))
    _string(body, "displayText", required=False, max_len=MAX_DISPLAY_TEXT)
    return kind, user_id


@bp.post("/api/send")
def send():
    body = _body()
    kind, user_id = _validate_send(body)
    # Check the rest of the input before any side effect on the fake platform.
    _dry_run_checks(kind, body)

    cfg = _config()
    unblocked = False
    if kind in ("follow", "unfollow"):
        unblocked = kind == "follow" and _is_blocked(user_id)
        _fake_json("POST", f"/__fake__/users/{user_id}/{kind}", ok=(200, 201, 204))
    reply_token = None if kind == "unfollow" else _reply_token(user_id)
    event = _build_event(kind, user_id, body, reply_token)
    if unblocked:
        event["follow"] = {"isUnblocked": True}

    from bot.fakeline import webhook_events as ev

    payload = ev.callback_body([event], destination=_destination())
    signature = ev.signature(cfg.channel_secret, payload)
    target = _webhook_url()
    started = time.monotonic()
    try:
        resp = requests.post(target, data=payload, timeout=WEBHOOK_TIMEOUT, headers={
            "Content-Type": "application/json; charset=utf-8",
            "X-Line-Signature": signature,
            "User-Agent": ev.WEBHOOK_USER_AGENT,
        })
    except requests.RequestException as exc:
        raise ApiError(502, f"the webhook at {target} cannot be reached ({type(exc).__name__})",
                       webhookUrl=target, eventId=event.get("webhookEventId")) from None
    elapsed_ms = int((time.monotonic() - started) * 1000)
    return jsonify({
        "status": resp.status_code,
        "eventId": event.get("webhookEventId"),
        "replyToken": reply_token,
        "elapsedMs": elapsed_ms,
        "lineWouldTimeOut": elapsed_ms > LINE_WEBHOOK_DEADLINE_MS,
        "webhookUrl": target,
    })


def _dry_run_checks(kind: str, body: dict) -> None:
    if kind == "text":
        _string(body, "text", required=True, min_len=1, max_len=MAX_TEXT)
    elif kind == "postback":
        _string(body, "data", required=True, max_len=MAX_DATA)
        _params(body.get("params"))
    elif kind == "location":
        _number(body, "latitude", -90, 90)
        _number(body, "longitude", -180, 180)
        _string(body, "title", required=False, max_len=MAX_TITLE)
        _string(body, "address", required=False, max_len=MAX_ADDRESS)
    elif kind == "sticker":
        for name in ("packageId", "stickerId"):
            value = _string(body, name, required=False, max_len=20, default="1")
            if not DIGITS_RE.match(value):
                raise ApiError(400, "packageId and stickerId must be digits")


# -- what the bot sent ----------------------------------------------------------------------------

@bp.get("/api/messages")
def messages():
    user_id = _user_id(request.args.get("userId"))
    after = request.args.get("after", "0")
    if not re.fullmatch(r"-?[0-9]{1,18}", after or ""):
        raise ApiError(400, "after must be an integer")
    data = _fake_json("GET", "/__fake__/messages", params={"userId": user_id, "after": after})
    return jsonify(data)


# -- rich menus -------------------------------------------------------------------------------

def _menu_payload(data: dict) -> dict:
    menu_id = data.get("richMenuId")
    return {
        "richMenuId": menu_id,
        "richMenu": data.get("richMenu"),
        "imageUrl": url_for("simulator.richmenu_image", rich_menu_id=menu_id) if menu_id else None,
    }


@bp.get("/api/richmenu")
def richmenu():
    user_id = _user_id(request.args.get("userId"))
    resp = _fake("GET", f"/__fake__/users/{user_id}/richmenu")
    if resp.status_code == 404:
        return jsonify({"richMenuId": None, "richMenu": None, "imageUrl": None})
    if resp.status_code != 200:
        raise ApiError(502, f"the fake LINE platform answered {resp.status_code} for the rich menu",
                       upstream=_safe_json(resp))
    return jsonify(_menu_payload(_safe_json(resp)))


@bp.get("/api/richmenu/<rich_menu_id>/image")
def richmenu_image(rich_menu_id: str):
    if not RICH_MENU_ID_RE.match(rich_menu_id):
        raise ApiError(400, "bad rich menu id")
    resp = _fake("GET", f"/__fake__/richmenu/{rich_menu_id}/image")
    if resp.status_code != 200:
        raise ApiError(404 if resp.status_code == 404 else 502,
                       f"no image for rich menu {rich_menu_id}")
    return Response(resp.content, mimetype=resp.headers.get("Content-Type", "image/png"),
                    headers={"Cache-Control": "max-age=300"})


def _rich_menu_by_id(rich_menu_id: str) -> dict | None:
    """A rich menu object by id, from the fake platform's own Messaging API."""
    cfg = _config()
    resp = _fake("GET", f"/v2/bot/richmenu/{rich_menu_id}",
                 headers={"Authorization": f"Bearer {cfg.access_token}",
                          "User-Agent": SIMULATOR_USER_AGENT})
    if resp.status_code == 404:
        return None
    if resp.status_code != 200:
        raise ApiError(502, f"the fake LINE platform answered {resp.status_code} for rich menu "
                            f"{rich_menu_id}", upstream=_safe_json(resp))
    return _safe_json(resp)


@bp.get("/api/richmenu/alias/<alias_id>")
def richmenu_alias(alias_id: str):
    if not ALIAS_ID_RE.match(alias_id):
        raise ApiError(400, "a rich menu alias id is 1-32 of a-z, 0-9, _ and -")
    data = _fake_json("GET", "/__fake__/richmenu/aliases")
    aliases = data.get("aliases", []) if isinstance(data, dict) else data
    match = next((a for a in aliases or [] if a.get("richMenuAliasId") == alias_id), None)
    if match is None:
        raise ApiError(404, f"no rich menu alias {alias_id}", code="RICHMENU_ALIAS_ID_NOTFOUND")
    menu_id = match.get("richMenuId")
    menu = _rich_menu_by_id(menu_id)
    if menu is None:
        raise ApiError(404, f"rich menu alias {alias_id} points at missing menu {menu_id}",
                       code="RICHMENU_NOTFOUND")
    menu.pop("richMenuId", None)
    return jsonify({"richMenuAliasId": alias_id,
                    **_menu_payload({"richMenuId": menu_id, "richMenu": menu})})
