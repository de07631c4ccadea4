"""What a signed webhook body holds, taken apart after the acknowledgement (in a worker).

The SDK's WebhookParser reads the body (its signature was checked by the web process with
the SDK's SignatureValidator before the body was stored, so it is not checked twice); an
event kind the SDK does not know, or one without the ids the inbox needs, is dropped with
a line in the log.

A signed body is LINE's, but its strings are whatever a phone sent: each event is made
safe here, once, for everything after it (`clean`): a lone surrogate cannot be encoded to
send an answer and NUL cannot be stored in PostgreSQL text, so both become U+FFFD; an
event nested deeper than any LINE sends would make later recursive code (the SDK's
models, JSON encoders) fail, so it is dropped.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

log = logging.getLogger(__name__)

#: LINE's events are a handful of levels deep (message -> mention -> mentionees -> ...).
MAX_EVENT_DEPTH = 32
#: webhookEventId is a ULID; anything printable up to 64 is tolerated, nothing else stored.
EVENT_ID = re.compile(r"[\x21-\x7e]{1,64}")
UNSAFE_TEXT = re.compile(r"[\x00\ud800-\udfff]")  # str holds lone surrogates only


def events_of(body: str) -> list[dict[str, Any]]:
    """The events of one body worth storing, made safe, in the order they came."""
    from linebot.v3.models.events import UnknownEvent
    from linebot.v3.webhook import WebhookParser

    try:
        raw_events = json.loads(body)["events"]
        parsed = WebhookParser("", skip_signature_verification=lambda: True).parse(body, "", as_payload=True).events
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        log.warning("dropping a signed body that is not a webhook body (%s)", exc.__class__.__name__)
        return []
    keep = []
    for event, raw in zip(parsed, raw_events):
        safe = clean(raw) if isinstance(raw, dict) else None
        if isinstance(event, UnknownEvent) or safe is None or not has_ids(safe):
            kind = raw.get("type") if isinstance(raw, dict) else raw
            log.info("ignoring unknown or malformed %r event", clean(str(kind)[:40]))
            continue
        keep.append(safe)
    return keep


def has_ids(raw: dict) -> bool:
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
