"""The tables citybot keeps, and why each column exists.

Personal data is kept to what a service needs: a resident is a LINE userId plus what
they chose to tell. Inbound event payloads (which hold message text) are cleared as soon
as an event is answered; only the id stays, to drop redeliveries.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import Base, UTCDateTime
from .statuses import Status, StatusType, check_in, transitions


class InboxStatus(Status):
    """Where a stored webhook event is; see InboxEvent."""

    PENDING = "pending"          # stored, nobody has it yet
    PROCESSING = "processing"    # claimed: the handler runs (claimed_at is the lease)
    DELIVERING = "delivering"    # answered and committed: the answer is on its way to LINE
    ANSWERED = "answered"        # answered, delivery deferred (LINE asked to retry): the sweep claims it again
    DONE = "done"
    FAILED = "failed"            # malformed, the handler failed, or the answer could not be delivered
    IGNORED = "ignored"          # a kind the bot does not answer, or a standby channel's event


transitions(InboxStatus, {
    InboxStatus.PENDING: {InboxStatus.PROCESSING},
    # a claim whose lease ran out is taken again: processing -> processing
    InboxStatus.PROCESSING: {InboxStatus.PROCESSING, InboxStatus.DELIVERING, InboxStatus.DONE, InboxStatus.FAILED,
                             InboxStatus.IGNORED},
    InboxStatus.DELIVERING: {InboxStatus.DELIVERING, InboxStatus.ANSWERED, InboxStatus.DONE, InboxStatus.FAILED},
    InboxStatus.ANSWERED: {InboxStatus.DELIVERING},
    InboxStatus.DONE: set(),
    InboxStatus.FAILED: set(),
    InboxStatus.IGNORED: set(),
})


class BatchStatus(Status):
    """Where a push batch is; see PushBatch."""

    PENDING = "pending"      # due at next_attempt_at
    SENDING = "sending"      # claimed by a worker (claimed_at is the lease)
    SENT = "sent"
    FAILED = "failed"


transitions(BatchStatus, {
    BatchStatus.PENDING: {BatchStatus.SENDING},
    # a lease that ran out is taken again; a retryable error puts it back to wait
    BatchStatus.SENDING: {BatchStatus.SENDING, BatchStatus.PENDING, BatchStatus.SENT, BatchStatus.FAILED},
    BatchStatus.SENT: set(),
    BatchStatus.FAILED: set(),
})


#: an event not finished yet: waiting, answered but not delivered, or held by a worker
INBOX_OPEN_SQL = "status IN ({})".format(", ".join(f"'{s.value}'" for s in InboxStatus if not s.final))


class InboxEvent(Base):
    """A webhook event, stored before the webhook is acknowledged.

    Lifecycle (InboxStatus above): pending -> processing (claimed by one thread, with
    claimed_at as a lease) -> delivering (handler committed, answer on its way) -> done;
    a delivery LINE asks to retry waits as answered until the sweep claims it again.
    Malformed events end as failed, unhandled kinds as ignored.
    """

    __tablename__ = "inbox_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    webhook_event_id: Mapped[str] = mapped_column(String(64), unique=True)
    event_type: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    redelivery: Mapped[bool] = mapped_column(default=False)
    status: Mapped[InboxStatus] = mapped_column(StatusType(InboxStatus), default=InboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    answer: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    #: one chat's events are processed one after another, in order, whichever process
    #: takes them (a double tap must not run two steps of a conversation at once): a hash
    #: of the user, group or room, so the lane says nothing about who it is
    lane: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (Index("ix_inbox_status_received", "status", "received_at"),
                      # the events still to answer, oldest first: finished ones stay for days
                      # (redelivery checks) and a claim must not walk past them
                      Index("ix_inbox_open", "id", postgresql_where=text(INBOX_OPEN_SQL),
                            sqlite_where=text(INBOX_OPEN_SQL)),
                      check_in(InboxStatus, "inbox_events"))


class WebhookBody(Base):
    """A signed webhook body as LINE sent it, between the 200 and the split into inbox
    events: the web process's only write (see bot/spool.py). Deleted once its events
    are in the inbox; milliseconds since the epoch, so the insert needs no type handling.
    """

    __tablename__ = "webhook_bodies"
    # never reuse an id: a worker that read a body another has since deleted deletes by id
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    received_ms: Mapped[int] = mapped_column(BigInteger)
    body: Mapped[str] = mapped_column(Text)


class Resident(Base):
    """A LINE user who talks to the city, and only what they chose to tell it.

    Attributes are filled in by registration (handlers/settings.py) after consent, and
    all of it goes when they ask or block the account (rows below cascade). A service may
    add a column of its own (the garbage collection area: handlers/garbage/tables.py).
    """

    __tablename__ = "residents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_user_id: Mapped[str] = mapped_column(String(64), unique=True)
    language: Mapped[str] = mapped_column(String(8), default="ja")
    following: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    consented_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unfollowed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    district: Mapped[str | None] = mapped_column(String(64))
    reminder_time: Mapped[str | None] = mapped_column(String(5))  # "HH:MM", Japan time
    tester: Mapped[bool] = mapped_column(default=False)  # staff phones: receive training (訓練) messages
    # where a pickup comes to, kept only after the resident tapped 「この住所を登録する」 and offered back
    # when they book again; changed or deleted in 設定 (handlers/settings.py)
    collection_address: Mapped[str | None] = mapped_column(String(120))

    children: Mapped[list["ResidentChild"]] = relationship(cascade="all, delete-orphan", passive_deletes=True,
                                                           order_by="ResidentChild.birth_month")
    topics: Mapped[list["ResidentTopic"]] = relationship(cascade="all, delete-orphan", passive_deletes=True,
                                                         order_by="ResidentTopic.topic")

    __table_args__ = (Index("ix_residents_district", "district"),)


class ResidentChild(Base):
    """A child, by birth year and month only (enough for age classes, nothing more)."""

    __tablename__ = "resident_children"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), index=True)
    birth_month: Mapped[int] = mapped_column(Integer)  # year * 12 + (month - 1)

    @property
    def year(self) -> int:
        return self.birth_month // 12

    @property
    def month(self) -> int:
        return self.birth_month % 12 + 1


class ResidentTopic(Base):
    """A topic the resident wants to hear about (content/settings.yaml lists them)."""

    __tablename__ = "resident_topics"

    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), primary_key=True)
    topic: Mapped[str] = mapped_column(String(64), primary_key=True)

    __table_args__ = (Index("ix_resident_topics_topic", "topic", "resident_id"),)


class ConversationState(Base):
    """Where a resident is in a multi-step conversation; one row per conversation."""

    __tablename__ = "conversation_states"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    conversation: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("resident_id", "conversation"),)


class Push(Base):
    """One message sent to many residents: a notice, a reminder, an alert, a broadcast.

    `source_key` names its cause (e.g. "notice:gomi-calendar@2026-12-01T09:00+09:00") and
    is unique, so a cause can never produce its push twice, whichever process tries.
    The counts stay after the recipients are gone: they are anonymous.
    """

    __tablename__ = "pushes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    urgent: Mapped[bool] = mapped_column(default=False)
    messages: Mapped[dict[str, Any]] = mapped_column(JSON)  # language -> list of LINE messages
    segment: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recipients_total: Mapped[int] = mapped_column(Integer, default=0)
    sent_count: Mapped[int] = mapped_column(Integer, default=0)
    failed_count: Mapped[int] = mapped_column(Integer, default=0)


class PushBatch(Base):
    """Up to 500 recipients of one push in one language: one multicast request.

    Claimed by one worker at a time (SKIP LOCKED on PostgreSQL); `claimed_at` is a lease
    so a batch of a killed worker is sent again, with the same retry key.
    """

    __tablename__ = "push_batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    push_id: Mapped[int] = mapped_column(ForeignKey("pushes.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(8))
    batch_no: Mapped[int] = mapped_column(Integer)
    urgent: Mapped[bool] = mapped_column(default=False)
    status: Mapped[BatchStatus] = mapped_column(StatusType(BatchStatus), default=BatchStatus.PENDING)
    recipient_count: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("push_id", "language", "batch_no"),
                      Index("ix_push_batches_due", "status", "urgent", "next_attempt_at"),
                      check_in(BatchStatus, "push_batches"))


class PushRecipient(Base):
    """Who a batch goes to. Deleted once the batch is sent, and with the resident.

    The LINE user id is copied here when the push is made, so a batch reads its 500
    recipients from this table alone; the copy lives no longer than the row, which goes
    when the batch is sent or the resident leaves (ON DELETE CASCADE)."""

    __tablename__ = "push_recipients"

    push_id: Mapped[int] = mapped_column(ForeignKey("pushes.id", ondelete="CASCADE"), primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), primary_key=True)
    language: Mapped[str] = mapped_column(String(8))
    batch_no: Mapped[int] = mapped_column(Integer)
    line_user_id: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_push_recipients_batch", "push_id", "language", "batch_no"),
                      Index("ix_push_recipients_resident", "resident_id"))
