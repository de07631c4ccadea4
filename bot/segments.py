"""Who a push is for, declared as data: districts, topics, languages, the age of a
resident's children on the day of sending, and what services add (`add_condition`: the
garbage collection area).

A segment becomes one SQL query (`recipients`), so picking 300,000 residents out of a
million happens in the database; Python never holds the list. Segments are written in
content YAML (notices, content/segments.yaml) or built by the admin pages, and
validated against the districts, areas and topics content declares.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Callable, Iterable

from pydantic import BaseModel, ConfigDict, Field, StrictStr, TypeAdapter, model_validator
from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.orm import Session

from .content.models import LANGUAGES
from .models import Resident, ResidentChild, ResidentTopic
from .profile import month_index


class AgeRange(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    min: int = Field(default=0, ge=0, le=30)
    max: int = Field(default=30, ge=0, le=30)

    @model_validator(mode="after")
    def _ordered(self) -> "AgeRange":
        if self.min > self.max:
            raise ValueError(f"child_age min {self.min} is above max {self.max}")
        return self


@dataclass(frozen=True)
class Condition:
    """A condition a service adds: the resident's column `attribute` holds one of the listed
    values, which must be among `known(content)`."""

    attribute: str
    known: Callable[[Any], Iterable[str]]


#: The conditions services add, by the key segments write them with.
CONDITIONS: dict[str, Condition] = {}
_VALUES: TypeAdapter[list[str]] = TypeAdapter(list[StrictStr])


def add_condition(key: str, attribute: str, known: Callable[[Any], Iterable[str]]) -> None:
    CONDITIONS[key] = Condition(attribute, known)


class Segment(BaseModel):
    """Every listed condition must hold; within one condition, any listed value will do.

    Keys other than the fields below are the conditions services add (CONDITIONS)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    districts: list[str] | None = None
    topics: list[str] | None = None
    languages: list[str] | None = None
    child_age: AgeRange | None = None
    everyone: bool = False  # an explicit "all residents who follow", so an empty filter is never a mistake
    # how staff pages name a segment of content/segments.yaml (「0〜2歳の子がいる家庭」), not a condition
    label: str | None = Field(default=None, min_length=1, max_length=60)

    @model_validator(mode="before")
    @classmethod
    def _added(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        added = {key: value for key, value in data.items() if key not in cls.model_fields}
        unknown = [key for key in added if key not in CONDITIONS]
        if unknown:
            raise ValueError(f"unknown condition(s): {', '.join(unknown)} "
                             f"(known: {', '.join([*cls.model_fields, *CONDITIONS])})")
        return {**data, **{key: None if value is None else _VALUES.validate_python(value)
                           for key, value in added.items()}}

    def added(self) -> dict[str, list[str]]:
        """The conditions of services this segment lists."""
        return {key: value for key, value in (self.model_extra or {}).items() if value is not None}

    @model_validator(mode="after")
    def _says_something(self) -> "Segment":
        named = [self.districts, self.topics, self.languages, self.child_age, *self.added().values()]
        if not self.everyone and all(v is None for v in named):
            raise ValueError("a segment needs at least one condition, or everyone: true")
        for field in ("districts", "topics", "languages", *(self.model_extra or {})):
            if getattr(self, field) == []:
                raise ValueError(f"{field}: an empty list would match nobody")
        bad = set(self.languages or ()) - set(LANGUAGES)
        if bad:
            raise ValueError(f"unknown language(s): {', '.join(sorted(bad))}")
        return self

    def unknown_values(self, districts: Iterable[str], topics: Iterable[str], content: Any = None) -> list[str]:
        """Values content does not declare: a typo would silently match nobody."""
        problems = []
        declared = [("districts", set(districts)), ("topics", set(topics))]
        declared += [(key, set(CONDITIONS[key].known(content))) for key in self.added() if content is not None]
        for field, known in declared:
            for value in (self.added().get(field) if field in CONDITIONS else getattr(self, field)) or ():
                if value not in known:
                    problems.append(f"{field}: unknown {value!r} (known: {', '.join(sorted(known)) or 'none'})")
        return problems


def conditions(segment: Segment, on: date) -> list[Any]:
    out: list[Any] = [Resident.following.is_(True)]
    if segment.districts is not None:
        out.append(Resident.district.in_(segment.districts))
    for key, values in segment.added().items():
        out.append(getattr(Resident, CONDITIONS[key].attribute).in_(values))
    if segment.languages is not None:
        out.append(Resident.language.in_(segment.languages))
    if segment.topics is not None:
        out.append(exists().where(and_(ResidentTopic.resident_id == Resident.id,
                                       ResidentTopic.topic.in_(segment.topics))))
    if segment.child_age is not None:
        # aged a on `on` <=> born between a+1 years and a years before (by month)
        now = month_index(on)
        youngest, oldest = now - segment.child_age.min * 12, now - (segment.child_age.max + 1) * 12 + 1
        out.append(exists().where(and_(ResidentChild.resident_id == Resident.id,
                                       ResidentChild.birth_month.between(oldest, youngest))))
    return out


def recipients(segment: Segment, on: date) -> Select:
    """SELECT residents.id of everyone in the segment who still follows the account."""
    return select(Resident.id).where(*conditions(segment, on))


def count(session: Session, segment: Segment, on: date) -> int:
    return session.scalar(select(func.count()).select_from(Resident).where(*conditions(segment, on))) or 0


def segment_label(content: Any, name: str) -> str:
    """A named segment as staff read it: its `label`, else its name."""
    found = content["segments"].segments.get(name) if "segments" in content.documents else None
    return (found.label or name) if found is not None else name
