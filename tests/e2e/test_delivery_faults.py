"""A worker SIGKILLed in the middle of a 20,000-recipient push, then restarted: every
resident gets the message exactly once, as counted by the fake LINE platform. Runs on
SQLite and, when DATABASE_URL points at it, on PostgreSQL; once as is and once with the
platform answering 429s and 500s on the way."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import insert

from bot import delivery, segments
from bot.bootstrap import bootstrap
from bot.models import Resident
from tests.conftest import TOKEN

ROOT = Path(__file__).resolve().parents[2]
RECIPIENTS = 20_000


def start_worker(config, fake_url: str) -> subprocess.Popen:
    env = {**os.environ, "CITYBOT_ENV": "test", "DATABASE_URL": config.database_url,
           "LINE_CHANNEL_ACCESS_TOKEN": TOKEN, "LINE_CHANNEL_SECRET": config.channel_secret,
           "LINE_API_BASE": fake_url, "CITYBOT_INSTANCE_DIR": config.instance_dir, "BATCH_LEASE_SECONDS": "2",
           "WORKER_IDLE_SECONDS": "0.1", "QUIET_HOURS": "off", "DELIVERY_RATE_PER_SECOND": "100",
           "INBOX_SWEEP_SECONDS": "60", "CONTENT_RELOAD_SECONDS": "0", "LOG_LEVEL": "WARNING"}
    return subprocess.Popen([str(Path(sys.executable).parent / "citybot"), "worker"], cwd=ROOT, env=env,
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def delivered(line) -> collections.Counter:
    return collections.Counter(m["userId"] for m in line.all_messages())


@pytest.mark.parametrize("platform_trouble", [False, True], ids=["clean", "429-and-500"])
def test_sigkill_mid_push_then_restart_delivers_each_exactly_once(config, clock, line, fake_line, platform_trouble):
    users = [line.add_user(f"r{i}") for i in range(RECIPIENTS)]
    svc = bootstrap(config, now=clock)
    try:
        with svc.sessions() as session:
            now = clock()
            session.execute(insert(Resident), [
                {"line_user_id": u, "language": ("ja", "en", "easy_ja")[i % 3], "following": True,
                 "created_at": now, "last_seen_at": now} for i, u in enumerate(users)])
            push_id = delivery.create_push(
                session, source_key="notice:drill@2026-12-06T09:00:00+09:00", kind="notice", now=now,
                messages={"ja": [{"type": "text", "text": "防災訓練"}], "en": [{"type": "text", "text": "Drill"}],
                          "easy_ja": [{"type": "text", "text": "くんれん"}]},
                recipients=segments.recipients(segments.Segment(everyone=True), now.date()))
            session.commit()
        line.inject("multicast", latency=0.05)
        if platform_trouble:
            line.inject("multicast", status=429, count=3)
            line.inject("multicast", status=500, count=3)
            line.inject("multicast", lose_response=True, count=2)

        worker = start_worker(config, fake_line.url)
        deadline = time.monotonic() + 60
        while sum(delivered(line).values()) < RECIPIENTS // 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        halfway = sum(delivered(line).values())
        assert RECIPIENTS // 4 <= halfway < RECIPIENTS, halfway

        worker = start_worker(config, fake_line.url)
        try:
            deadline = time.monotonic() + 120
            while len(delivered(line)) < RECIPIENTS and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(3)  # past the lease: a duplicate would have had time to show
        finally:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=20)

        counts = delivered(line)
        assert len(counts) == RECIPIENTS
        assert set(counts.values()) == {1}, collections.Counter(counts.values())
        with svc.sessions() as session:
            [status] = delivery.status(session, push_id)
        assert (status["sent"], status["pending"], status["failed"]) == (RECIPIENTS, 0, 0)
    finally:
        svc.close()
