"""Durable delivery: pushes stored with their cause, batched by language, sent once."""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot import delivery, segments
from bot.dispatch import Push
from bot.messenger import retry_key_for
from bot.models import PushBatch, PushRecipient, Resident

pytestmark = pytest.mark.contract
LEASE = timedelta(seconds=60)


def residents(services, line, clock, count, **attrs):
    """Residents who follow the account, known to the fake platform too."""
    ids = []
    with services.sessions() as session:
        for i in range(count):
            user = line.add_user(f"住民{i}")
            session.add(Resident(line_user_id=user, created_at=clock(), last_seen_at=clock(), following=True,
                                 consented_at=clock(), **attrs))
            ids.append(user)
        session.commit()
    return ids


def deliver(services, clock, quiet=None):
    return delivery.deliver_due(services.sessions, services.messenger, clock, quiet_hours=quiet, lease=LEASE)


def push_to(services, clock, segment, messages, *, key="test", urgent=False):
    with services.sessions() as session:
        push_id = delivery.create_push(session, source_key=key, kind="notice", messages=messages,
                                       recipients=segments.recipients(segment, clock().date()), now=clock(),
                                       urgent=urgent)
        session.commit()
    return push_id


def texts_of(line, user):
    return [m["message"]["text"] for m in line.messages_for(user)]


def test_handler_push_goes_out_after_commit_and_never_after_rollback(services, line, clock):
    [taro, hanako] = residents(services, line, clock, 2)
    with services.sessions() as session:
        Push(session, clock(), taro)("予約を受け付けました")
        session.commit()
    with services.sessions() as session:
        Push(session, clock(), hanako)("送られないはず")
        session.rollback()
    assert deliver(services, clock) == 1
    assert texts_of(line, taro) == ["予約を受け付けました"]
    assert line.messages_for(hanako) == []


def test_segment_push_is_batched_per_language_500_at_most(services, line, clock):
    ja = residents(services, line, clock, 1100, district="kita")
    en = residents(services, line, clock, 3, district="kita", language="en")
    residents(services, line, clock, 5, district="minami")
    push_id = push_to(services, clock, segments.Segment(districts=["kita"]),
                      {"ja": [{"type": "text", "text": "北区のお知らせ"}], "en": [{"type": "text", "text": "Kita notice"}]})
    with services.sessions() as session:
        batches = session.execute(select(PushBatch.language, PushBatch.recipient_count)
                                  .where(PushBatch.push_id == push_id).order_by(PushBatch.id)).all()
    assert sorted(batches) == [("en", 3), ("ja", 100), ("ja", 500), ("ja", 500)]
    assert deliver(services, clock) == 4
    assert all(texts_of(line, u) == ["北区のお知らせ"] for u in ja)
    assert all(texts_of(line, u) == ["Kita notice"] for u in en)
    with services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(PushRecipient)) == 0  # who got it is forgotten
        [row] = delivery.status(session, push_id)
    assert (row["recipients"], row["sent"], row["pending"], row["failed"]) == (1103, 1103, 0, 0)
    assert len({r["retryKey"] for r in line.requests if r["endpoint"] == "multicast"}) == 4


def test_the_same_source_key_never_makes_a_second_push(services, line, clock):
    residents(services, line, clock, 2, district="kita")
    message = {"*": [{"type": "text", "text": "一度だけ"}]}
    assert push_to(services, clock, segments.Segment(everyone=True), message, key="notice:x@1") is not None
    assert push_to(services, clock, segments.Segment(everyone=True), message, key="notice:x@1") is None
    assert deliver(services, clock) == 1


