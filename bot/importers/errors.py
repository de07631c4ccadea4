"""What every importer raises when nothing can be written, and how it quotes a validation error."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError


class ImportFailed(Exception):
    """Nothing usable, or the result does not validate: nothing written. `conversion` holds
    what was read and the problems met, when the importer knows them."""

    def __init__(self, message: str, conversion: Any = None):
        super().__init__(message)
        self.conversion = conversion


def first_error(exc: ValidationError) -> str:
    """The first of pydantic's errors, as `where: what` (one line for a problem report)."""
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else error["msg"]
