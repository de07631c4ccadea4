"""/metrics under a real gunicorn with two worker processes: whichever process answers a
scrape, it reports every process's counts (prometheus_client's multiprocess mode, set up
by gunicorn.conf.py); with LOG_FORMAT=json the workers' lines, access log included, are
one JSON object each and hold no user id or message text."""

import json
import os
import subprocess
import sys

import requests

from bot import migrate
from bot.config import Config
from bot.fakeline import webhook_events as ev
from tests.conftest import SECRET, TOKEN
from tests.e2e.test_gunicorn_crash import ROOT, free_port, start_worker, stop, wait_until


def acks(text: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith("citybot_webhook_ack_seconds_count{") and 'status="200"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def _ready(port: int, proc: subprocess.Popen) -> bool:
    assert proc.poll() is None, "gunicorn exited"
    try:
        return requests.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def test_two_workers_one_sum_and_json_logs(fake_line, line, tmp_path):
    database_url = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    migrate.upgrade(Config(env="test", database_url=database_url, instance_dir=str(tmp_path)))
    metrics_dir = tmp_path / "metrics"
    env = {**os.environ, "CITYBOT_ENV": "test", "DATABASE_URL": database_url, "LINE_CHANNEL_SECRET": SECRET,
           "LINE_CHANNEL_ACCESS_TOKEN": TOKEN, "LINE_API_BASE": fake_line.url, "CITYBOT_INSTANCE_DIR": str(tmp_path),
           "CONTENT_RELOAD_SECONDS": "0", "LOG_FORMAT": "json", "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
           "WEB_CONCURRENCY": "2"}
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999.db").write_bytes(b"left over from an earlier run")
    port, log = free_port(), tmp_path / "gunicorn.log"
    user = line.add_user("計測 花子")
    secret = "メトリクスに出てはいけない文"
    with open(log, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind",
                                 f"127.0.0.1:{port}", "--workers", "2", "wsgi:app"], cwd=ROOT, env=env,
                                start_new_session=True, stdout=out, stderr=out)
    worker = start_worker(env, log)
    try:
        wait_until(lambda: _ready(port, proc), 60, "gunicorn to serve")
        posted = 12
        with requests.Session() as http:
            for i in range(posted):
                body = ev.callback_body([ev.text_event(user, f"{secret} {i}", reply_token=line.mint_reply_token(user))])
                answer = http.post(f"http://127.0.0.1:{port}/callback", data=body, timeout=5,
                                   headers={"X-Line-Signature": ev.signature(SECRET, body),
                                            "Content-Type": "application/json", "Connection": "close"})
                assert answer.status_code == 200
        answers = [requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5, headers={"Connection": "close"})
                   for _ in range(6)]
        assert [a.status_code for a in answers] == [200] * 6  # the worker may be creating its files meanwhile
        scrapes = [a.text for a in answers]
        assert {acks(text) for text in scrapes} == {float(posted)}
        assert all("citybot_inbox_backlog" in text for text in scrapes)
        assert not (metrics_dir / "counter_999999.db").exists()  # a previous run's file does not count
        wait_until(lambda: len(line.messages_for(user)) == posted, 20, "the answers")
    finally:
        stop(worker)
        stop(proc)
    lines = [json.loads(text) for text in log.read_text(encoding="utf-8").splitlines() if text.startswith("{")]
    access = [entry for entry in lines if entry["logger"] == "gunicorn.access"]
    assert sum("POST /callback" in e["message"] for e in access) == posted
    assert all(any(path in e["message"] for path in ("/callback", "/metrics", "/readyz")) for e in access)
    everything = log.read_text(encoding="utf-8")
    assert user not in everything and secret not in everything