def test_429_and_500_are_retried_later_with_the_same_retry_key(services, line, clock):
    users = residents(services, line, clock, 3)
    push_to(services, clock, segments.Segment(everyone=True), {"*": [{"type": "text", "text": "お知らせ"}]})
    line.inject("multicast", status=429, count=1)
    deliver(services, clock)
    line.inject("multicast", status=500, count=1)
    clock.advance(seconds=3)
    deliver(services, clock)
    assert all(line.messages_for(u) == [] for u in users)
    clock.advance(seconds=10)
    deliver(services, clock)
    assert all(texts_of(line, u) == ["お知らせ"] for u in users)
    attempts = [r for r in line.requests if r["endpoint"] == "multicast"]
    assert [r["status"] for r in attempts] == [429, 500, 200]
    assert len({r["retryKey"] for r in attempts}) == 1


def test_lost_response_then_retry_is_a_409_not_a_second_message(services, line, clock):
    users = residents(services, line, clock, 2)
    push_to(services, clock, segments.Segment(everyone=True), {"*": [{"type": "text", "text": "一度だけ"}]})
    line.inject("multicast", lose_response=True, count=1)
    deliver(services, clock)
    clock.advance(seconds=5)
    deliver(services, clock)
    assert [len(line.messages_for(u)) for u in users] == [1, 1]
    assert [r["status"] for r in line.requests if r["endpoint"] == "multicast"] == [500, 409]


def test_a_killed_workers_claim_expires_and_the_batch_goes_once(services, line, clock):
    users = residents(services, line, clock, 2)
    push_to(services, clock, segments.Segment(everyone=True), {"*": [{"type": "text", "text": "再送しても一度"}]})
    with services.sessions() as session, session.get_bind().connect() as conn:
        batch = delivery.claim(conn, clock(), quiet=False, lease=LEASE)
        services.messenger.multicast(users, [{"type": "text", "text": "再送しても一度"}],
                                     delivery.retry_key(session.get(delivery.Push, batch.push_id), batch))
        # ... and the worker dies before recording it
    assert deliver(services, clock) == 0  # still leased
    clock.advance(seconds=61)
    assert deliver(services, clock) == 1
    assert [len(line.messages_for(u)) for u in users] == [1, 1]


def test_a_slow_worker_whose_claim_was_taken_over_counts_nothing_twice(services, line, clock):
    users = residents(services, line, clock, 2)
    push_id = push_to(services, clock, segments.Segment(everyone=True), {"*": [{"type": "text", "text": "遅れた一通"}]})
    with services.sessions() as session, session.get_bind().connect() as conn:
        slow = delivery.claim(conn, clock(), quiet=False, lease=LEASE)
        clock.advance(seconds=61)  # its lease runs out while it waits on LINE
        assert deliver(services, clock) == 1  # another worker takes the batch over and sends it
        assert delivery.send(conn, services.messenger, slow, clock()) == delivery.BatchStatus.SENT  # LINE: 409
        [row] = delivery.status(session, push_id)
    assert [len(line.messages_for(u)) for u in users] == [1, 1]
    assert (row["recipients"], row["sent"], row["failed"], row["batches"]["sent"]) == (2, 2, 0, 1)


@pytest.mark.sends_invalid_request_on_purpose
def test_a_batch_line_refuses_is_failed_with_the_reason_and_not_retried(services, line, clock):
    residents(services, line, clock, 1)
    with services.sessions() as session:
        push_id = delivery.create_push(session, source_key="bad", kind="notice", now=clock(),
                                       messages={"*": [{"type": "text", "text": "あ" * 5001}]},
                                       recipients=segments.recipients(segments.Segment(everyone=True), clock().date()))
        session.commit()
    deliver(services, clock)
    clock.advance(hours=1)
    deliver(services, clock)
    with services.sessions() as session:
        [row] = delivery.status(session, push_id)
    assert (row["failed"], row["batches"]["failed"]) == (1, 1)
    assert "400" in row["errors"][0]
    assert len([r for r in line.requests if r["endpoint"] == "multicast"]) == 1


