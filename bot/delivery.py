"""Durable delivery: a push becomes stored batches, and workers send them exactly once.

Creating a push (`create_push`) happens in the caller's transaction, together with
whatever caused it, and fans out inside the database: recipients are numbered per
language with a window function and grouped 500 to a batch, all as INSERT ... SELECT,
so a million residents never pass through Python. Workers (`citybot worker`) claim
batches — `FOR UPDATE SKIP LOCKED` on PostgreSQL so several share the queue, a
conditional UPDATE on SQLite where one runs — and send each with multicast and a retry
key derived from the batch, so a retry after a crash, a timeout or a lost answer can
never deliver twice. Routine batches wait out the quiet hours; urgent ones jump the queue.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as dtime
from typing import Any, Callable, Iterator, Mapping, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import Select, bindparam, delete, func, insert, literal, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker

from .db import insert_for
from .messenger import MAX_RECIPIENTS, LineError, Messenger, to_models
from .models import BatchStatus, Push, PushBatch, PushRecipient, Resident

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10


# -- creating pushes --------------------------------------------------------------------------
def create_push(session: Session, *, source_key: str, kind: str, messages: Mapping[str, Sequence[dict[str, Any]]],
                recipients: Select, now: datetime, urgent: bool = False,
                segment: dict[str, Any] | None = None) -> int | None:
    """Store a push and its batches; None if `source_key` was pushed before (by anyone).

    `messages` maps a language (ja, en, easy_ja, or "*" for all) to its messages;
    `recipients` is a SELECT of resident ids (see bot.segments.recipients). Nothing is
    sent here: the caller commits, and the workers send.
    """
    for batch in messages.values():
        to_models(batch)  # refuse what LINE would refuse, inside the caller's transaction
    ins = insert_for(session, Push).values(
        source_key=source_key, kind=kind, urgent=urgent, messages={k: list(v) for k, v in messages.items()},
        segment=segment, created_at=now, recipients_total=0, sent_count=0, failed_count=0,
    ).on_conflict_do_nothing(index_elements=["source_key"]).returning(Push.id)
    push_id = session.scalar(ins)
    if push_id is None:
        return None
    wanted = recipients.subquery()
    numbered = (
        select(literal(push_id), Resident.id, Resident.language,
               (func.row_number().over(partition_by=Resident.language, order_by=Resident.id) - 1) // MAX_RECIPIENTS,
               Resident.line_user_id)
        .join(wanted, wanted.c[0] == Resident.id)
        .where(Resident.following.is_(True))
    )
    columns = ["push_id", "resident_id", "language", "batch_no", "line_user_id"]
    session.execute(insert(PushRecipient).from_select(columns, numbered))
    per_batch = (
        select(PushRecipient.push_id, PushRecipient.language, PushRecipient.batch_no, literal(urgent),
               literal(BatchStatus.PENDING.value), func.count(), literal(0),
               literal(now, type_=PushBatch.next_attempt_at.type))
        .where(PushRecipient.push_id == push_id)
        .group_by(PushRecipient.push_id, PushRecipient.language, PushRecipient.batch_no)
    )
    session.execute(insert(PushBatch).from_select(
        ["push_id", "language", "batch_no", "urgent", "status", "recipient_count", "attempts", "next_attempt_at"],
        per_batch))
    total = session.scalar(select(func.coalesce(func.sum(PushBatch.recipient_count), 0))
                           .where(PushBatch.push_id == push_id))
    session.execute(update(Push).where(Push.id == push_id).values(recipients_total=total))
    return push_id


LINE_BROADCAST = "line-broadcast"


def create_line_broadcast(session: Session, *, source_key: str, messages: Sequence[dict[str, Any]], now: datetime,
                          audience: int, urgent: bool = True) -> int | None:
    """A push to every friend of the account through LINE's broadcast endpoint (it reaches
    friends who never wrote to the bot too): one batch, no recipient rows; `audience` is
    the estimate shown as its size (LINE does not say how many it reached). None when
    `source_key` was pushed before."""
    to_models(messages)
    push_id = session.scalar(insert_for(session, Push).values(
        source_key=source_key, kind=LINE_BROADCAST, urgent=urgent, messages={"*": list(messages)},
        segment={"everyone": True}, created_at=now, recipients_total=audience, sent_count=0, failed_count=0,
    ).on_conflict_do_nothing(index_elements=["source_key"]).returning(Push.id))
    if push_id is None:
        return None
    session.add(PushBatch(push_id=push_id, language="*", batch_no=0, urgent=urgent, status=BatchStatus.PENDING,
                          recipient_count=audience, attempts=0, next_attempt_at=now))
    session.flush()
    return push_id


def to_residents(line_user_ids: Sequence[str]) -> Select:
    return select(Resident.id).where(Resident.line_user_id.in_(list(line_user_ids)))


# -- quiet hours ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class QuietHours:
    """Routine pushes wait while residents sleep (default 21:00-07:00, Japan time)."""

    start: dtime
    end: dtime
    zone: ZoneInfo

    @classmethod
    def parse(cls, spec: str, zone: str = "Asia/Tokyo") -> "QuietHours | None":
        if not spec or spec.strip().lower() in {"off", "none"}:
            return None
        try:
            start, end = (dtime.fromisoformat(part.strip()) for part in spec.split("-"))
        except ValueError:
            raise ValueError(f"quiet hours must look like 21:00-07:00, not {spec!r}") from None
        return cls(start, end, ZoneInfo(zone))

    def covers(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


# -- sending ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Claim:
    """A batch a worker holds. `attempts` counts the claims, so it also names this one: an
    outcome is recorded only while the batch is still held by it (a claim taken over after
    its lease ran out records nothing, and the push's counts never go up twice)."""

    id: int
    push_id: int
    language: str
    batch_no: int
    attempts: int
    recipient_count: int


@dataclass(frozen=True)
class _PushInfo:
    """What sending needs of a push; it never changes once stored, so a worker reads it once."""

    kind: str
    source_key: str
    created_at: datetime
    messages: Mapping[str, Sequence[dict[str, Any]]]

    def messages_for(self, language: str) -> Sequence[dict[str, Any]]:
        return self.messages.get(language) or self.messages.get("*") or self.messages["ja"]


def retry_key(push: Any, batch: Any) -> str:
    """Stable across retries and processes; unique across pushes (X-Line-Retry-Key)."""
    name = f"citybot:push:{push.source_key}:{push.created_at.isoformat()}:{batch.language}:{batch.batch_no}"
    return str(uuid.uuid5(uuid.NAMESPACE_URL, name))


_CLAIMED = (PushBatch.id, PushBatch.push_id, PushBatch.language, PushBatch.batch_no, PushBatch.attempts,
            PushBatch.recipient_count)


@functools.cache
def _claim_statement(dialect: str, quiet: bool) -> Any:
    """The claim as one UPDATE that picks its row with a subquery: on PostgreSQL `FOR UPDATE
    SKIP LOCKED` lets workers pass each other's claims; on SQLite the statement holds the
    database's one write lock from the pick to the update, so no two claims can meet.
    Built once per dialect: a worker claims hundreds of batches a minute."""
    moment = PushBatch.claimed_at.type
    now, expired = bindparam("now", type_=moment), bindparam("expired", type_=moment)
    claimable = or_(PushBatch.status == BatchStatus.PENDING,
                    (PushBatch.status == BatchStatus.SENDING) & (PushBatch.claimed_at < expired))
    due = (select(PushBatch.id).where(claimable).where(PushBatch.next_attempt_at <= now)
           .order_by(PushBatch.urgent.desc(), PushBatch.id).limit(1))
    if quiet:
        due = due.where(PushBatch.urgent.is_(True))
    if dialect == "postgresql":
        due = due.with_for_update(skip_locked=True)
    return (update(PushBatch).where(PushBatch.id == due.scalar_subquery()).where(claimable)
            .values(status=BatchStatus.SENDING, claimed_at=now, attempts=PushBatch.attempts + 1)
            .returning(*_CLAIMED))


def claim(conn: Connection, now: datetime, *, quiet: bool, lease: timedelta) -> Claim | None:
    """Take the next due batch (urgent first), committed; None when there is nothing to do."""
    row = conn.execute(_claim_statement(conn.dialect.name, quiet), {"now": now, "expired": now - lease}).one_or_none()
    conn.commit()
    return None if row is None else Claim(*row)


#: the recipient rows of one batch, by its push, language and number (bound by `_batch_params`)
_OF_BATCH = [getattr(PushRecipient, name) == bindparam(name) for name in ("push_id", "language", "batch_no")]
_RECIPIENT_IDS = select(PushRecipient.line_user_id).where(PushRecipient.line_user_id.is_not(None), *_OF_BATCH)
_FORGET_RECIPIENTS = delete(PushRecipient).where(*_OF_BATCH)
_COUNT = update(Push).where(Push.id == bindparam("push_id")).values(
    sent_count=Push.sent_count + bindparam("sent"), failed_count=Push.failed_count + bindparam("failed"),
    recipients_total=Push.recipients_total - bindparam("gone"))


def _batch_params(batch: Claim) -> dict[str, Any]:
    return {"push_id": batch.push_id, "language": batch.language, "batch_no": batch.batch_no}


def _push_info(conn: Connection, push_id: int, known: dict[int, _PushInfo] | None = None) -> _PushInfo:
    if known is not None and push_id in known:
        return known[push_id]
    info = _PushInfo(*conn.execute(
        select(Push.kind, Push.source_key, Push.created_at, Push.messages).where(Push.id == push_id)).one())
    if known is not None:
        known[push_id] = info
    return info


def send(conn: Connection, messenger: Messenger, batch: Claim, now: datetime,
         pushes: dict[int, _PushInfo] | None = None) -> BatchStatus:
    """Send one claimed batch and record the outcome: sent, failed or pending (retry).

    Delivery speaks SQLAlchemy Core on one connection a worker keeps (no ORM objects, no
    pool checkout and ping per batch): a district push is hundreds of batches a minute,
    and each one's database work must stay a few round trips."""
    push = _push_info(conn, batch.push_id, pushes)
    if push.kind == LINE_BROADCAST:
        audience = batch.recipient_count
        try:
            messenger.broadcast(push.messages["*"], retry_key(push, batch))
        except LineError as err:
            return _failed(conn, batch, err, now, recipients=audience, what=f"broadcast {batch.push_id}")
        return _finish(conn, batch, BatchStatus.SENT, now, sent=audience)
    user_ids = conn.scalars(_RECIPIENT_IDS, _batch_params(batch)).all()
    gone = batch.recipient_count - len(user_ids)  # left (deleted their data, blocked) before it went out
    if not user_ids:
        return _finish(conn, batch, BatchStatus.SENT, now, gone=gone)
    try:
        messenger.multicast(user_ids, push.messages_for(batch.language), retry_key(push, batch))
    except LineError as err:
        return _failed(conn, batch, err, now, recipients=len(user_ids), gone=gone,
                       what=f"push {batch.push_id} batch {batch.batch_no}")
    return _finish(conn, batch, BatchStatus.SENT, now, sent=len(user_ids), gone=gone)


def _failed(conn: Connection, batch: Claim, err: LineError, now: datetime, *, recipients: int, what: str,
            gone: int = 0) -> BatchStatus:
    """After an error: delivered after all (409 on the retry key), wait and retry, or give up."""
    if err.already_accepted:
        return _finish(conn, batch, BatchStatus.SENT, now, sent=recipients, gone=gone)
    if err.retryable and batch.attempts < MAX_ATTEMPTS:
        _record(conn, batch, BatchStatus.PENDING, error=str(err), next_attempt_at=now + backoff(batch.attempts))
        conn.commit()
        log.warning("%s deferred (attempt %s): %s", what, batch.attempts, err)
        return BatchStatus.PENDING
    log.error("%s failed: %s", what, err)
    return _finish(conn, batch, BatchStatus.FAILED, now, failed=recipients, gone=gone, error=str(err))


def _record(conn: Connection, batch: Claim, status: BatchStatus, **values: Any) -> bool:
    """Move the batch from SENDING to `status` if this claim still holds it."""
    BatchStatus.SENDING.check(status, f"PushBatch {batch.id} status")
    held = conn.execute(
        update(PushBatch).where(PushBatch.id == batch.id, PushBatch.status == BatchStatus.SENDING,
                                PushBatch.attempts == batch.attempts)
        .values(status=status, **values)).rowcount
    return _held(held == 1, batch)


def _held(held: bool, batch: Claim) -> bool:
    if not held:
        log.warning("push %s batch %s was taken over by another claim; its outcome is theirs to record",
                    batch.push_id, batch.batch_no)
    return held


@functools.cache
def _finish_in_one_statement() -> Any:
    """PostgreSQL: the batch's outcome, forgetting its recipients and the push's counts as
    one statement (data-modifying CTEs), so a batch's end is one round trip, atomic even on
    an autocommit connection. The recipients and counts change only if the batch moved."""
    finished = (
        update(PushBatch)
        .where(PushBatch.id == bindparam("batch_id"), PushBatch.status == BatchStatus.SENDING,
               PushBatch.attempts == bindparam("claim"))
        .values(status=bindparam("outcome", type_=PushBatch.status.type),
                sent_at=bindparam("at", type_=PushBatch.sent_at.type), error=bindparam("reason"))
        .returning(PushBatch.push_id, PushBatch.language, PushBatch.batch_no)
        .cte("finished"))
    forgotten = (delete(PushRecipient)
                 .where(PushRecipient.push_id == finished.c.push_id, PushRecipient.language == finished.c.language,
                        PushRecipient.batch_no == finished.c.batch_no)
                 .cte("forgotten"))
    return (update(Push).where(Push.id == finished.c.push_id)
            .values(sent_count=Push.sent_count + bindparam("sent"),
                    failed_count=Push.failed_count + bindparam("failed"),
                    recipients_total=Push.recipients_total - bindparam("gone"))
            .returning(Push.id)
            .add_cte(finished, forgotten))


def _finish(conn: Connection, batch: Claim, status: BatchStatus, now: datetime, *, sent: int = 0,
            failed: int = 0, gone: int = 0, error: str | None = None) -> BatchStatus:
    """Record the outcome and forget who the batch went to: only the counts stay."""
    if conn.dialect.name == "postgresql":
        BatchStatus.SENDING.check(status, f"PushBatch {batch.id} status")
        row = conn.execute(_finish_in_one_statement(), {
            "batch_id": batch.id, "claim": batch.attempts, "outcome": status, "at": now, "reason": error,
            "sent": sent, "failed": failed, "gone": gone}).first()
        _held(row is not None, batch)
    elif _record(conn, batch, status, sent_at=now, error=error):
        conn.execute(_FORGET_RECIPIENTS, _batch_params(batch))
        conn.execute(_COUNT, {"push_id": batch.push_id, "sent": sent, "failed": failed, "gone": gone})
    conn.commit()
    return status


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(2 ** attempts, 300))


