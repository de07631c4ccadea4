"""Logging with the event being processed on every line, and no personal data.

User ids appear only as pseudonyms (bot.dispatch.mask_user); message text is never
logged. The event id and pseudonym come from a context variable set by the dispatch
middleware, so handlers need not pass them around.
"""

from __future__ import annotations

import logging

from .dispatch import log_context

FORMAT = "%(asctime)s %(levelname)s %(name)s [%(event)s %(user)s] %(message)s"


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        context = log_context.get()
        record.event = context.get("event", "-")
        record.user = context.get("user", "-")
        return True


def configure(level: str = "INFO") -> None:
    root = logging.getLogger()
    if any(getattr(h, "_citybot", False) for h in root.handlers):
        root.setLevel(level.upper())
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(ContextFilter())
    handler._citybot = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
    # the SDK logs "Unknown event type. type=..." at INFO, with our own line right after
    logging.getLogger("linebot").setLevel(logging.WARNING)
