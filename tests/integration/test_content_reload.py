"""Staff edit content while the bot runs: good changes arrive, broken ones never do."""

import shutil
from pathlib import Path

import pytest

from bot import create_app
from bot.bootstrap import bootstrap
from tests.conftest import Chat
from tests.integration.test_admin_auth import login, staff  # noqa: F401 - staff is a fixture

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


# -- a restart on broken content -----------------------------------------------------------------
def break_file(content_dir: Path) -> None:
    contact = content_dir / "contact.yaml"
    contact.write_text(contact.read_text(encoding="utf-8").replace("hours:\n", "hours: [\n"), encoding="utf-8")


def test_a_restart_on_broken_content_serves_the_last_good_copy_and_reports_the_break(config, clock, line, tmp_path,
                                                                                    staff):
    content_dir = tmp_path / "content"
    shutil.copytree(CONTENT, content_dir)
    config = config.with_(content_dir=str(content_dir), content_reload_seconds=0.01)
    first = bootstrap(config, now=clock)  # loads, and keeps a copy of what it loaded
    good_version = first.content.current().version
    first.close()

    break_file(content_dir)
    restarted = bootstrap(config, now=clock)  # a deploy, a crash, gunicorn replacing a worker
    try:
        app = create_app(services=restarted)
        health = app.test_client().get("/healthz").get_json()
        assert health["status"] == "degraded" and health["content"]["serving"] == "last good copy"
        assert health["content"]["version"] == good_version
        assert health["content"]["errors"][0].startswith("contact.yaml:")
        taro = Chat(app.test_client(), restarted, line).resident()
        assert "06-0000-0000" in taro.says("問い合わせ")[0]["text"]

        staff("sato")
        client = app.test_client()
        login(client, "sato")
        home = client.get("/admin/").get_data(as_text=True)
        assert "contact.yaml:" in home and good_version in home

        fixed = (content_dir / "contact.yaml").read_text(encoding="utf-8").replace("hours: [\n", "hours:\n")
        (content_dir / "contact.yaml").write_text(fixed.replace("06-0000-0000", "06-1234-5678"), encoding="utf-8")
        import time

        time.sleep(0.02)
        assert "06-1234-5678" in taro.says("問い合わせ")[0]["text"]  # the fix is taken up as usual
        health = app.test_client().get("/healthz").get_json()
        assert health["status"] == "ok" and health["content"]["serving"] == "content folder"
    finally:
        restarted.close()


def test_a_content_folder_that_never_loaded_refuses_to_start(config, clock, tmp_path):
    from bot.content.store import ContentError

    content_dir = tmp_path / "content"
    shutil.copytree(CONTENT, content_dir)
    break_file(content_dir)
    with pytest.raises(ContentError, match="contact.yaml"):
        bootstrap(config.with_(content_dir=str(content_dir), instance_dir=str(tmp_path / "fresh")), now=clock)


def test_the_last_good_copy_belongs_to_its_own_content_folder(config, clock, tmp_path):
    """Another folder's good copy (say, `citybot ask --content OTHER`) is never served."""
    from bot.content.store import ContentError

    good, broken = tmp_path / "good", tmp_path / "broken"
    shutil.copytree(CONTENT, good)
    shutil.copytree(CONTENT, broken)
    bootstrap(config.with_(content_dir=str(good)), now=clock).close()
    break_file(broken)
    with pytest.raises(ContentError):
        bootstrap(config.with_(content_dir=str(broken)), now=clock)
