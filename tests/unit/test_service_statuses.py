"""A service's statuses (large-waste bookings, broadcasts) move only as their package's table allows."""

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import CheckConstraint

from bot.statuses import IllegalTransition, move
from handlers.disaster.broadcasts import STATUSES as BROADCAST_STATUSES
from handlers.disaster.tables import Broadcast, BroadcastStatus
from handlers.large_waste.tables import BookingStatus, LargeWasteBooking


# -- large-waste bookings ---------------------------------------------------------------------
def test_a_booking_is_cancelled_once_and_stays_cancelled():
    booking = SimpleNamespace(id=3, status="booked")
    move(booking, BookingStatus.CANCELLED)
    assert booking.status is BookingStatus.CANCELLED and BookingStatus.CANCELLED.final
    with pytest.raises(IllegalTransition, match="cancelled -> booked is not allowed .*it is final"):
        move(booking, BookingStatus.BOOKED)
    with pytest.raises(IllegalTransition, match="cancelled -> cancelled"):
        move(booking, BookingStatus.CANCELLED)
    assert booking.status is BookingStatus.CANCELLED


def test_the_cancel_update_starts_only_from_a_booked_booking():
    assert BookingStatus.sources(BookingStatus.CANCELLED) == (BookingStatus.BOOKED,)


# -- broadcasts ---------------------------------------------------------------------------------
@pytest.mark.parametrize("decision", [BroadcastStatus.SENT, BroadcastStatus.REJECTED, BroadcastStatus.CANCELLED])
def test_a_pending_broadcast_is_decided_once(decision):
    broadcast = SimpleNamespace(id=9, status="pending")
    move(broadcast, decision)
    assert broadcast.status is decision and decision.final
    for other in BroadcastStatus:
        with pytest.raises(IllegalTransition, match=f"SimpleNamespace 9 status: {decision.value} -> "):
            move(broadcast, other)


def test_a_sent_broadcast_cannot_be_sent_back():
    with pytest.raises(IllegalTransition, match="sent -> rejected is not allowed"):
        BroadcastStatus.SENT.check(BroadcastStatus.REJECTED)
    assert BroadcastStatus.sources(BroadcastStatus.SENT) == (BroadcastStatus.PENDING,)
    assert BROADCAST_STATUSES == tuple(BroadcastStatus)


# -- the tables and the migration --------------------------------------------------------------
def test_the_tables_carry_the_checks_from_the_enums():
    checks = {c.name: str(c.sqltext) for table in (LargeWasteBooking, Broadcast)
              for c in table.__table__.constraints if isinstance(c, CheckConstraint)}
    assert checks == {"ck_large_waste_bookings_status": "status IN ('booked', 'cancelled')",
                      "ck_broadcasts_status": "status IN ('pending', 'sent', 'rejected', 'cancelled')"}


def test_migration_0014_lists_what_the_enums_hold():
    path = Path(__file__).resolve().parents[2] / "bot" / "migrations" / "versions" / "0014_service_status_checks.py"
    spec = importlib.util.spec_from_file_location("m0014", path)
    assert spec and spec.loader
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert migration.BOOKING == tuple(BookingStatus) and migration.BROADCAST == tuple(BroadcastStatus)
