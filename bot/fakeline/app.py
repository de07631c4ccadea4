"""HTTP face of the fake LINE platform: LINE's Messaging API paths plus `/__fake__/`.

Every `/v2` request goes through one pipeline, in the order LINE's front end would apply
it: bearer token (401) -> per-endpoint rate limit (429; the attempt counts even when
refused) -> injected failures (before anything is delivered) -> `X-Line-Retry-Key` checks
-> JSON body validated against LINE's OpenAPI spec (400 with LINE's error body) -> the
`FakeLine` operation. Injected latency is served inside the operation, after what LINE
does on receipt: a slow reply has taken its token before it waits (`Call.wait`). Every
answer carries `x-line-request-id`, and every request is recorded with its status,
validity and errors for tests to inspect.

`/__fake__/` is the unauthenticated control and inspection API the simulator and tests use
(users, reply tokens, delivered messages, recorded requests, faults, reset).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from flask import Blueprint, Flask, Response, request

from bot.fakeline.spec import ErrorDetail, Operation, SpecValidator, error_body
from bot.fakeline.state import (AUTH_FAILED, FakeLine, LineError, bad_request, not_found,
                                request_id)

RETRY_KEY_ENDPOINTS = frozenset({"push", "multicast", "narrowcast", "broadcast"})
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
RATE_LIMITED = "The API rate limit has been exceeded. Try again later."
FAULT_MESSAGES = {500: "Internal server error", 502: "Bad gateway", 503: "Service unavailable",
                  504: "Gateway timeout", 429: RATE_LIMITED}
MAX_WAIT_SECONDS = 30.0


@dataclass
class Call:
    """What an endpoint handler gets: the validated request, in LINE's terms."""

    body: Any
    raw: bytes
    content_type: str
    params: Mapping[str, str]
    query: Mapping[str, str]
    request_id: str
    retry_key: str | None
    latency: float = 0.0  # injected; served once by `wait`

    def wait(self) -> None:
        """Hold the request for its injected latency (once, however often it is called)."""
        latency, self.latency = self.latency, 0.0
        if latency:
            time.sleep(latency)


@dataclass
class Answer:
    status: int = 200
    json: Any = None
    data: bytes | None = None
    mimetype: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[FakeLine, Call], "Answer | dict[str, Any] | None"]


@dataclass(frozen=True)
class Route:
    method: str
    template: str  # exactly as in messaging-api.yml
    name: str  # endpoint name for rate limits and faults (`richmenu.alias.delete`)
    handler: Handler
    waits_itself: bool = False  # the handler calls `Call.wait` where LINE would be slow


def _accepted(result: dict[str, Any] | None) -> Answer:
    return Answer(202, result or {})


def _query(call: Call, name: str) -> str:
    value = call.query.get(name)
    if not value:
        raise LineError(400, error_body([ErrorDetail("May not be empty", name)]))
    return value


def _validate_only(line: FakeLine, call: Call) -> None:
    """/message/validate/*: reaching the handler means the body passed validation."""
    return None


def _upload_image(line: FakeLine, call: Call) -> None:
    line.upload_rich_menu_image(call.params["richMenuId"], call.raw, call.content_type)


def _download_image(line: FakeLine, call: Call) -> Answer:
    data, mime = line.rich_menu_image(call.params["richMenuId"])
    return Answer(data=data, mimetype=mime)


def _message_content(line: FakeLine, call: Call) -> Answer:
    data, mime = line.message_content(call.params["messageId"])
    return Answer(data=data, mimetype=mime)


def _followers(line: FakeLine, call: Call) -> dict[str, Any]:
    limit = call.query.get("limit", "300")
    if not limit.isdigit() or not 1 <= int(limit) <= 1000:
        raise LineError(400, error_body([ErrorDetail("Must be between 1 and 1000", "limit")]))
    return line.follower_ids(int(limit), call.query.get("start"))


