"""Pushes written with the change that caused them, and sent afterwards with a retry key.

A handler's `push()` only adds rows here, inside its own transaction: if the handler's
work rolls back, nothing is sent; if it commits, the push is certain to go out even if
the process dies a moment later. Sending claims a row, calls LINE with the row's retry
key, and records the outcome: sent, failed with LINE's reason, or due again after a
backoff when LINE was busy (429) or broken (5xx, timeouts).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any, Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from .messenger import MAX_RECIPIENTS, LineError, Messenger, chunks, to_models
from .models import OutboxMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=2)


def add_push(session: Session, recipients: Sequence[str], messages: Sequence[dict[str, Any]], now: datetime,
             retry_key: str | None = None) -> list[OutboxMessage]:
    """Queue messages for users; one row per LINE request (<= 500 recipients)."""
    to_models(messages)  # refuse what LINE would refuse, now, inside the caller's transaction
    rows = []
    for index, batch in enumerate(chunks(list(dict.fromkeys(recipients)), MAX_RECIPIENTS)):
        key = retry_key if retry_key and index == 0 else str(uuid.uuid4())
        row = OutboxMessage(recipients=batch, messages=list(messages), retry_key=key, status="pending",
                            attempts=0, created_at=now, next_attempt_at=now)
        session.add(row)
        rows.append(row)
    return rows


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(2 ** attempts, 300))


def deliver_due(sessions: sessionmaker, messenger: Messenger, now: datetime, limit: int = 50) -> int:
    """Send what is due; returns how many rows were sent."""
    sent = 0
    with sessions() as session:
        ids = list(session.scalars(select(OutboxMessage.id).where(OutboxMessage.status == "pending")
                                   .where(OutboxMessage.next_attempt_at <= now)
                                   .order_by(OutboxMessage.id).limit(limit)))
        # a claim stuck in "sending" by a dead process becomes due again after its lease
        session.execute(update(OutboxMessage).where(OutboxMessage.status == "sending")
                        .where(OutboxMessage.next_attempt_at <= now - LEASE).values(status="pending"))
        session.commit()
        for outbox_id in ids:
            claimed = session.execute(
                update(OutboxMessage).where(OutboxMessage.id == outbox_id).where(OutboxMessage.status == "pending")
                .values(status="sending", next_attempt_at=now, attempts=OutboxMessage.attempts + 1)
                .execution_options(synchronize_session=False)).rowcount
            session.commit()
            if claimed != 1:
                continue
            row = session.get(OutboxMessage, outbox_id, populate_existing=True)
            sent += _send(session, messenger, row, now)
            session.commit()
    return sent


def _send(session: Session, messenger: Messenger, row: OutboxMessage, now: datetime) -> int:
    try:
        if len(row.recipients) == 1:
            messenger.push(row.recipients[0], row.messages, row.retry_key)
        else:
            messenger.multicast(row.recipients, row.messages, row.retry_key)
    except LineError as err:
        if err.already_accepted:
            pass  # an earlier attempt got through; its answer was lost on the way
        elif err.retryable and row.attempts < MAX_ATTEMPTS:
            row.status, row.error = "pending", str(err)
            row.next_attempt_at = now + backoff(row.attempts)
            log.warning("push %s deferred after attempt %s: %s", row.id, row.attempts, err)
            return 0
        else:
            row.status, row.error = "failed", str(err)
            log.error("push %s failed: %s", row.id, err)
            return 0
    row.status, row.sent_at, row.error = "sent", now, None
    return 1