class RateLimiter:
    """At most `rate` requests per second from this process, spaced 1/rate apart.

    No burst allowance: LINE counts requests per second, and a bucket that starts full
    lets `rate` requests go at once and `rate` more within the same second, twice the
    limit (answered 429). A sender that falls behind does not catch up in a burst either:
    the next slot is never earlier than now."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.rate, self._clock, self._sleep = rate, clock, sleep
        self._next = clock()  # the earliest moment the next request may go
        self._lock = threading.Lock()

    def wait(self) -> None:
        if self.rate <= 0:
            return
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + 1 / self.rate
        if slot > now:
            self._sleep(slot - now)


@contextmanager
def _delivering(engine: Any) -> Iterator[Connection]:
    """The connection a sender keeps while batches are due. On PostgreSQL each statement
    commits itself: a claim, reading the recipients and a batch's end are one round trip
    each (every statement is complete in itself). SQLite keeps transactions, where a
    round trip costs nothing and a batch's end is three statements."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        yield conn


def deliver_due(sessions: sessionmaker, messenger: Messenger, now: Callable[[], datetime], *,
                quiet_hours: QuietHours | None, lease: timedelta, limiter: RateLimiter | None = None,
                limit: int | None = None, stop: threading.Event | None = None) -> int:
    """Send due batches until none is left (or `limit` were handled); returns how many."""
    handled = 0
    pushes: dict[int, _PushInfo] = {}
    with sessions() as session, _delivering(session.get_bind()) as conn:
        while (limit is None or handled < limit) and not (stop and stop.is_set()):
            moment = now()
            batch = claim(conn, moment, quiet=bool(quiet_hours and quiet_hours.covers(moment)), lease=lease)
            if batch is None:
                break
            if limiter:
                limiter.wait()
            send(conn, messenger, batch, now(), pushes)
            handled += 1
    return handled