def test_quiet_hours_hold_routine_pushes_and_urgent_ones_jump_the_queue(services, line, clock):
    [user] = residents(services, line, clock, 1)
    quiet = delivery.QuietHours.parse("21:00-07:00")
    push_to(services, clock, segments.Segment(everyone=True), {"*": [{"type": "text", "text": "定例のお知らせ"}]}, key="r")
    push_to(services, clock, segments.Segment(everyone=True), {"*": [{"type": "text", "text": "避難指示"}]}, key="u",
            urgent=True)
    night = datetime(2026, 12, 1, 23, 30, tzinfo=ZoneInfo("Asia/Tokyo")).astimezone(timezone.utc)
    clock.offset = night - datetime.now(timezone.utc)
    assert deliver(services, clock, quiet) == 1
    assert texts_of(line, user) == ["避難指示"]
    clock.offset += timedelta(hours=8)  # 07:30
    assert deliver(services, clock, quiet) == 1
    assert texts_of(line, user) == ["避難指示", "定例のお知らせ"]


def test_residents_who_left_before_sending_are_not_sent_to(services, line, clock):
    [stays, leaves] = residents(services, line, clock, 2)
    push_to(services, clock, segments.Segment(everyone=True), {"*": [{"type": "text", "text": "こんにちは"}]})
    with services.sessions() as session:
        session.delete(session.scalars(select(Resident).where(Resident.line_user_id == leaves)).one())
        session.commit()
    deliver(services, clock)
    assert texts_of(line, stays) == ["こんにちは"]
    assert line.messages_for(leaves) == []
    with services.sessions() as session:
        [row] = delivery.status(session)
    assert (row["recipients"], row["sent"], row["pending"]) == (1, 1, 0)


def test_broadcast_reaches_every_follower_once_even_when_retried(services, line):
    followers = [line.add_user(f"f{i}") for i in range(3)]
    blocked = line.add_user("blocked")
    line.unfollow(blocked)
    key = retry_key_for("broadcast", "typhoon-7")
    services.messenger.broadcast([{"type": "text", "text": "【訓練】避難所を開設しました"}], key)
    with pytest.raises(Exception) as again:
        services.messenger.broadcast([{"type": "text", "text": "【訓練】避難所を開設しました"}], key)
    assert again.value.already_accepted
    assert [len(line.messages_for(u)) for u in followers] == [1, 1, 1]
    assert line.messages_for(blocked) == []


def test_a_timeout_is_retried_with_the_same_key_and_delivers_once(services, line, clock, config):
    from bot.messenger import Messenger

    users = residents(services, line, clock, 2)
    push_to(services, clock, segments.Segment(everyone=True), {"*": [{"type": "text", "text": "遅延"}]})
    impatient = Messenger(config.line_api_base, config.line_api_base, config.access_token, timeout=0.3)
    line.inject("multicast", timeout=True, timeout_seconds=1.0, count=1)
    assert delivery.deliver_due(services.sessions, impatient, clock, quiet_hours=None, lease=LEASE) == 1
    with services.sessions() as session:
        batch = session.scalars(select(PushBatch)).one()
        assert batch.status == "pending" and "no answer from LINE" in batch.error
    clock.advance(seconds=5)
    delivery.deliver_due(services.sessions, impatient, clock, quiet_hours=None, lease=LEASE)
    assert [len(line.messages_for(u)) for u in users] == [1, 1]


def test_concurrent_claims_never_take_the_same_batch(services, line, clock):
    """Several workers on one queue: SKIP LOCKED on PostgreSQL, conditional updates on SQLite."""
    import threading

    residents(services, line, clock, 10 * 500 + 1)
    push_to(services, clock, segments.Segment(everyone=True), {"*": [{"type": "text", "text": "x"}]})
    claimed, lock = [], threading.Lock()

    def claimer():
        with services.sessions() as session, session.get_bind().connect() as conn:
            while (batch := delivery.claim(conn, clock(), quiet=False, lease=LEASE)) is not None:
                with lock:
                    claimed.append(batch.id)
    threads = [threading.Thread(target=claimer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(claimed) == 11 and len(set(claimed)) == 11
