"""Logging with the event being processed on every line, and no personal data.

User ids appear only as pseudonyms (bot.dispatch.mask_user); message text is never
logged. The event id and pseudonym come from a context variable set by the dispatch
middleware, so handlers need not pass them around.

LOG_FORMAT=json writes the same records as one JSON object per line (`time`, `level`,
`logger`, `event`, `user`, `message`, and `exception` with the traceback), for a log
collector that would otherwise split a traceback into many events. It is a second
rendering of the same record, so it holds nothing the text lines do not.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

from .dispatch import log_context

FORMAT = "%(asctime)s %(levelname)s %(name)s [%(event)s %(user)s] %(message)s"
FORMATS = ("text", "json")


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (newlines inside are escaped by JSON)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "event": getattr(record, "event", "-"),
            "user": getattr(record, "user", "-"),
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        context = log_context.get()
        record.event = context.get("event", "-")
        record.user = context.get("user", "-")
        return True


def formatter(kind: str = "text") -> logging.Formatter:
    if kind not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, not {kind!r}")
    return JsonFormatter() if kind == "json" else logging.Formatter(FORMAT)


#: libraries whose debug and info lines hold personal data
PRIVATE_LOGGERS = ("sqlalchemy", "urllib3")
#: gunicorn's own loggers: in a gunicorn worker their lines take the chosen format too
GUNICORN_LOGGERS = ("gunicorn.access", "gunicorn.error")


def configure(level: str = "INFO", kind: str = "text") -> None:
    if kind == "json":  # the access log's lines become JSON objects as well (the master's stay text)
        for name in GUNICORN_LOGGERS:
            for handler in logging.getLogger(name).handlers:
                handler.setFormatter(formatter(kind))
    root = logging.getLogger()
    ours = [h for h in root.handlers if getattr(h, "_citybot", False)]
    if ours:
        for handler in ours:
            handler.setFormatter(formatter(kind))
        root.setLevel(level.upper())
        return
    handler = logging.StreamHandler()
    handler.setFormatter(formatter(kind))
    handler.addFilter(ContextFilter())
    handler._citybot = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
    # the SDK logs "Unknown event type. type=..." at INFO, with our own line right after
    logging.getLogger("linebot").setLevel(logging.WARNING)
    # below WARNING these print what we promise never to log, whatever LOG_LEVEL says:
    # SQLAlchemy the rows it reads (user ids), urllib3 the URLs it requests (/profile/U...)
    for name in PRIVATE_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
