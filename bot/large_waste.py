"""粗大ごみ (large waste) pickup by booking: the rules, the tables, and the booking service.

The city collects large waste on booked days only, a limited number of pickups per
collection area and day. `content/large_waste/rules.yaml` says which days each area is
collected, how many pickups a day takes, how far ahead residents may book and until
when (17:00 two working days before), and where things may be put out. The items and
their fees are the garbage book's (categories with `large_waste: true`), never copied.

A day's places are a row in `large_waste_slots` (area, date, capacity, booked). Booking
takes a place with one conditional UPDATE (`booked < capacity`) in the same transaction
as the booking row, so a day is never overbooked on SQLite or PostgreSQL, whoever books
at the same moment. `request_key` (unique) names the confirming step, so a double tap
books once. Staff export a day's bookings with `citybot bookings export` (no LINE ids).
"""

from __future__ import annotations

import re
import sys
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Iterable, Mapping
from zoneinfo import ZoneInfo

import click
import jpholiday
from pydantic import AfterValidator, BeforeValidator, Field, model_validator
from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint, and_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from . import csvsafe
from .content.models import Label, Strict, Text
from .content.store import Content
from .content.yamlfile import Problem, YamlDocument
from .db import Base, UTCDateTime, insert_for
from .garbage.models import Id, Item, Rule

RULES = "large_waste/rules"


# -- the tables -------------------------------------------------------------------------------
class LargeWasteSlot(Base):
    """The pickups one area takes on one collection day; created when first booked."""

    __tablename__ = "large_waste_slots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    area: Mapped[str] = mapped_column(String(64))
    date: Mapped[date] = mapped_column()
    capacity: Mapped[int] = mapped_column(Integer)  # as the rules said at the last booking
    booked: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (UniqueConstraint("area", "date"),)


class LargeWasteBooking(Base):
    """One resident's pickup: what, where, when, and the fee they pay with 処理券.

    No name or address is kept: the place is what the resident typed or chose
    ("自宅前"); the booking number is what they write on the 処理券 and tell staff."""

    __tablename__ = "large_waste_bookings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)  # LW-2026-000123
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    area: Mapped[str] = mapped_column(String(64))
    date: Mapped[date] = mapped_column()
    place: Mapped[str] = mapped_column(String(100))
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # [{name, category, fee, quantity}]
    total_fee: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="booked")  # booked | cancelled
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    request_key: Mapped[str] = mapped_column(String(100), unique=True)  # the confirming step

    __table_args__ = (Index("ix_large_waste_bookings_date_area", "date", "area"),
                      Index("ix_large_waste_bookings_resident", "resident_id"))


# -- the rules (content/large_waste/rules.yaml) --------------------------------------------------
def _month_day(value: Any) -> tuple[int, int]:
    found = re.fullmatch(r"(\d{1,2})-(\d{1,2})", str(value).strip())
    if not found:
        raise ValueError(f"{value!r}: write a month and day as MM-DD, for example 12-29")
    month, day = int(found[1]), int(found[2])
    date(2028, month, day)  # a real day of some year (02-29 too)
    return month, day


def _time_of_day(value: str) -> time:
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", str(value)):
        raise ValueError(f"{value!r} is not a time of day written HH:MM (for example 17:00)")
    return time(int(value[:2]), int(value[3:]))


MonthDay = Annotated[tuple[int, int], BeforeValidator(_month_day)]


class Limits(Strict):
    pieces: int = Field(ge=1, le=50)   # items in one booking, counting quantities
    kinds: int = Field(ge=1, le=10)    # different items in one booking


class DateCapacity(Strict):
    date: date
    capacity: int = Field(ge=0)
    areas: list[Id] | None = None      # None: every area


class Capacity(Strict):
    default: int = Field(ge=0)
    areas: dict[Id, int] = {}          # area -> pickups per collection day
    dates: list[DateCapacity] = []     # one day differs (0 closes it)


class Window(Strict):
    from_days: int = Field(ge=0)
    to_days: int = Field(ge=1, le=180)

    @model_validator(mode="after")
    def _ordered(self) -> "Window":
        if self.to_days < self.from_days:
            raise ValueError(f"to_days {self.to_days} is before from_days {self.from_days}")
        return self


