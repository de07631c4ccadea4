"""Idle workers wait to be woken: on PostgreSQL the database says when work arrived.

Here the idle threads would look on their own only once a minute, so an answer or a
push within a few seconds shows the notification (bot/wakeup.py, migration 0022) woke
them. SQLite has no notifications; its workers poll (the end-to-end tests run them).
"""

import threading
import time

import pytest

from bot import bootstrap, create_app, delivery, segments
from bot.fakeline import webhook_events as ev
from bot.models import Resident
from bot.worker import Worker
from tests.conftest import signed_post

MINUTE = 60.0


@pytest.fixture
def worker(config, clock):
    if not config.sqlalchemy_url.startswith("postgresql"):
        pytest.skip("notifications are PostgreSQL's; SQLite workers poll")
    slow = config.with_(wakeup_fallback_seconds=MINUTE, inbox_poll_seconds=MINUTE, worker_idle_seconds=MINUTE,
                        processing_threads=2, worker_threads=2)
    svc = bootstrap(slow, now=clock)
    running = Worker(svc)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not (running.listener and running.listener.listening.is_set()) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # the threads have looked once and are waiting now
    yield running
    running.stop()
    thread.join(timeout=10)
    svc.close()


def within(seconds: float, predicate) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if predicate():
            return time.monotonic() - started
        time.sleep(0.02)
    raise AssertionError(f"not within {seconds} s")


def test_a_message_to_idle_workers_is_answered_at_once(worker, line):
    client = create_app(services=worker.services).test_client()
    taro = line.add_user("太郎")
    signed_post(client, ev.callback_body([ev.text_event(taro, "ヘルプ", reply_token=line.mint_reply_token(taro))]))
    assert within(5, lambda: line.messages_for(taro)) < 5  # the fallback look would come after a minute


def test_a_push_made_while_workers_idle_goes_out_at_once(worker, line, clock):
    hanako = line.add_user("花子")
    with worker.services.sessions() as session:
        session.add(Resident(line_user_id=hanako, created_at=clock(), last_seen_at=clock(), following=True,
                             consented_at=clock()))
        session.commit()
        delivery.create_push(session, source_key="wakeup", kind="notice", now=clock(), urgent=True,  # quiet hours or not
                             messages={"*": [{"type": "text", "text": "お知らせ"}]},
                             recipients=segments.recipients(segments.Segment(everyone=True), clock().date()))
        session.commit()
    assert within(5, lambda: line.messages_for(hanako)) < 5
