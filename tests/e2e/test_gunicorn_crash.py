"""A real gunicorn killed with SIGKILL after acknowledging an event: the next one answers it.

The kill lands while the bot is waiting on LINE for its reply (the fake platform holds
the request and then drops it without delivering). The restarted process takes the
stored event over once its lease has expired and answers it, exactly once.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from bot import migrate
from bot.config import Config
from bot.fakeline import webhook_events as ev
from tests.conftest import SECRET, TOKEN

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def start_web(env: dict[str, str], port: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
                             "--workers", "1", "wsgi:app"], cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def healthy():
        try:
            return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
        except requests.RequestException:
            return proc.poll() is not None and pytest.fail("gunicorn exited")
    wait_until(healthy, 30, "gunicorn to serve")
    return proc


def test_sigkill_after_ack_then_restart_answers_once(fake_line, line, tmp_path):
    database_url = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    migrate.upgrade(Config(env="test", database_url=database_url, instance_dir=str(tmp_path)))
    env = {**os.environ, "CITYBOT_ENV": "test", "DATABASE_URL": database_url, "LINE_CHANNEL_SECRET": SECRET,
           "LINE_CHANNEL_ACCESS_TOKEN": TOKEN, "LINE_API_BASE": fake_line.url, "CITYBOT_INSTANCE_DIR": str(tmp_path),
           "INBOX_LEASE_SECONDS": "3", "INBOX_SWEEP_SECONDS": "0.5", "LINE_TIMEOUT_SECONDS": "20",
           "CONTENT_RELOAD_SECONDS": "0"}
    port = free_port()
    user = line.add_user("被災 太郎")
    line.inject("reply", timeout=True, timeout_seconds=8, count=1)

    web = start_web(env, port)
    body = ev.callback_body([ev.text_event(user, "問い合わせ", reply_token=line.mint_reply_token(user))])
    answer = requests.post(f"http://127.0.0.1:{port}/callback", data=body,
                           headers={"X-Line-Signature": ev.signature(SECRET, body),
                                    "Content-Type": "application/json"}, timeout=5)
    assert answer.status_code == 200
    engine = create_engine(database_url)
    with engine.connect() as conn:
        wait_until(lambda: conn.execute(text("SELECT status FROM inbox_events")).scalar() == "delivering", 10,
                   "the bot to start delivering")
    engine.dispose()
    time.sleep(0.5)  # the reply request is now held by the platform
    os.killpg(web.pid, signal.SIGKILL)
    web.wait(timeout=10)
    assert line.messages_for(user) == []

    restarted = start_web(env, port)
    try:
        delivered = wait_until(lambda: line.messages_for(user), 30, "the answer after the restart")
        time.sleep(2)  # more sweeps: nothing more may arrive
        delivered = line.messages_for(user)
        assert len(delivered) == 1
        assert delivered[0]["via"] == "reply" and "06-0000-0000" in delivered[0]["message"]["text"]
    finally:
        os.killpg(restarted.pid, signal.SIGTERM)
        restarted.wait(timeout=20)
