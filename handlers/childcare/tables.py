"""What the bot keeps of the nursery service: places last seen, and who waits for which.

`childcare_places` is what the bot last saw of each facility and class: when a newer
table turns 0 places into more than 0, the followers of that facility whose child is in
that class get one push (source key per facility, class and as-of date), so a repeated
import, or two processes syncing at once, tell nobody twice. The table names stay as
the migrations made them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint, and_, delete, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.db import Base, UTCDateTime, insert_for
from bot.models import Resident

from .places import FacilitiesFile, VacanciesFile, class_of, fiscal_year


# -- the tables -----------------------------------------------------------------------------------
class ChildcarePlaces(Base):
    """What the bot last saw of one facility and class: the places and the table's date.

    Only here to notice a 0 -> more-than-0 change between two vacancy tables."""

    __tablename__ = "childcare_places"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    facility_id: Mapped[str] = mapped_column(String(64))
    age_class: Mapped[int] = mapped_column(Integer)
    places: Mapped[int] = mapped_column(Integer)
    as_of: Mapped[date] = mapped_column()

    __table_args__ = (UniqueConstraint("facility_id", "age_class"),)


class ChildcareFollow(Base):
    """A resident waiting for a place at one facility, for one child.

    The child is kept as a cohort (the fiscal year they are 0 on April 1), so the class
    moves up each April with the child; no birth date is copied here."""

    __tablename__ = "childcare_follows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), index=True)
    facility_id: Mapped[str] = mapped_column(String(64), index=True)
    cohort: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("resident_id", "facility_id", "cohort"),)

    def class_on(self, day: date) -> int:
        return class_of(self.cohort, day)


def follow(session: Session, resident: Resident, facility_id: str, cohort_year: int, now: datetime) -> bool:
    """Follow (idempotent: a double tap follows once); False when already following."""
    row = insert_for(session, ChildcareFollow).values(
        resident_id=resident.id, facility_id=facility_id, cohort=cohort_year, created_at=now,
    ).on_conflict_do_nothing().returning(ChildcareFollow.id)
    return session.scalar(row) is not None


def unfollow(session: Session, resident: Resident, facility_id: str) -> int:
    result = session.execute(delete(ChildcareFollow).where(ChildcareFollow.resident_id == resident.id,
                                                           ChildcareFollow.facility_id == facility_id))
    return result.rowcount or 0


def follows_of(session: Session, resident: Resident) -> list[ChildcareFollow]:
    return list(session.scalars(select(ChildcareFollow).where(ChildcareFollow.resident_id == resident.id)
                                .order_by(ChildcareFollow.created_at, ChildcareFollow.id)))


def followers(facility_id: str, age: int, on: date):
    """SELECT of resident ids following `facility_id` whose child is in class `age` on `on`."""
    fy = fiscal_year(on)
    in_class = ChildcareFollow.cohort >= fy if age == 0 else ChildcareFollow.cohort == fy - age
    return select(ChildcareFollow.resident_id).where(ChildcareFollow.facility_id == facility_id, in_class).distinct()


# -- noticing openings ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Opening:
    facility_id: str
    age_class: int
    places: int
    as_of: date


def record(session: Session, table: VacanciesFile, facilities: FacilitiesFile) -> list[Opening]:
    """Bring `childcare_places` up to `table`; the (facility, class) pairs that went from
    0 places to more than 0. An older table than the one recorded changes nothing, a
    facility the table does not list is left as it was, and a pair seen for the first
    time is not an opening (nobody could have been waiting).

    Each change is a conditional UPDATE on the row as it was read, so when two processes
    record the same table at once only one of them reports the opening."""
    seen = {(row.facility_id, row.age_class): row
            for row in session.scalars(select(ChildcarePlaces))}
    openings: list[Opening] = []
    for facility in facilities.facilities:
        if facility.id not in table.places:
            continue  # not in this table: unknown, neither full nor open
        for age in facility.ages:
            places = table.places_for(facility.id, age)
            row = seen.get((facility.id, age))
            if row is None:
                session.execute(insert_for(session, ChildcarePlaces).values(
                    facility_id=facility.id, age_class=age, places=places, as_of=table.as_of,
                ).on_conflict_do_nothing())
                continue
            if table.as_of < row.as_of or (table.as_of == row.as_of and places == row.places):
                continue
            changed = session.execute(
                update(ChildcarePlaces)
                .where(and_(ChildcarePlaces.id == row.id, ChildcarePlaces.places == row.places,
                            ChildcarePlaces.as_of == row.as_of))
                .values(places=places, as_of=table.as_of)
                .execution_options(synchronize_session=False))
            if changed.rowcount and row.places == 0 and places > 0:
                openings.append(Opening(facility.id, age, places, table.as_of))
    return openings


def forget_newer(session: Session, as_of: date) -> int:
    """Staff replaced a table with an older one on purpose (`--force`: the newer one was a
    mistake): what was seen after `as_of` no longer holds back the comparison."""
    result = session.execute(update(ChildcarePlaces).where(ChildcarePlaces.as_of > as_of).values(as_of=as_of)
                             .execution_options(synchronize_session=False))
    return result.rowcount or 0


def source_key(opening: Opening) -> str:
    return f"childcare:opening:{opening.facility_id}:{opening.age_class}:{opening.as_of.isoformat()}"


def places_seen(session: Session) -> dict[tuple[str, int], Any]:
    return {(row.facility_id, row.age_class): row.places for row in session.scalars(select(ChildcarePlaces))}
