"""Pushes: written with their cause, sent with a retry key, never twice, never lost."""

import pytest
from sqlalchemy import select

from bot import outbox
from bot.dispatch import Push
from bot.models import OutboxMessage

pytestmark = pytest.mark.contract


def queue(services, clock, recipients, *messages):
    with services.sessions() as session:
        push = Push(session, clock(), None)
        push(*messages, to=recipients)
        session.commit()
        return [row.id for row in push.rows]


def statuses(services):
    with services.sessions() as session:
        return [(r.status, r.attempts) for r in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]


def test_push_to_one_and_multicast_to_many(services, line, clock):
    users = [line.add_user(f"住民{i}") for i in range(3)]
    queue(services, clock, users[:1], "ひとりへ")
    queue(services, clock, users, "みんなへ", {"type": "text", "text": "二通目"})
    assert outbox.deliver_due(services.sessions, services.messenger, clock()) == 2
    assert [m["message"]["text"] for m in line.messages_for(users[0])] == ["ひとりへ", "みんなへ", "二通目"]
    assert [m["via"] for m in line.messages_for(users[2])] == ["multicast", "multicast"]
    assert statuses(services) == [("sent", 1), ("sent", 1)]


def test_rolled_back_handler_sends_nothing(services, line, clock):
    user = line.add_user("花子")
    with services.sessions() as session:
        Push(session, clock(), user)("送られないはず")
        session.rollback()
    assert outbox.deliver_due(services.sessions, services.messenger, clock()) == 0
    assert line.messages_for(user) == []


def test_429_and_500_are_retried_later_with_the_same_key(services, line, clock):
    user = line.add_user("太郎")
    queue(services, clock, [user], "お知らせ")
    line.inject("push", status=429, count=1)
    assert outbox.deliver_due(services.sessions, services.messenger, clock()) == 0
    assert statuses(services) == [("pending", 1)]
    assert outbox.deliver_due(services.sessions, services.messenger, clock()) == 0  # backing off
    line.inject("push", status=500, count=1)
    clock.advance(seconds=5)
    assert outbox.deliver_due(services.sessions, services.messenger, clock()) == 0
    clock.advance(seconds=10)
    assert outbox.deliver_due(services.sessions, services.messenger, clock()) == 1
    assert len(line.messages_for(user)) == 1
    keys = {r["retryKey"] for r in line.requests if r["endpoint"] == "push"}
    assert len(keys) == 1


def test_lost_response_then_retry_is_a_409_not_a_second_message(services, line, clock):
    users = [line.add_user(f"u{i}") for i in range(2)]
    queue(services, clock, users, "一度だけ")
    line.inject("multicast", lose_response=True, count=1)
    outbox.deliver_due(services.sessions, services.messenger, clock())
    clock.advance(seconds=5)
    assert outbox.deliver_due(services.sessions, services.messenger, clock()) == 1
    assert [len(line.messages_for(u)) for u in users] == [1, 1]
    assert [r["status"] for r in line.requests if r["endpoint"] == "multicast"] == [500, 409]


@pytest.mark.sends_invalid_request_on_purpose
def test_request_line_refuses_is_failed_with_the_reason_not_retried(services, line, clock):
    user = line.add_user("次郎")
    with services.sessions() as session:
        session.add(OutboxMessage(recipients=[user], messages=[{"type": "text", "text": "あ" * 5001}],
                                  retry_key="6b0c7d52-6f0e-4c7e-9a43-2d5b3f3d9c11", status="pending", attempts=0,
                                  created_at=clock(), next_attempt_at=clock()))
        session.commit()
    outbox.deliver_due(services.sessions, services.messenger, clock())
    with services.sessions() as session:
        row = session.scalars(select(OutboxMessage)).one()
        assert row.status == "failed" and "400" in row.error
    clock.advance(hours=1)
    outbox.deliver_due(services.sessions, services.messenger, clock())
    assert len([r for r in line.requests if r["endpoint"] == "push"]) == 1


def test_broadcast_reaches_every_follower_once_even_when_retried(services, line):
    from bot.messenger import retry_key_for

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