def status(session: Session, push_id: int | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """Per push: recipients sent, pending and failed, and batches by status."""
    pushes = select(Push).order_by(Push.id.desc()).limit(limit) if push_id is None else \
        select(Push).where(Push.id == push_id)
    rows = []
    for push in session.scalars(pushes):
        batches = dict(session.execute(select(PushBatch.status, func.count()).where(PushBatch.push_id == push.id)
                                       .group_by(PushBatch.status)).all())
        rows.append({
            "id": push.id, "source": push.source_key, "kind": push.kind, "urgent": push.urgent,
            "created_at": push.created_at.isoformat(), "recipients": push.recipients_total,
            "sent": push.sent_count, "failed": push.failed_count,
            "pending": push.recipients_total - push.sent_count - push.failed_count,
            "batches": {k.value: batches.get(k, 0) for k in BatchStatus},
            "errors": list(session.scalars(select(PushBatch.error).where(
                PushBatch.push_id == push.id, PushBatch.status == BatchStatus.FAILED).limit(3))),
        })
    return rows


IN_FLIGHT = (BatchStatus.PENDING, BatchStatus.SENDING)


def progress_of(row: dict[str, Any]) -> dict[str, Any]:
    """{total, sent, failed, pending, percent, done} from a row of `status`, for progress bars.

    Done when no batch is waiting or being sent; the percent counts recipients handled
    (sent or failed) and says 100 only when done."""
    total, sent, failed = row["recipients"], row["sent"], row["failed"]
    done = sum(row["batches"][s] for s in IN_FLIGHT) == 0
    if done:
        percent = 100
    elif total <= 0:
        percent = 0
    else:
        percent = min(99, (sent + failed) * 100 // total)
    return {"total": total, "sent": sent, "failed": failed, "pending": 0 if done else max(row["pending"], 0),
            "percent": percent, "done": done}


def progress(session: Session, push_id: int | None) -> dict[str, Any]:
    rows = status(session, push_id) if push_id is not None else []
    if not rows:
        return {"total": 0, "sent": 0, "failed": 0, "pending": 0, "percent": 0, "done": False}
    return progress_of(rows[0])