def _checked_time(value: str) -> str:
    _time_of_day(value)
    return value


class Cutoff(Strict):
    time: Annotated[str, AfterValidator(_checked_time)]
    working_days_before: int = Field(ge=0, le=10)


class YearEnd(Strict):
    model_config = Strict.model_config | {"populate_by_name": True}

    start: MonthDay = Field(alias="from")
    end: MonthDay = Field(alias="to")

    def covers(self, day: date) -> bool:
        md = (day.month, day.day)
        if self.start <= self.end:
            return self.start <= md <= self.end
        return md >= self.start or md <= self.end  # 12-29 .. 01-03 wraps round the year


class Place(Strict):
    id: Id
    label: Label
    other: bool = False                # "その他": the resident types the place


class RulesFile(Strict):
    """content/large_waste/rules.yaml."""

    limits: Limits
    days: dict[Id, list[Rule]] = Field(min_length=1)  # area -> collection day rules
    capacity: Capacity
    window: Window
    cutoff: Cutoff
    year_end: YearEnd                  # no collection, and not a working day
    collect_on_holidays: bool = False  # national holidays (jpholiday)
    places: list[Place] = Field(min_length=1, max_length=8)
    instructions: Text

    def capacity_of(self, area: str, day: date) -> int:
        for special in self.capacity.dates:
            if special.date == day and (special.areas is None or area in special.areas):
                return special.capacity
        return self.capacity.areas.get(area, self.capacity.default)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and not jpholiday.is_holiday(day) and not self.year_end.covers(day)

    def is_collection_day(self, area: str, day: date) -> bool:
        rules = self.days.get(area, [])
        if not any(rule.matches(day) for rule in rules) or self.year_end.covers(day):
            return False
        return self.collect_on_holidays or not jpholiday.is_holiday(day)

    def cutoff_of(self, day: date, tz: ZoneInfo) -> datetime:
        """17:00 (say) of the second working day before the collection day."""
        before, counted = day, 0
        while counted < self.cutoff.working_days_before:
            before -= timedelta(days=1)
            if self.is_working_day(before):
                counted += 1
        return datetime.combine(before, _time_of_day(self.cutoff.time), tzinfo=tz)

    def open_for_booking(self, area: str, day: date, now: datetime, tz: ZoneInfo) -> bool:
        """A collection day inside the window whose cut-off has not passed (places aside)."""
        today = now.astimezone(tz).date()
        return (today + timedelta(days=self.window.from_days) <= day <= today + timedelta(days=self.window.to_days)
                and self.is_collection_day(area, day) and now < self.cutoff_of(day, tz))

    def changeable(self, day: date, now: datetime, tz: ZoneInfo) -> bool:
        return now < self.cutoff_of(day, tz)


def rules_of(content: Content) -> RulesFile:
    return content[RULES]


def bookable_items(book) -> list[Item]:
    """Items of the garbage book the city collects on booking; one without a fee (imported
    data may lack it) cannot be booked until staff add it."""
    return [item for item in book.items if book.category_of(item).large_waste and item.fee is not None]


def unknown_area(area: str, known: set[str]) -> str:
    """The problem, and how to fix it: after `citybot import 5374` the areas are the city's own."""
    some = ", ".join(sorted(known)[:3]) + (", ..." if len(known) > 3 else "")
    return (f"unknown area {area!r}: garbage/areas.yaml has no such area (an import replaces the areas); "
            f"name areas it lists ({some}) or remove this line")


def check_large_waste(content: Content, sources: Mapping[str, YamlDocument]) -> Iterable[Problem]:
    """Areas in the rules are collection areas of garbage/areas.yaml; place ids are unique."""
    if RULES not in content.documents or "garbage/areas" not in content.documents:
        return
    rules, source = rules_of(content), sources[RULES]
    known = {a.id for a in content["garbage/areas"].areas}
    for area in rules.days:
        if area not in known:
            yield source.problem(("days", area), unknown_area(area, known))
    for area in rules.capacity.areas:
        if area not in known:
            yield source.problem(("capacity", "areas", area), unknown_area(area, known))
    for index, special in enumerate(rules.capacity.dates):
        for area in special.areas or ():
            if area not in known:
                yield source.problem(("capacity", "dates", index, "areas"), unknown_area(area, known))
    ids = [p.id for p in rules.places]
    for index, place in enumerate(rules.places):
        if ids.index(place.id) != index:
            yield source.problem(("places", index, "id"), f"place id {place.id!r} is listed twice")


