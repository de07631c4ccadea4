"""The large-waste tables: a day's places per area, the bookings, and the contact details
kept apart so the clock can empty them (the booking service: domain.py)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime
from bot.statuses import Status, StatusType, check_in, transitions


class BookingStatus(Status):
    """Where a pickup stands: booked until the day (moving it to another day keeps it
    booked), or cancelled by the resident or by staff for them; a cancelled booking is
    only kept to be read (the crews' list, the staff page) until the clock erases it."""

    BOOKED = "booked"        # 予約済み
    CANCELLED = "cancelled"  # 取消


transitions(BookingStatus, {
    BookingStatus.BOOKED: {BookingStatus.CANCELLED},
    BookingStatus.CANCELLED: set(),
})


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

    The place is what the resident typed or chose ("自宅前"); the booking number is what
    they write on the 処理券 and tell staff. Who and where is in LargeWasteContact."""

    __tablename__ = "large_waste_bookings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)  # LW-2026-000123
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    area: Mapped[str] = mapped_column(String(64))
    date: Mapped[date] = mapped_column()
    place: Mapped[str] = mapped_column(String(100))
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # [{name, category, fee, quantity}]
    total_fee: Mapped[int] = mapped_column(Integer)
    status: Mapped[BookingStatus] = mapped_column(StatusType(BookingStatus), default=BookingStatus.BOOKED)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    request_key: Mapped[str] = mapped_column(String(100), unique=True)  # the confirming step

    __table_args__ = (Index("ix_large_waste_bookings_date_area", "date", "area"),
                      Index("ix_large_waste_bookings_resident", "resident_id"),
                      check_in(BookingStatus, "large_waste_bookings"))


class LargeWasteContact(Base):
    """Who to call and where to go for one booking, as the resident typed it. Kept until
    the collection day (or the cancellation) plus the rules' contact.keep_days, then
    deleted by the clock; never written to a log. One row per booking."""

    __tablename__ = "large_waste_contacts"

    booking_id: Mapped[int] = mapped_column(ForeignKey("large_waste_bookings.id", ondelete="CASCADE"),
                                            primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    address: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(16))  # digits only: 09012345678
