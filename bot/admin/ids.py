"""Row ids from outside (URLs, query strings, hidden form fields): only ones a table can hold.

Every id column is a 32-bit INTEGER. PostgreSQL refuses to compare it with a larger
number (an error, so a 500), SQLite just finds nothing; a negative id or 0 never
names a row either. So an id outside 1..2**31-1 is treated as "no such row" before
it reaches the database:

- routes take `<id:name>` (the `id` converter below, registered by bot.admin.init_app):
  anything else does not match the rule, a 404 like any unknown URL, whatever the method;
- ids from query strings or forms go through `stored_id()`, which gives None for them.
"""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1


def stored_id(value: Any) -> int | None:
    """An id that can name a row (1..2**31-1), from an int or a string of ASCII digits; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        if not (value.isascii() and value.isdigit()) or len(value) > 12:
            return None
        value = int(value)
    if not isinstance(value, int) or not 1 <= value <= MAX_ID:
        return None
    return value


def digits_up_to(limit: int) -> str:
    """A regular expression for the decimal numbers 1..limit (no sign, no leading zero)."""
    text = str(limit)
    parts = [f"[1-9][0-9]{{0,{len(text) - 2}}}"] if len(text) > 1 else []  # the shorter numbers
    for i, digit in enumerate(text):  # as long as limit: equal up to i, smaller at i, anything after
        low = 1 if i == 0 else 0
        if int(digit) > low:
            rest = len(text) - i - 1
            parts.append(f"{text[:i]}[{low}-{int(digit) - 1}]" + (f"[0-9]{{{rest}}}" if rest else ""))
    parts.append(text)
    return "(?:" + "|".join(parts) + ")"


class IdConverter(IntegerConverter):
    """`<id:incident_id>`: a number naming a possible row, 1..2**31-1; any other is a 404.

    The range is in the regular expression, not only in to_python: Werkzeug checks the
    method before the converter, so a POST to /incidents/2147483648 would otherwise be a
    405 (the GET rule's pattern matched) where an unknown URL is a 404."""

    regex = digits_up_to(MAX_ID)

    def __init__(self, map: Any) -> None:  # noqa: A002 - werkzeug's name
        super().__init__(map, min=1, max=MAX_ID)