# -- booking -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    """What a booking attempt came to: booked (or booked before, same request), full, closed."""

    status: str  # booked | repeated | full | closed
    booking: LargeWasteBooking | None = None


def offered_dates(session: Session, rules: RulesFile, area: str, now: datetime, tz: ZoneInfo,
                  limit: int = 10, excluding: date | None = None) -> list[date]:
    """The next days a resident may book: collection days inside the window, before their
    cut-off, with a place left."""
    today = now.astimezone(tz).date()
    days = [today + timedelta(days=n) for n in range(rules.window.from_days, rules.window.to_days + 1)]
    days = [d for d in days if d != excluding and rules.open_for_booking(area, d, now, tz)]
    if not days:
        return []
    taken = dict(session.execute(select(LargeWasteSlot.date, LargeWasteSlot.booked).where(
        LargeWasteSlot.area == area, LargeWasteSlot.date.between(days[0], days[-1]))).all())
    return [d for d in days if taken.get(d, 0) < rules.capacity_of(area, d)][:limit]


def _take_place(session: Session, rules: RulesFile, area: str, day: date) -> bool:
    """One place of the day, or False when it is full: an INSERT of the day's row if it is
    new, then one conditional UPDATE, so two bookings can never take the last place."""
    capacity = rules.capacity_of(area, day)
    session.execute(insert_for(session, LargeWasteSlot).values(area=area, date=day, capacity=capacity, booked=0)
                    .on_conflict_do_nothing(index_elements=["area", "date"]))
    taken = session.execute(update(LargeWasteSlot)
                            .where(LargeWasteSlot.area == area, LargeWasteSlot.date == day,
                                   LargeWasteSlot.booked < capacity)
                            .values(booked=LargeWasteSlot.booked + 1, capacity=capacity)
                            .execution_options(synchronize_session=False))
    return taken.rowcount == 1


def _free_place(session: Session, area: str, day: date) -> None:
    session.execute(update(LargeWasteSlot)
                    .where(LargeWasteSlot.area == area, LargeWasteSlot.date == day, LargeWasteSlot.booked > 0)
                    .values(booked=LargeWasteSlot.booked - 1).execution_options(synchronize_session=False))


def book(session: Session, rules: RulesFile, *, resident_id: int, area: str, day: date, place: str,
         items: list[dict[str, Any]], request_key: str, now: datetime, tz: ZoneInfo) -> Outcome:
    """Book a pickup in the caller's transaction (the caller commits). The same
    `request_key` twice gives the first booking back."""
    earlier = session.scalars(select(LargeWasteBooking).where(LargeWasteBooking.request_key == request_key)).first()
    if earlier is not None:
        return Outcome("repeated", earlier)
    if not rules.open_for_booking(area, day, now, tz):
        return Outcome("closed")
    if not _take_place(session, rules, area, day):
        return Outcome("full")
    booking = LargeWasteBooking(
        number=f"tmp-{uuid.uuid4().hex[:28]}", resident_id=resident_id, area=area, date=day, place=place[:100],
        items=[dict(item) for item in items], total_fee=total_fee(items), status="booked", created_at=now,
        request_key=request_key)
    session.add(booking)
    session.flush()
    booking.number = f"LW-{now.astimezone(tz).year}-{booking.id:06d}"
    session.flush()
    return Outcome("booked", booking)