ROUTES: list[Route] = [
    Route("POST", "/v2/bot/message/reply", "reply",
          lambda line, c: line.reply(c.body, c.request_id, wait=c.wait), waits_itself=True),
    Route("POST", "/v2/bot/message/push", "push",
          lambda line, c: line.push(c.body, c.request_id, c.retry_key)),
    Route("POST", "/v2/bot/message/multicast", "multicast",
          lambda line, c: line.multicast(c.body, c.request_id, c.retry_key)),
    Route("POST", "/v2/bot/message/narrowcast", "narrowcast",
          lambda line, c: _accepted(line.narrowcast(c.body, c.request_id, c.retry_key))),
    Route("POST", "/v2/bot/message/broadcast", "broadcast",
          lambda line, c: line.broadcast(c.body, c.request_id, c.retry_key)),
    Route("GET", "/v2/bot/message/progress/narrowcast", "narrowcast.progress",
          lambda line, c: line.narrowcast_progress(_query(c, "requestId"))),
    Route("GET", "/v2/bot/message/quota", "quota", lambda line, c: line.quota()),
    Route("GET", "/v2/bot/message/quota/consumption", "quota.consumption",
          lambda line, c: line.quota_consumption()),
    *[Route("POST", f"/v2/bot/message/validate/{kind}", f"validate.{kind}", _validate_only)
      for kind in ("reply", "push", "multicast", "narrowcast", "broadcast")],
    Route("GET", "/v2/bot/message/{messageId}/content", "message.content", _message_content),
    Route("GET", "/v2/bot/profile/{userId}", "profile",
          lambda line, c: line.profile(c.params["userId"])),
    Route("GET", "/v2/bot/info", "info", lambda line, c: line.bot_info()),
    Route("GET", "/v2/bot/followers/ids", "followers", _followers),
    Route("POST", "/v2/bot/chat/loading/start", "loading", lambda line, c: _accepted(None)),
    # rich menus
    Route("POST", "/v2/bot/richmenu", "richmenu.create",
          lambda line, c: line.create_rich_menu(c.body)),
    Route("POST", "/v2/bot/richmenu/validate", "richmenu.validate", _validate_only),
    Route("POST", "/v2/bot/richmenu/{richMenuId}/content", "richmenu.image.upload", _upload_image),
    Route("GET", "/v2/bot/richmenu/{richMenuId}/content", "richmenu.image.download",
          _download_image),
    Route("GET", "/v2/bot/richmenu/list", "richmenu.list", lambda line, c: line.rich_menus()),
    Route("GET", "/v2/bot/richmenu/{richMenuId}", "richmenu.get",
          lambda line, c: line.rich_menu(c.params["richMenuId"])),
    Route("DELETE", "/v2/bot/richmenu/{richMenuId}", "richmenu.delete",
          lambda line, c: line.delete_rich_menu(c.params["richMenuId"])),
    Route("POST", "/v2/bot/user/all/richmenu/{richMenuId}", "richmenu.default.set",
          lambda line, c: line.set_default_rich_menu(c.params["richMenuId"])),
    Route("GET", "/v2/bot/user/all/richmenu", "richmenu.default.get",
          lambda line, c: line.default_rich_menu()),
    Route("DELETE", "/v2/bot/user/all/richmenu", "richmenu.default.cancel",
          lambda line, c: line.cancel_default_rich_menu()),
    Route("POST", "/v2/bot/user/{userId}/richmenu/{richMenuId}", "richmenu.user.link",
          lambda line, c: line.link_rich_menu(c.params["userId"], c.params["richMenuId"])),
    Route("GET", "/v2/bot/user/{userId}/richmenu", "richmenu.user.get",
          lambda line, c: line.user_rich_menu_id(c.params["userId"])),
    Route("DELETE", "/v2/bot/user/{userId}/richmenu", "richmenu.user.unlink",
          lambda line, c: line.unlink_rich_menu([c.params["userId"]])),
    Route("POST", "/v2/bot/richmenu/bulk/link", "richmenu.bulk.link",
          lambda line, c: _accepted(line.bulk_link_rich_menu(c.body["richMenuId"],
                                                             c.body["userIds"]))),
    Route("POST", "/v2/bot/richmenu/bulk/unlink", "richmenu.bulk.unlink",
          lambda line, c: _accepted(line.unlink_rich_menu(c.body["userIds"]))),
    Route("POST", "/v2/bot/richmenu/alias", "richmenu.alias.create",
          lambda line, c: line.create_alias(c.body["richMenuAliasId"], c.body["richMenuId"])),
    Route("GET", "/v2/bot/richmenu/alias/list", "richmenu.alias.list",
          lambda line, c: line.aliases()),
    Route("GET", "/v2/bot/richmenu/alias/{richMenuAliasId}", "richmenu.alias.get",
          lambda line, c: line.alias(c.params["richMenuAliasId"])),
    Route("POST", "/v2/bot/richmenu/alias/{richMenuAliasId}", "richmenu.alias.update",
          lambda line, c: line.update_alias(c.params["richMenuAliasId"], c.body["richMenuId"])),
    Route("DELETE", "/v2/bot/richmenu/alias/{richMenuAliasId}", "richmenu.alias.delete",
          lambda line, c: line.delete_alias(c.params["richMenuAliasId"])),
]


