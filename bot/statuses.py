"""Statuses as enums, each with the moves it allows, and the CHECK that keeps the column honest.

A status column was a bare string compared in many places, so nothing said which moves
are legal, and a typo ("deliverd") was a new status rather than an error. Here a status
type is a `Status` (a `StrEnum`: its members *are* the strings the database holds, so
rows, JSON and templates see no change) with one table of transitions declared right
under it:

    class PhotoStatus(Status):
        DRAFT = "draft"
        SENT = "sent"

    transitions(PhotoStatus, {
        PhotoStatus.DRAFT: {PhotoStatus.SENT},
        PhotoStatus.SENT: set(),
    })

`move(row, PhotoStatus.SENT)` changes a row's status and refuses a move the table does
not allow (`IllegalTransition`, naming the row and what it may become instead), and
`check_in(PhotoStatus, "photos")` is the CHECK constraint the model and its migration
declare, so the database refuses a value no code knows either. Conditional UPDATEs
(claims) set statuses in SQL; `sources(target)` gives them the statuses a move to
`target` may start from, from the same table.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Iterable, Mapping, TypeVar

from sqlalchemy import CheckConstraint, String, TypeDecorator

S = TypeVar("S", bound="Status")

_TABLES: dict[type["Status"], dict["Status", frozenset["Status"]]] = {}


class IllegalTransition(ValueError):
    """A move the status type's table does not allow: a bug, or a row that moved meanwhile."""


class Status(StrEnum):
    """The base of every status type; declare its members, then its `transitions`."""

    @classmethod
    def table(cls) -> Mapping["Status", frozenset["Status"]]:
        try:
            return _TABLES[cls]
        except KeyError:
            raise TypeError(f"{cls.__name__} has no transitions declared (bot.statuses.transitions)") from None

    @property
    def allowed(self) -> frozenset["Status"]:
        """The statuses this one may become."""
        return type(self).table()[self]

    @property
    def final(self) -> bool:
        """Nothing follows: a row here only stays to be read."""
        return not self.allowed

    def can_become(self, target: "Status") -> bool:
        return type(target) is type(self) and target in self.allowed

    def check(self, target: "Status", what: str = "") -> None:
        """Raise IllegalTransition unless this status may become `target`."""
        if self.can_become(target):
            return
        if type(target) is not type(self):
            raise IllegalTransition(f"{what or type(self).__name__}: {target!r} is not a {type(self).__name__}")
        may = ", ".join(sorted(self.allowed)) or "nothing: it is final"
        raise IllegalTransition(f"{what or type(self).__name__}: {self.value} -> {target.value} is not allowed "
                                f"(from {self.value} it may become {may})")

    @classmethod
    def sources(cls: type[S], target: S) -> tuple[S, ...]:
        """The statuses that may become `target`, in declaration order (for SQL WHERE clauses)."""
        return tuple(s for s in cls if target in s.allowed)


def transitions(cls: type[S], table: Mapping[S, Iterable[S]]) -> None:
    """Declare a status type's moves: every member a key (a final one maps to nothing),
    every target a member. Checked here, at import, so a table with a hole fails at once."""
    if cls in _TABLES:
        raise TypeError(f"{cls.__name__}: transitions are declared once")
    missing = [m.value for m in cls if m not in table]
    if missing:
        raise TypeError(f"{cls.__name__}: no transitions given for {', '.join(missing)} (a final status maps to set())")
    frozen: dict[Status, frozenset[Status]] = {}
    for source, targets in table.items():
        targets = frozenset(targets)
        strangers = [repr(t) for t in (source, *targets) if not isinstance(t, cls)]
        if strangers:
            raise TypeError(f"{cls.__name__}: not members: {', '.join(strangers)}")
        frozen[source] = targets
    _TABLES[cls] = frozen


def move(row: Any, target: Status, *, column: str = "status") -> None:
    """Set `row.<column>` to `target` if its table allows the move from the current status.

    The current value is read as the target's type, so a row holding a string no member
    has raises too (ValueError) instead of being moved on silently."""
    kind = type(target)
    current = kind(getattr(row, column))
    ident = getattr(row, "id", None)
    current.check(target, f"{type(row).__name__}{f' {ident}' if ident is not None else ''} {column}")
    setattr(row, column, target)


class StatusType(TypeDecorator):
    """A status column: VARCHAR in the database (the same strings as before), the type's
    members in Python, so a loaded row's status has `allowed` and `final`; a value no
    member has is refused before it reaches the database."""

    impl = String(16)
    cache_ok = True

    def __init__(self, cls: type[Status], length: int = 16):
        super().__init__(length)
        self.status_type = cls

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else self.status_type(value).value

    def process_result_value(self, value: Any, dialect: Any) -> Status | None:
        return None if value is None else self.status_type(value)

    def copy(self, **kw: Any) -> "StatusType":
        return StatusType(self.status_type, self.impl.length)


def check_in(cls: type[Status], table: str, column: str = "status") -> CheckConstraint:
    """`<column> IN (...)` over the type's values, named ck_<table>_<column> (the
    migration that adds it uses the same name, so a later one can drop it)."""
    return CheckConstraint(in_clause(cls, column), name=f"ck_{table}_{column}")


def in_clause(cls: type[Status] | Iterable[str], column: str = "status") -> str:
    values = [s.value if isinstance(s, Status) else str(s) for s in cls]
    for value in values:
        if "'" in value:
            raise ValueError(f"a status value may not hold a quote: {value!r}")
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"
