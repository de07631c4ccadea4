"""Staff edit content while the bot runs: good changes arrive, broken ones never do."""

import shutil
from pathlib import Path

import pytest

from bot import create_app
from bot.bootstrap import bootstrap
from tests.conftest import Chat

CONTENT = Path(__file__).resolve().parents[2] / "content"


@pytest.fixture
def live(config, clock, line, tmp_path):
    content_dir = tmp_path / "content"
    shutil.copytree(CONTENT, content_dir)
    svc = bootstrap(config.with_(content_dir=str(content_dir), content_reload_seconds=0.01), now=clock)
    app = create_app(services=svc)
    yield content_dir, app, Chat(app.test_client(), svc, line)
    svc.close()


def test_running_server_serves_last_good_content_and_reports_the_broken_file(live):
    import time

    content_dir, app, chat = live
    taro = chat.resident()
    health = app.test_client().get("/healthz").get_json()
    assert health["status"] == "ok" and health["content"]["errors"] == []

    contact = content_dir / "contact.yaml"
    contact.write_text(contact.read_text(encoding="utf-8").replace('phone: "06-0000-0000"', 'phone: "06-1234-5678"'),
                       encoding="utf-8")
    time.sleep(0.02)
    assert "06-1234-5678" in taro.says("問い合わせ")[0]["text"]

    contact.write_text(contact.read_text(encoding="utf-8").replace("hours:\n", "hours: [\n"), encoding="utf-8")
    time.sleep(0.02)
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    health = response.get_json()
    assert health["status"] == "degraded"
    assert health["content"]["errors"][0].startswith("contact.yaml:")
    assert "06-1234-5678" in taro.says("問い合わせ")[0]["text"]  # the last good version still answers
