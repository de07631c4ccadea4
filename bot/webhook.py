"""POST /callback: verify, parse, store, answer 200. Nothing else happens here.

LINE waits two seconds for our answer and treats slowness as failure, so the view never
calls the Messaging API and never runs a handler: it commits the events to the inbox and
hands their ids to the dispatcher (bot/dispatch.py), which continues off the request.
"""

from __future__ import annotations

import json
import logging

from flask import Blueprint, abort, current_app, jsonify, request
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.webhook import WebhookParser
from linebot.v3.models.events import UnknownEvent

from . import inbox
from .bootstrap import Services

log = logging.getLogger(__name__)

bp = Blueprint("webhook", __name__)


def services() -> Services:
    return current_app.extensions["citybot"]


@bp.post("/callback")
def callback():
    svc = services()
    limit = svc.config.webhook_max_bytes
    if request.content_length is not None and request.content_length > limit:
        abort(413)
    body = request.get_data(cache=False)
    if len(body) > limit:
        abort(413)
    signature = request.headers.get("X-Line-Signature")
    if not signature:
        return _refuse("missing X-Line-Signature")
    try:
        text = body.decode("utf-8")
        payload = WebhookParser(svc.config.channel_secret).parse(text, signature, as_payload=True)
    except InvalidSignatureError:
        return _refuse("bad signature")
    except (ValueError, KeyError, TypeError, AttributeError):  # not JSON, or not a webhook body
        return _refuse("not a webhook body")
    raw_events = json.loads(text)["events"]
    if not isinstance(raw_events, list):
        return _refuse("events is not a list")
    keep = []
    for parsed, raw in zip(payload.events, raw_events):
        if isinstance(parsed, UnknownEvent) or not isinstance(raw, dict) or not _has_ids(raw):
            log.info("ignoring unknown or malformed %r event", str(raw.get("type") if isinstance(raw, dict) else raw)[:40])
            continue
        keep.append(raw)
    with svc.sessions() as session:
        stored = inbox.store_events(session, keep, svc.now())
        session.commit()
    if stored.duplicates:
        log.info("dropped %d redelivered event(s)", stored.duplicates)
    svc.dispatcher.submit(stored.inserted, stored.users)
    return jsonify(received=len(raw_events), stored=len(stored.inserted), duplicates=stored.duplicates)


def _has_ids(raw: dict) -> bool:
    return isinstance(raw.get("webhookEventId"), str) and 0 < len(raw["webhookEventId"]) <= 64 \
        and isinstance(raw.get("timestamp"), int) and not isinstance(raw.get("timestamp"), bool) \
        and 0 <= raw["timestamp"] < 253402300799000  # before year 10000


def _refuse(reason: str):
    log.warning("webhook refused: %s", reason)
    return jsonify(error=reason), 400