def _flask_rule(template: str) -> str:
    return re.sub(r"\{([^}]+)\}", r"<\1>", template)


def _as_answer(result: Answer | dict[str, Any] | None) -> Answer:
    if isinstance(result, Answer):
        return result
    return Answer(json=result if result is not None else {})


def _to_response(answer: Answer) -> Response:
    if answer.data is not None:
        response = Response(answer.data, status=answer.status, mimetype=answer.mimetype)
    else:
        payload = json.dumps(answer.json if answer.json is not None else {},
                             ensure_ascii=False, separators=(",", ":"))
        response = Response(payload, status=answer.status, mimetype="application/json")
    response.headers.update(answer.headers)
    return response


@dataclass
class Outcome:
    """What the pipeline learned about a request, for the request log."""

    retry_key: str | None = None  # as sent, even if refused
    valid: bool | None = None  # None: refused before the body was looked at
    errors: list[dict[str, str]] = field(default_factory=list)


class LineApi:
    """The `/v2` request pipeline over one FakeLine."""

    def __init__(self, line: FakeLine):
        self.line = line
        self.spec = SpecValidator(line.settings.openapi_dir)

    def register(self, app: Flask) -> None:
        for route in ROUTES:
            operation = self.spec.operation(route.method, route.template)
            app.add_url_rule(_flask_rule(route.template), endpoint=f"line:{route.name}",
                             view_func=self._view(route, operation), methods=[route.method])
        app.add_url_rule("/v2/<path:rest>", endpoint="line:unknown", view_func=self._unknown,
                         methods=["GET", "POST", "PUT", "DELETE", "PATCH"])

    def _view(self, route: Route, operation: Operation) -> Callable[..., Response]:
        def view(**params: str) -> Response:
            return self.serve(route, operation, params)
        return view

    def _unknown(self, rest: str) -> Response:
        """A path the fake does not serve: 501 if LINE has it (so a missing fake endpoint
        is obvious), else 404 as LINE would answer."""
        known = self.spec.find_operation(request.method, request.path) is not None

        def refuse(line: FakeLine, call: Call) -> None:
            if known:
                raise LineError(501, {"message": "Not implemented by the fake LINE platform"})
            raise not_found()

        return self.serve(Route(request.method, request.path, "unknown", refuse), None, {})

    def serve(self, route: Route, operation: Operation | None, params: dict[str, str]) -> Response:
        rid = request_id()
        outcome = Outcome(retry_key=request.headers.get("X-Line-Retry-Key"))
        try:
            answer = self._process(route, operation, params, rid, outcome)
        except LineError as exc:
            answer = Answer(exc.status, exc.body, headers=dict(exc.headers))
        response = _to_response(answer)
        response.headers["x-line-request-id"] = rid
        self.line.record_request(
            method=request.method, path=request.path, endpoint=route.name,
            status=answer.status, valid=outcome.valid, errors=outcome.errors,
            userAgent=request.headers.get("User-Agent"), retryKey=outcome.retry_key,
            requestId=rid, replyToken=_reply_token(route.name))
        return response

    def _process(self, route: Route, operation: Operation | None, params: dict[str, str],
                 rid: str, outcome: Outcome) -> Answer:
        if not self.line.authorized(request.headers.get("Authorization")):
            raise LineError(401, {"message": AUTH_FAILED})
        if self.line.count_attempt(route.name):
            raise LineError(429, {"message": RATE_LIMITED})
        lose_response, latency = self._apply_faults(route.name)
        retry_key = self._retry_key(route)
        body = self._json_body(operation, outcome)
        call = Call(body=body, raw=request.get_data(), content_type=request.content_type or "",
                    params=params, query=request.args, request_id=rid, retry_key=retry_key,
                    latency=latency)
        if not route.waits_itself:
            call.wait()
        answer = _as_answer(route.handler(self.line, call))
        if lose_response:
            raise LineError(500, {"message": FAULT_MESSAGES[500]})
        return answer

    def _apply_faults(self, endpoint: str) -> tuple[bool, float]:
        """Fail as injected (a failing fault waits out its latency first); returns whether
        the response is to be lost after delivery, and the latency left for the operation
        to serve (`Call.wait`)."""
        lose_response, latency = False, 0.0
        for fault in self.line.take_faults(endpoint):
            if fault.lose_response or not fault.fails:
                lose_response = lose_response or fault.lose_response
                latency += fault.latency
                continue
            time.sleep(fault.latency + (fault.timeout_seconds if fault.timeout else 0.0))
            message = FAULT_MESSAGES.get(fault.status or 500, f"Injected fault ({fault.status})")
            raise LineError(fault.status or 500, {"message": message})
        return lose_response, latency

    @staticmethod
    def _retry_key(route: Route) -> str | None:
        key = request.headers.get("X-Line-Retry-Key")
        if key is None:
            return None
        if route.name not in RETRY_KEY_ENDPOINTS:
            raise bad_request("X-Line-Retry-Key is not supported for this endpoint")
        if not UUID.match(key):
            raise bad_request("The value of X-Line-Retry-Key must be a UUID")
        return key.lower()

    def _json_body(self, operation: Operation | None, outcome: Outcome) -> Any:
        """Parse and validate the JSON body; 400 in LINE's words if it is not valid."""
        if operation is None:
            return None
        if operation.request_schema is None:
            outcome.valid = True
            return None
        raw = request.get_data()
        try:
            body = json.loads(raw) if raw else None
            # `\ud800` alone is JSON syntax but no character: nothing could deliver it
            json.dumps(body, ensure_ascii=False).encode("utf-8")
        except (ValueError, RecursionError):  # UnicodeEncodeError is a ValueError
            outcome.valid = False
            outcome.errors = [{"message": "The request body could not be parsed as JSON"}]
            raise bad_request("The request body could not be parsed as JSON")
        details = self.spec.validate(operation.method, operation.template, body)
        outcome.valid = not details
        outcome.errors = [d.to_dict() for d in details]
        if details:
            raise LineError(400, error_body(details))
        return body


