"""Row ids from outside (URLs, query strings, hidden form fields): only ones a table can hold.

Every id column is a 32-bit INTEGER. PostgreSQL refuses to compare it with a larger
number (an error, so a 500), SQLite just finds nothing; a negative id or 0 never
names a row either. So an id outside 1..2**31-1 is treated as "no such row" before
it reaches the database:

- routes take `<id:name>` (the `id` converter below, registered by bot.admin.init_app):
  anything else does not match the rule, a 404 like any unknown URL;
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


class IdConverter(IntegerConverter):
    """`<id:incident_id>`: digits naming a possible row, 1..2**31-1 (others: 404)."""

    def __init__(self, map: Any) -> None:  # noqa: A002 - werkzeug's name
        super().__init__(map, min=1, max=MAX_ID)