def cancel(session: Session, rules: RulesFile, booking: LargeWasteBooking, now: datetime, tz: ZoneInfo) -> bool:
    """Cancel before the cut-off and free the place; False when it is too late (or done)."""
    if booking.status != "booked" or not rules.changeable(booking.date, now, tz):
        return False
    done = session.execute(update(LargeWasteBooking)
                           .where(LargeWasteBooking.id == booking.id, LargeWasteBooking.status == "booked")
                           .values(status="cancelled", cancelled_at=now).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        return False
    _free_place(session, booking.area, booking.date)
    session.refresh(booking)
    return True


def move(session: Session, rules: RulesFile, booking: LargeWasteBooking, day: date, now: datetime,
         tz: ZoneInfo) -> Outcome:
    """Move a booking to another day: a place on the new day first, then the old one freed."""
    if booking.status != "booked" or not rules.changeable(booking.date, now, tz):
        return Outcome("closed", booking)
    if day == booking.date:
        return Outcome("repeated", booking)
    if not rules.open_for_booking(booking.area, day, now, tz):
        return Outcome("closed", booking)
    if not _take_place(session, rules, booking.area, day):
        return Outcome("full", booking)
    _free_place(session, booking.area, booking.date)
    booking.date = day
    session.flush()
    return Outcome("booked", booking)


def total_fee(items: Iterable[Mapping[str, Any]]) -> int:
    return sum(int(item["fee"]) * int(item["quantity"]) for item in items)


def upcoming(session: Session, resident_id: int, today: date) -> list[LargeWasteBooking]:
    return list(session.scalars(select(LargeWasteBooking).where(
        LargeWasteBooking.resident_id == resident_id, LargeWasteBooking.status == "booked",
        LargeWasteBooking.date >= today).order_by(LargeWasteBooking.date, LargeWasteBooking.id)))


def due_on(session: Session, day: date) -> list[LargeWasteBooking]:
    return list(session.scalars(select(LargeWasteBooking).where(
        and_(LargeWasteBooking.date == day, LargeWasteBooking.status == "booked")).order_by(LargeWasteBooking.id)))


# -- staff: `citybot bookings export` --------------------------------------------------------------
EXPORT_COLUMNS = ("number", "area", "date", "place", "items", "total_fee", "status")


def bookings_on(session: Session, day: date, area: str | None = None) -> list[LargeWasteBooking]:
    """A day's bookings (cancelled ones too), by area and number: what the crews' list
    and the staff page (/admin/bookings) show."""
    query = select(LargeWasteBooking).where(LargeWasteBooking.date == day)
    if area:
        query = query.where(LargeWasteBooking.area == area)
    return list(session.scalars(query.order_by(LargeWasteBooking.area, LargeWasteBooking.number)))


def export_row(b: LargeWasteBooking) -> dict[str, Any]:
    """One booking as the export writes it: no resident ids, no LINE user ids."""
    return {"number": b.number, "area": b.area, "date": b.date.isoformat(), "place": b.place,
            "items": "; ".join(f"{i['name']} x{i['quantity']}" for i in b.items),
            "total_fee": b.total_fee, "status": b.status}


def export_rows(session: Session, day: date, area: str | None = None) -> list[dict[str, Any]]:
    """A day's bookings for the collection crews: no resident ids, no LINE user ids."""
    return [export_row(b) for b in bookings_on(session, day, area)]


def write_csv(rows: list[dict[str, Any]], out) -> None:
    """The crews' CSV (the CLI's and /admin/bookings.csv): a place typed as a formula is
    written as text (bot.csvsafe), since residents type it and the crews open it in Excel."""
    writer = csvsafe.DictWriter(out, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)


def register_booking_commands(main_group: click.Group) -> None:
    """Add `citybot bookings ...` to the command line."""

    @main_group.group("bookings")
    def bookings_group() -> None:
        """Large-waste pickups residents booked in the chat."""

    @bookings_group.command("export")
    @click.option("--date", "day", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
                  help="collection day, YYYY-MM-DD")
    @click.option("--area", default=None, help="one collection area id (default: every area)")
    @click.option("--format", "fmt", type=click.Choice(["csv"]), default="csv", show_default=True)
    @click.pass_context
    def export(ctx: click.Context, day: datetime, area: str | None, fmt: str) -> None:
        """The bookings of one collection day, for the crews (no LINE user ids)."""
        from .db import make_engine, make_session_factory

        engine = make_engine(ctx.obj["config"].sqlalchemy_url)
        try:
            with make_session_factory(engine)() as session:
                write_csv(export_rows(session, day.date(), area), sys.stdout)
        finally:
            engine.dispose()
