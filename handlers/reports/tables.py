"""The tables of reports (通報), and why each column exists.

A report names its reporter only by `resident_id`, for one reason: to tell them when
its status changes. Staff pages never show it. When the resident deletes their data or
blocks the account, the database sets it to NULL (ON DELETE SET NULL): the report stays,
anonymous, because the hole in the road is still the city's to fix.

Photos are kept in the database (every web process sees them, whatever its disk), re-
encoded without metadata (photos.py). While a report is being written a photo belongs to
the resident (`resident_id`; deleted with them, or by the nightly job when the report is
abandoned); once sent, to the report (`report_id`) and no longer to anyone.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime
from bot.statuses import Status, StatusType, check_in, transitions


class ReportStatus(Status):
    """Where the city is with a report, as staff set it in /admin and the resident is told."""

    RECEIVED = "received"        # 受付
    IN_PROGRESS = "in_progress"  # 対応中
    DONE = "done"                # 完了
    CANNOT = "cannot"            # 対応できません


#: Staff may correct any status to any other (a report closed by mistake is reopened);
#: what is refused is a "change" to the status it already has: the resident would be
#: told nothing new.
transitions(ReportStatus, {status: {other for other in ReportStatus if other is not status}
                           for status in ReportStatus})


class Report(Base):
    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)   # R-2026-000123, told to the resident
    kind: Mapped[str] = mapped_column(String(32))                  # an id of content/reports.yaml's kinds
    status: Mapped[ReportStatus] = mapped_column(StatusType(ReportStatus))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"), index=True)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    place: Mapped[str | None] = mapped_column(String(200))         # typed, or the location message's address
    description: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    request_key: Mapped[str] = mapped_column(String(64), unique=True)  # the send button's token: one report per tap

    __table_args__ = (Index("ix_reports_status_created", "status", "created_at"),
                      Index("ix_reports_kind_created", "kind", "created_at"),
                      Index("ix_reports_created", "created_at"),
                      check_in(ReportStatus, "reports"))


class ReportPhoto(Base):
    __tablename__ = "report_photos"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), index=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)               # JPEG, no EXIF
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReportUpdate(Base):
    """One status change by staff, with the note the resident was sent."""

    __tablename__ = "report_updates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))                 # staff name
    status_from: Mapped[ReportStatus] = mapped_column(StatusType(ReportStatus))
    status_to: Mapped[ReportStatus] = mapped_column(StatusType(ReportStatus))
    note: Mapped[str | None] = mapped_column(Text)
    push_id: Mapped[int | None] = mapped_column(Integer)           # the push that told the resident, if any

    __table_args__ = (check_in(ReportStatus, "report_updates", "status_from"),
                      check_in(ReportStatus, "report_updates", "status_to"))


class FieldKind(Base):
    """A `field` staff account may update reports of these kinds (citybot reports field-kinds)."""

    __tablename__ = "report_field_kinds"

    staff_user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
