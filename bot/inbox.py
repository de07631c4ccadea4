"""Inbound events kept durably between the webhook's 200 and their answer.

A worker splits each stored body (bot/spool.py) into events here, then claims them one
at a time (`claim_next`). Claims are conditional UPDATEs (status and lease in the WHERE
clause), which work the same on SQLite and PostgreSQL: exactly one claimant wins, and a
claim whose process died expires and is taken again. PostgreSQL also skips rows another
worker is choosing (SKIP LOCKED), so workers do not queue behind one another.

One chat's events are answered in the order they came, whichever worker takes them: an
event is only claimed when nothing earlier of its lane (a hash of the chat) is waiting for
its answer or being worked on (a delivery LINE deferred holds up nothing).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    bindparam,
    case,
    cast,
    delete,
    func,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from .db import insert_for
from .models import InboxEvent, InboxStatus
from .statuses import move

#: Terminal states; a row in one of them is only kept to recognise redeliveries.
FINISHED = tuple(s for s in InboxStatus if s.final)
#: Waiting for a first claim, or for a second one after a deferred delivery.
WAITING = (InboxStatus.PENDING, InboxStatus.ANSWERED)
#: Someone holds a lease on it; taken again when the lease ran out.
CLAIMED = (InboxStatus.PROCESSING, InboxStatus.DELIVERING)
#: Not finished: the rows of the partial index ix_inbox_open (its predicate, word for word)
OPEN = tuple(s for s in InboxStatus if not s.final)


@dataclass(frozen=True)
class Stored:
    inserted: list[int]  # inbox ids of events new to us, in the order they came
    duplicates: int      # events we had already (LINE redelivered them)


def store_events(session: Session, events: Iterable[dict[str, Any]], now: datetime) -> Stored:
    """Insert the events of one body, received at `now` (see `store_received`)."""
    return store_received(session, ((raw, now) for raw in events))


def store_received(session: Session, received: Iterable[tuple[dict[str, Any], datetime]]) -> Stored:
    """Insert events (each with the moment its body came), skipping ids already known, in
    one statement; the caller commits before it deletes the bodies they came in
    (bot/spool.py).

    An id twice is one event too: the first copy is kept, the others count as duplicates
    (one INSERT cannot tell them apart from each other). The rows go in the order of their
    ids: two workers splitting bodies a redelivery put the same events in then wait for
    each other in one order, never in a circle (PostgreSQL aborted one as deadlocked)."""
    rows, seen, repeated = [], set(), 0
    for raw, now in received:
        if raw["webhookEventId"] in seen:
            repeated += 1
            continue
        seen.add(raw["webhookEventId"])
        delivery = raw.get("deliveryContext") or {}
        source = raw.get("source") if isinstance(raw.get("source"), dict) else {}
        chat = next((source[k] for k in ("groupId", "roomId", "userId") if isinstance(source.get(k), str)), None)
        rows.append({
            "webhook_event_id": raw["webhookEventId"],
            "event_type": str(raw.get("type", "?"))[:40],
            "occurred_at": datetime.fromtimestamp(raw["timestamp"] / 1000, timezone.utc),
            "received_at": now,
            "redelivery": bool(delivery.get("isRedelivery", False)),
            "status": InboxStatus.PENDING,
            "attempts": 0,
            "payload": raw,
            "lane": lane_of(chat or raw["webhookEventId"]),
        })
    if not rows:
        return Stored([], repeated)
    # rows as parameters, not VALUES: the statement is compiled once, not once per count of events
    stmt = insert_for(session, InboxEvent).on_conflict_do_nothing(index_elements=["webhook_event_id"]) \
        .returning(InboxEvent.id, InboxEvent.webhook_event_id)
    by_id = sorted(rows, key=lambda row: row["webhook_event_id"])
    ids = dict((event_id, inbox_id) for inbox_id, event_id in session.execute(stmt, by_id))
    inserted = [ids[row["webhook_event_id"]] for row in rows if row["webhook_event_id"] in ids]
    return Stored(inserted, repeated + len(rows) - len(inserted))


def lane_of(chat: str) -> str:
    return hashlib.blake2b(chat.encode(), digest_size=12).hexdigest()


def _status_in(column: Any, statuses: Iterable[InboxStatus]) -> ColumnElement[bool]:
    """A status test with its values written into the SQL, not bound, so that PostgreSQL
    sees it implies ix_inbox_open's predicate even in a generic plan of a prepared
    statement (psycopg prepares the statements a worker runs often)."""
    return column.in_([literal_column(f"'{status.value}'") for status in statuses])


#: how many of the oldest unanswered events a claim looks at first (see claim_next)
WINDOW = 100


def claim_next(session: Session, now: datetime, lease: timedelta) -> InboxEvent | None:
    """The oldest event free to answer, claimed; None when there is none.

    Free: its lane's oldest event not yet answered, waiting or with a lapsed lease (an
    event without a lane is a lane of its own). The lanes' heads are found in one pass,
    first over the WINDOW oldest unanswered events, then, if none of those is free, over
    all of them. Asking of each waiting event whether an earlier one of its lane is open
    costs an index probe per event, and PostgreSQL's generic plan of that claim asked it of
    the whole backlog: 50-400 ms a claim with 2,000 waiting, and a burst drained ever
    slower."""
    stale = {"stale": now - lease}
    for _ in range(5):  # SQLite cannot lock the row it picked: another worker may claim it first
        picked = session.scalar(FREE_IN_WINDOW, stale)
        if picked is None:
            picked = session.scalar(FREE_ANYWHERE, stale)
        if picked is None:
            session.rollback()
            return None
        row = claim(session, picked, now, lease)
        if row is not None:
            return row
    return None


#: how many free heads a claim offers for locking: more than threads can hold at once
CANDIDATES = 32


def _free(window: int | None) -> Select[int]:
    """The oldest head of a lane free to claim, among the `window` oldest events answered
    by nobody yet (or all of them). The window is a prefix in id order, so an event's
    earlier ones of its lane are never outside it: a head found there is a true head.
    ANSWERED events (a delivery LINE deferred) hold up no lane and stay out of it, or a
    LINE outage would fill it with them. The window's size and the few heads it offers
    are written into the SQL as numbers, so that every plan, generic ones included, knows
    the outer query locks a handful of rows looked up by id. Built once: the claim runs
    for every event, and building and hashing this statement cost more than running it."""
    stale = bindparam("stale", type_=InboxEvent.claimed_at.type)
    unanswered = (InboxStatus.PENDING, *CLAIMED)
    # OPEN is ix_inbox_open's predicate word for word: SQLite uses a partial index only then
    oldest = (select(InboxEvent.id, InboxEvent.lane, InboxEvent.status, InboxEvent.claimed_at)
              .where(_status_in(InboxEvent.status, OPEN), _status_in(InboxEvent.status, unanswered)))
    if window is not None:
        oldest = oldest.order_by(InboxEvent.id).limit(literal_column(str(int(window)), Integer))
    rows = oldest.subquery("oldest_unanswered")
    in_lane = func.row_number().over(partition_by=func.coalesce(rows.c.lane, cast(rows.c.id, String)),
                                     order_by=rows.c.id)
    placed = select(rows.c.id, rows.c.status, rows.c.claimed_at, in_lane.label("place")).subquery("placed")
    heads = (select(placed.c.id).where(placed.c.place == 1, _claimable(placed.c.status, placed.c.claimed_at, stale))
             .order_by(placed.c.id).limit(literal_column(str(CANDIDATES), Integer)))
    return (select(InboxEvent.id)
            .where(InboxEvent.id.in_(heads), _claimable(InboxEvent.status, InboxEvent.claimed_at, stale))
            .order_by(InboxEvent.id).limit(1).with_for_update(skip_locked=True, of=InboxEvent))


def _claimable(status: Any, claimed_at: Any, stale: Any) -> ColumnElement[bool]:
    return or_(_status_in(status, [InboxStatus.PENDING]), _status_in(status, CLAIMED) & (claimed_at < stale))


FREE_IN_WINDOW, FREE_ANYWHERE = _free(WINDOW), _free(None)


def claim(session: Session, inbox_id: int, now: datetime, lease: timedelta) -> InboxEvent | None:
    """Take an event for processing, or None if someone else has it or it is finished."""
    row = session.scalars(CLAIM, {"inbox_id": inbox_id, "stale": now - lease, "now": now},
                          execution_options={"synchronize_session": False, "populate_existing": True}).one_or_none()
    session.commit()
    return row


def _claimed_status():
    # an answered event keeps its handler's answer: only its delivery is left to do
    return case((InboxEvent.status.in_((InboxStatus.ANSWERED, InboxStatus.DELIVERING)), InboxStatus.DELIVERING.value),
                else_=InboxStatus.PROCESSING.value)


#: exactly one claimant's UPDATE matches; it gets the row back (RETURNING) and the others none
CLAIM = (update(InboxEvent)
         .where(InboxEvent.id == bindparam("inbox_id"))
         .where(or_(InboxEvent.status.in_(WAITING),
                    InboxEvent.status.in_(CLAIMED) & (InboxEvent.claimed_at < bindparam("stale"))))
         .values(status=_claimed_status(), claimed_at=bindparam("now"), attempts=InboxEvent.attempts + 1)
         .returning(InboxEvent))


def deferred(session: Session, now: datetime, older_than: timedelta, limit: int = 100) -> list[int]:
    """Answered events whose delivery LINE asked to retry (`claim_next` takes the rest)."""
    rows = session.scalars(
        select(InboxEvent.id)
        .where(InboxEvent.status == InboxStatus.ANSWERED, InboxEvent.received_at <= now - older_than)
        .order_by(InboxEvent.id).limit(limit)
    )
    return list(rows)


def finish(row: InboxEvent, status: InboxStatus, now: datetime, error: str | None = None) -> None:
    """Close an event and forget its content: only the id stays, for redelivery checks."""
    if not status.final:
        raise ValueError(f"{status.value} does not finish an event")
    move(row, status)
    row.finished_at = now
    row.payload = None
    row.answer = None
    row.error = error[:2000] if error else None


def prune(session: Session, now: datetime, retention: timedelta) -> int:
    result = session.execute(delete(InboxEvent).where(InboxEvent.status.in_(FINISHED))
                             .where(InboxEvent.received_at < now - retention))
    return result.rowcount or 0