def _reply_token(endpoint: str) -> str | None:
    """Which event a reply answered (a token is minted per event): counted per event, not per message."""
    if endpoint != "reply":
        return None
    body = request.get_json(silent=True)
    return body.get("replyToken") if isinstance(body, dict) else None


# -- /__fake__ -------------------------------------------------------------------------
def _json(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
                    status=status, mimetype="application/json")


def _int_arg(name: str, default: int = 0) -> int:
    value = request.args.get(name, "")
    return int(value) if value.lstrip("-").isdigit() else default


def _fake_blueprint(line: FakeLine) -> Blueprint:
    """The control/inspection API; no auth, meant for the simulator and tests only."""
    fake = Blueprint("fake", __name__, url_prefix="/__fake__")

    @fake.errorhandler(KeyError)
    def unknown(exc: KeyError) -> Response:
        return _json({"message": f"Not found: {exc.args[0] if exc.args else ''}"}, 404)

    @fake.errorhandler(ValueError)
    def invalid(exc: ValueError) -> Response:
        return _json({"message": str(exc)}, 400)

    @fake.errorhandler(LineError)
    def refused(exc: LineError) -> Response:
        return _json(exc.body, exc.status)

    @fake.post("/users")
    def add_user() -> Response:
        data = request.get_json(silent=True) or {}
        if not isinstance(data.get("displayName"), str) or not data["displayName"]:
            raise ValueError("displayName is required")
        user_id = line.add_user(data["displayName"], data.get("userId"),
                                data.get("language", "ja"), bool(data.get("following", True)),
                                data.get("pictureUrl"))
        return _json({"userId": user_id})

    @fake.get("/users")
    def users() -> Response:
        return _json({"users": line.users()})

    @fake.post("/users/<user_id>/follow")
    def follow(user_id: str) -> Response:
        line.follow(user_id)
        return _json(line.user(user_id).to_dict())

    @fake.post("/users/<user_id>/unfollow")
    def unfollow(user_id: str) -> Response:
        line.unfollow(user_id)
        return _json(line.user(user_id).to_dict())

    @fake.get("/users/<user_id>/richmenu")
    def user_menu(user_id: str) -> Response:
        shown = line.menu_shown_to(user_id)
        return _json(shown) if shown else _json({"message": "the user has no richmenu"}, 404)

    @fake.post("/reply-tokens")
    def reply_token() -> Response:
        data = request.get_json(silent=True) or {}
        return _json({"replyToken": line.mint_reply_token(str(data.get("userId", "")))})

    @fake.get("/messages")
    def messages() -> Response:
        after, user_id = _int_arg("after"), request.args.get("userId") or None
        wait = min(float(request.args.get("wait", 0) or 0), MAX_WAIT_SECONDS)
        found = line.wait_for_messages(user_id, 1, after, wait) if wait > 0 else (
            line.messages_for(user_id, after) if user_id else line.all_messages(after))
        return _json({"messages": found, "last": found[-1]["seq"] if found else after})

    @fake.post("/contents")
    def put_content() -> Response:
        """Keep the bytes of a photo a user is about to send (the body, with its
        Content-Type); the answer's messageId goes into the image event."""
        return _json({"messageId": line.put_content(request.get_data(), request.content_type or "")})

    @fake.get("/requests")
    def requests_() -> Response:
        after = _int_arg("after")
        found = line.requests_after(after)
        return _json({"requests": found, "last": found[-1]["seq"] if found else after})

    @fake.get("/richmenu/<rich_menu_id>/image")
    def menu_image(rich_menu_id: str) -> Response:
        data, mime = line.rich_menu_image(rich_menu_id)
        return Response(data, mimetype=mime)

    @fake.get("/richmenu/aliases")
    def aliases() -> Response:
        return _json(line.aliases())

    @fake.post("/faults")
    def inject() -> Response:
        data = request.get_json(silent=True) or {}
        def number(key: str, kind: type) -> Any:
            return None if data.get(key) is None else kind(data[key])

        fault_id = line.inject(
            endpoint=str(data.get("endpoint", "*")), status=number("status", int),
            count=number("count", int), latency=number("latency", float) or 0.0,
            timeout=bool(data.get("timeout", False)),
            timeout_seconds=number("timeoutSeconds", float),
            lose_response=bool(data.get("loseResponse", False)))
        return _json({"faultId": fault_id})

    @fake.get("/faults")
    def faults() -> Response:
        return _json({"faults": line.faults()})

    @fake.delete("/faults")
    def clear_faults() -> Response:
        line.clear_faults()
        return _json({})

    @fake.post("/reset")
    def reset() -> Response:
        line.reset()
        return _json({})

    return fake


def create_fake_app(state: FakeLine | None = None) -> Flask:
    """A Flask app serving LINE's Messaging API (and `/__fake__/`) over `state`."""
    line = state or FakeLine()
    app = Flask("bot.fakeline")
    app.extensions["fake_line"] = line
    LineApi(line).register(app)
    app.register_blueprint(_fake_blueprint(line))
    return app
