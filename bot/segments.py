"""Who a push is for, declared as data: districts, garbage areas, topics, languages, the
age of a resident's children on the day of sending.

A segment becomes one SQL query (`recipients`), so picking 300,000 residents out of a
million happens in the database; Python never holds the list. Segments are written in
content YAML (notices, content/segments.yaml) or built by the admin pages, and
validated against the districts, areas and topics content declares.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Iterable

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.orm import Session

from .content.models import LANGUAGES
from .models import Resident, ResidentChild, ResidentTopic
from .profile import month_index


class AgeRange(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min: int = Field(default=0, ge=0, le=30)
    max: int = Field(default=30, ge=0, le=30)

    @model_validator(mode="after")
    def _ordered(self) -> "AgeRange":
        if self.min > self.max:
            raise ValueError(f"child_age min {self.min} is above max {self.max}")
        return self


class Segment(BaseModel):
    """Every listed condition must hold; within one condition, any listed value will do."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    districts: list[str] | None = None
    garbage_areas: list[str] | None = None
    topics: list[str] | None = None
    languages: list[str] | None = None
    child_age: AgeRange | None = None
    everyone: bool = False  # an explicit "all residents who follow", so an empty filter is never a mistake
    # how staff pages name a segment of content/segments.yaml (「0〜2歳の子がいる家庭」), not a condition
    label: str | None = Field(default=None, min_length=1, max_length=60)

    @model_validator(mode="after")
    def _says_something(self) -> "Segment":
        named = [self.districts, self.garbage_areas, self.topics, self.languages, self.child_age]
        if not self.everyone and all(v is None for v in named):
            raise ValueError("a segment needs at least one condition, or everyone: true")
        for field in ("districts", "garbage_areas", "topics", "languages"):
            if getattr(self, field) == []:
                raise ValueError(f"{field}: an empty list would match nobody")
        bad = set(self.languages or ()) - set(LANGUAGES)
        if bad:
            raise ValueError(f"unknown language(s): {', '.join(sorted(bad))}")
        return self

    def unknown_values(self, districts: Iterable[str], areas: Iterable[str], topics: Iterable[str]) -> list[str]:
        """Values content does not declare: a typo would silently match nobody."""
        problems = []
        for field, known in (("districts", set(districts)), ("garbage_areas", set(areas)), ("topics", set(topics))):
            for value in getattr(self, field) or ():
                if value not in known:
                    problems.append(f"{field}: unknown {value!r} (known: {', '.join(sorted(known)) or 'none'})")
        return problems


def conditions(segment: Segment, on: date) -> list[Any]:
    out: list[Any] = [Resident.following.is_(True)]
    if segment.districts is not None:
        out.append(Resident.district.in_(segment.districts))
    if segment.garbage_areas is not None:
        out.append(Resident.garbage_area.in_(segment.garbage_areas))
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
