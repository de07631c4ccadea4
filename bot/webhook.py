"""POST /callback: verify, parse, store, answer 200. Nothing else happens here.

LINE waits two seconds for our answer and treats slowness as failure, so the view never
calls the Messaging API and never runs a handler: it commits the events to the inbox and
hands their ids to the dispatcher (bot/dispatch.py), which continues off the request.

A signed body is LINE's, but its strings are whatever a phone sent: each event is made
safe here, once, for everything after it (`clean`): a lone surrogate cannot be encoded to
send an answer and NUL cannot be stored in PostgreSQL text, so both become U+FFFD; an
event nested deeper than any LINE sends would make later recursive code (the SDK's
models, JSON encoders) fail, so it is ignored, and a body too deep to parse at all is
refused with a 400 rather than a 500.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, request
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.models.events import UnknownEvent
from linebot.v3.webhook import WebhookParser

from . import inbox
from .bootstrap import Services

log = logging.getLogger(__name__)

#: LINE's events are a handful of levels deep (message -> mention -> mentionees -> ...).
MAX_EVENT_DEPTH = 32
#: webhookEventId is a ULID; anything printable up to 64 is tolerated, nothing else stored.
EVENT_ID = re.compile(r"[\x21-\x7e]{1,64}")
UNSAFE_TEXT = re.compile(r"[\x00\ud800-\udfff]")  # str holds lone surrogates only

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
    except RecursionError:  # JSON nested deeper than the parser's recursion limit
        return _refuse("body nested too deep")
    raw_events = json.loads(text)["events"]
    if not isinstance(raw_events, list):
        return _refuse("events is not a list")
    keep = []
    for parsed, raw in zip(payload.events, raw_events):
        safe = clean(raw) if isinstance(raw, dict) else None
        if isinstance(parsed, UnknownEvent) or safe is None or not _has_ids(safe):
            kind = raw.get("type") if isinstance(raw, dict) else raw
            log.info("ignoring unknown or malformed %r event", clean(str(kind)[:40]))
            continue
        keep.append(safe)
    with svc.sessions() as session:
        stored = inbox.store_events(session, keep, svc.now())
        session.commit()
    if stored.duplicates:
        log.info("dropped %d redelivered event(s)", stored.duplicates)
    svc.dispatcher.submit(stored.inserted, stored.users)
    return jsonify(received=len(raw_events), stored=len(stored.inserted), duplicates=stored.duplicates)


def _has_ids(raw: dict) -> bool:
    return isinstance(raw.get("webhookEventId"), str) and EVENT_ID.fullmatch(raw["webhookEventId"]) is not None \
        and isinstance(raw.get("timestamp"), int) and not isinstance(raw.get("timestamp"), bool) \
        and 0 <= raw["timestamp"] < 253402300799000  # before year 10000


def clean(value: Any, max_depth: int = MAX_EVENT_DEPTH) -> Any:
    """A copy of parsed JSON whose strings (keys too) can be stored and sent: NUL and lone
    surrogates become U+FFFD. None if nested deeper than `max_depth`. Walks with its own
    stack, so no depth can make it recurse."""
    holder: list[Any] = [None]
    stack: list[tuple[Any, Any, Any, int]] = [(value, holder, 0, 1)]
    while stack:
        node, parent, slot, depth = stack.pop()
        if isinstance(node, str):
            node = UNSAFE_TEXT.sub("\ufffd", node)
        elif isinstance(node, (dict, list)):
            if depth > max_depth:
                return None
            items: list[tuple[Any, Any]] = list(node.items()) if isinstance(node, dict) else list(enumerate(node))
            if isinstance(node, dict):
                items = [(UNSAFE_TEXT.sub("\ufffd", key), item) for key, item in items]
                node = dict.fromkeys(key for key, _ in items)
            else:
                node = [None] * len(items)
            stack.extend((item, node, key, depth + 1) for key, item in items)
        parent[slot] = node
    return holder[0]


def _refuse(reason: str):
    log.warning("webhook refused: %s", reason)
    return jsonify(error=reason), 400
