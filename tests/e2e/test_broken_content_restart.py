"""A real gunicorn restarted while a content file is broken still boots and answers.

Before, a broken YAML file plus a restart gave "Worker failed to boot" and /callback
refused connections: the city had no bot until someone fixed the file by hand.
"""

import os
import shutil
import signal

import requests

from bot import migrate
from bot.config import Config
from bot.fakeline import webhook_events as ev
from tests.conftest import SECRET, TOKEN
from tests.e2e.test_gunicorn_crash import ROOT, free_port, start_web, start_worker, stop, wait_until


def test_gunicorn_restarted_on_broken_content_answers_from_the_last_good_copy(fake_line, line, tmp_path):
    database_url = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    migrate.upgrade(Config(env="test", database_url=database_url, instance_dir=str(tmp_path)))
    content_dir = tmp_path / "content"
    shutil.copytree(ROOT / "content", content_dir)
    env = {**os.environ, "CITYBOT_ENV": "test", "DATABASE_URL": database_url, "LINE_CHANNEL_SECRET": SECRET,
           "LINE_CHANNEL_ACCESS_TOKEN": TOKEN, "LINE_API_BASE": fake_line.url, "CITYBOT_INSTANCE_DIR": str(tmp_path),
           "CONTENT_DIR": str(content_dir), "CONTENT_RELOAD_SECONDS": "0", "INBOX_SWEEP_SECONDS": "0.5"}
    port = free_port()
    web = start_web(env, port)
    os.killpg(web.pid, signal.SIGTERM)
    web.wait(timeout=20)

    contact = content_dir / "contact.yaml"
    contact.write_text(contact.read_text(encoding="utf-8").replace("hours:\n", "hours: [\n"), encoding="utf-8")
    restarted = start_web(env, port)
    worker = start_worker(env)
    try:
        health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json()
        assert health["status"] == "degraded" and health["content"]["errors"][0].startswith("contact.yaml:")
        user = line.add_user("市民 花子")
        body = ev.callback_body([ev.text_event(user, "問い合わせ", reply_token=line.mint_reply_token(user))])
        answer = requests.post(f"http://127.0.0.1:{port}/callback", data=body, timeout=5,
                               headers={"X-Line-Signature": ev.signature(SECRET, body),
                                        "Content-Type": "application/json"})
        assert answer.status_code == 200
        delivered = wait_until(lambda: line.messages_for(user), 20, "the answer")
        assert "06-0000-0000" in delivered[0]["message"]["text"]
    finally:
        stop(worker)
        stop(restarted)
