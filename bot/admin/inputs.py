"""Control characters in what a browser sends to /admin are refused at the door (400).

PostgreSQL refuses NUL in any string, so a NUL in a query parameter or a form field
that reaches a query (?area=, ?actor=, a form key) was a 500 there, while SQLite took
it. No field of this UI needs a control character either, so bot.admin's guard calls
`refused_input()` for every /admin request before anything else:

- the query string (names and values) may hold none at all (Unicode category Cc: C0,
  DEL and C1), since no parameter is free text;
- form values may hold line breaks and tabs (textareas: a status text, a message)
  but no other control character; form field names none.

Undecodable bytes (a lone surrogate's, say) are already U+FFFD when Werkzeug hands the
values over, so they need nothing here.
"""

from __future__ import annotations

import unicodedata
from typing import Iterable

from werkzeug.datastructures import MultiDict

TEXT_CONTROLS = frozenset("\t\n\r")  # allowed in form values only


def _has_control(text: str, allowed: frozenset[str] = frozenset()) -> bool:
    return any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in text)


def _pairs(values: MultiDict) -> Iterable[tuple[str, str]]:
    return values.items(multi=True)


def refused_input(args: MultiDict, form: MultiDict) -> str | None:
    """Where a control character was found ("query" or "form"), or None when all is clean."""
    if any(_has_control(k) or _has_control(v) for k, v in _pairs(args)):
        return "query"
    if any(_has_control(k) or _has_control(v, TEXT_CONTROLS) for k, v in _pairs(form)):
        return "form"
    return None
