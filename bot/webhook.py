"""POST /callback: verify, store, answer 200. Nothing else happens here.

LINE waits two seconds for our answer and treats slowness as failure, and a burst of
residents (a disaster alert's replies) arrives all at once, so the acknowledgement is the
least work that loses nothing: the signature checked over the raw bytes (the SDK's
SignatureValidator), the body checked to be JSON with a list of events, and the body
stored as it came with one INSERT (bot/spool.py). The SDK's parse, dropping redeliveries
and answering happen in the worker processes (bot/dispatch.py, `Dispatcher.work_once`),
which take the body from the spool within milliseconds.

Refused with a 400 (and stored nowhere): a missing or wrong signature, a body that is not
JSON with an events list, JSON nested deeper than the parser goes. Over WEBHOOK_MAX_BYTES: 413.
Anything but POST: 405.

The view is a WSGI app of its own on werkzeug's Request and Response, put in front of the
main Flask app for this one path (`in_front_of`). The staff UI's hooks (session cookie,
CSRF, login, security headers) are for people with browsers, and Flask's request context,
routing and signals were, with nothing to do for LINE's requests, a third of what an
acknowledgement cost.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any, Callable

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from . import metrics
from .bootstrap import Services

log = logging.getLogger(__name__)

PATH = "/callback"
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Any]


def make_app(svc: Services) -> WSGIApp:
    from linebot.v3.webhook import SignatureValidator

    signature = SignatureValidator(svc.config.channel_secret)
    limit = svc.config.webhook_max_bytes
    svc.spool  # noqa: B018 - made (and on SQLite, its file) before the first webhook, not during it

    def acknowledge(request: Request) -> Response:
        if request.method != "POST":
            return Response(status=405, headers={"Allow": "POST"})
        request.max_content_length = limit  # werkzeug stops reading past it, whatever the headers say
        try:
            body = request.get_data(cache=False)
        except RequestEntityTooLarge:
            return _refuse("body too large", 413)
        given = request.headers.get("X-Line-Signature")
        if not given:
            return _refuse("missing X-Line-Signature")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return _refuse("not a webhook body")
        if not signature.validate(text, given):
            return _refuse("bad signature")
        try:
            events = json.loads(text)["events"]
        except (ValueError, KeyError, TypeError):  # not JSON, or not a webhook body
            return _refuse("not a webhook body")
        except RecursionError:  # JSON nested deeper than the parser's recursion limit
            return _refuse("body nested too deep")
        if not isinstance(events, list):
            return _refuse("events is not a list")
        svc.spool.put(text, int(svc.now().timestamp() * 1000))
        return Response(b'{"received":%d}' % len(events), mimetype="application/json")

    return Request.application(acknowledge)


def in_front_of(main: WSGIApp, webhook: WSGIApp) -> WSGIApp:
    """A WSGI app sending /callback to the webhook's app and everything else to `main`;
    it times the webhook's answers, whatever they are (the acknowledgement latency metric)."""
    def route(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO") != PATH:
            return main(environ, start_response)
        started, status = time.perf_counter(), ["500"]

        def respond(line: str, headers: list, exc_info: Any = None) -> Any:
            status[0] = line[:3]
            return start_response(line, headers, exc_info)
        try:
            return webhook(environ, respond)
        finally:
            metrics.WEBHOOK_ACK.labels(status[0]).observe(time.perf_counter() - started)
    return route


def _refuse(reason: str, status: int = 400) -> Response:
    log.warning("webhook refused: %s", reason)
    return Response(json.dumps({"error": reason}), status=status, mimetype="application/json")
