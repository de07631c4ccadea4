"""The disaster desk's tables: incidents (what is declared), broadcasts (what is sent),
the room left at each open site (shelter_rooms) and the version of its staff link
(shelter_links), and residents' safety reports (who is safe where, who needs help: safety.py).

They live in the database, not in content: the desk changes them in minutes from /admin,
and every change is audited there. The table names are those of migrations 0006, 0007,
0017, 0018 and 0019.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy import Text as SqlText
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime
from bot.statuses import Status, StatusType, check_in, transitions


class Incident(Base):
    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hazard: Mapped[str] = mapped_column(String(32))            # a HAZARDS id (shelters.py)
    level: Mapped[int] = mapped_column(Integer)                # 3, 4 or 5
    districts: Mapped[list[str]] = mapped_column(JSON)         # district ids of settings.yaml; [] = the whole city
    shelters: Mapped[list[str]] = mapped_column(JSON)          # ids of the open sites
    #: not a state: the desk's words on the situation, per language. Whether an incident is
    #: on is its times (is_active), so it has no status type.
    status: Mapped[dict[str, str]] = mapped_column(JSON)       # {"ja": ..., "en": ..., "easy_ja": ...}
    training: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_incidents_ended_at", "ended_at"),)

    def is_active(self, now: datetime) -> bool:
        return self.started_at <= now and (self.ended_at is None or self.ended_at > now)

    def status_in(self, lang: str) -> str:
        return self.status.get(lang) or self.status.get("ja", "")


class BroadcastStatus(Status):
    """A broadcast waits for a second desk user, then is sent, sent back (rejected by
    another desk user) or cancelled by its author; each decision is final (a rejected text
    is composed again, as a new broadcast)."""

    PENDING = "pending"        # 承認待ち
    SENT = "sent"              # 送信済み
    REJECTED = "rejected"      # 差し戻し
    CANCELLED = "cancelled"    # 取り消し


transitions(BroadcastStatus, {
    BroadcastStatus.PENDING: {BroadcastStatus.SENT, BroadcastStatus.REJECTED, BroadcastStatus.CANCELLED},
    BroadcastStatus.SENT: set(),
    BroadcastStatus.REJECTED: set(),
    BroadcastStatus.CANCELLED: set(),
})


class Broadcast(Base):
    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    form_key: Mapped[str] = mapped_column(String(64), unique=True)   # the compose form: re-submitted, one row
    incident_id: Mapped[int | None] = mapped_column(Integer)
    template: Mapped[str] = mapped_column(String(64))
    texts: Mapped[dict[str, str]] = mapped_column(JSON)              # language -> text, as approved
    target: Mapped[str] = mapped_column(String(16))                  # all | districts | segment
    districts: Mapped[list[str]] = mapped_column(JSON, default=list)
    segment: Mapped[str | None] = mapped_column(String(64))
    training: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[BroadcastStatus] = mapped_column(StatusType(BroadcastStatus), default=BroadcastStatus.PENDING)
    audience: Mapped[int] = mapped_column(Integer, default=0)       # the count shown at preview
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    alone_reason: Mapped[str | None] = mapped_column(SqlText)        # a lead who sent without a second person
    push_id: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (check_in(BroadcastStatus, "broadcasts"),)


class Room(Status):
    """How much room an open site has, as its staff report it to the desk. Any state may
    follow any other (a full gym empties as people go home, a closed one reopens); residents
    are never sent to a full or closed site (room.py)."""

    OPEN = "open"          # 空きあり
    CROWDED = "crowded"    # 混雑
    FULL = "full"          # 満員
    CLOSED = "closed"      # 閉鎖


transitions(Room, {state: set(Room) - {state} for state in Room})


class ShelterRoom(Base):
    """The last state the desk set for a site (a site id of content/disaster/shelters.yaml);
    one row per site, overwritten, each change in the audit log. A state set before the
    incidents now active began is stale and ignored (room.py)."""

    __tablename__ = "shelter_rooms"

    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[Room] = mapped_column(StatusType(Room))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(64))

    __table_args__ = (check_in(Room, "shelter_rooms", "state"),)


class ShelterLink(Base):
    """How many times the desk revoked a site's staff links (site_link.py): a link carries
    the version it was made with and works only while it is the current one. No row: 0."""

    __tablename__ = "shelter_links"

    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(64))


class SafetyStatus(Status):
    """Where a resident says they are during an incident (避難報告・安否). A report is the
    resident's latest word, so any status may follow any other: it is replaced, not moved on."""

    HOME = "home"            # 自宅で無事
    CAR = "car"              # 車の中で無事
    RELATIVES = "relatives"  # 親せき・知人宅で無事
    SHELTER = "shelter"      # 避難所にいる
    HELP = "help"            # 助けが必要


transitions(SafetyStatus, {status: set(SafetyStatus) for status in SafetyStatus})


class SafetyReport(Base):
    """One resident's report for one incident, updated in place when they report again.
    It goes with the resident (データ削除, a block) and after the incident's retention."""

    __tablename__ = "safety_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), index=True)
    status: Mapped[SafetyStatus] = mapped_column(StatusType(SafetyStatus))
    people: Mapped[int] = mapped_column(Integer, default=1)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(String(200))
    shelter_id: Mapped[str | None] = mapped_column(String(64))   # an open site of the incident
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("incident_id", "resident_id", name="uq_safety_reports_incident_resident"),
                      Index("ix_safety_reports_incident_status", "incident_id", "status"),
                      check_in(SafetyStatus, "safety_reports"))
