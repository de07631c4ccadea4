"""The disaster desk in a real browser (Chromium via Playwright), end to end.

The bot runs for real on a free port (werkzeug, in a thread) against the fake LINE
platform, with residents in kita, chuo and minato who wrote to it through the webhook. A
worker thread delivers due push batches in the background, as `citybot worker` does.
Desk A declares an incident for kita and chuo, composes the evacuation broadcast,
previews the count and submits it; desk B approves it in a second browser; the detail
page's progress bar (polling, no reload) reaches 100 % and says 送信完了; then exactly the
residents of kita and chuo have the message on the platform, once each. A viewer sees the
pages without a single action on them, and a POST with their valid CSRF token is 403.

Skipped when Chromium or Playwright is missing (CITYBOT_REQUIRE_BROWSER=1 fails instead).
"""

from __future__ import annotations

import os
import re
import threading
from datetime import timedelta

import pytest
from werkzeug.serving import make_server

from bot import delivery, richmenu
from bot.admin.auth import hash_password
from bot.admin.models import StaffUser
from tests.integration.test_disaster import SHELTERS, STATUS, resident_in

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CHROMIUM = os.environ.get("CITYBOT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
PASSWORD = "correct horse battery"

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if not os.path.exists(CHROMIUM):
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)
expect = sync_api.expect


@pytest.fixture
def server(app):
    """The bot's web process, for real, on a free port."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, name="admin-browser-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(timeout=5)
    httpd.server_close()


@pytest.fixture
def worker(services):
    """`citybot worker` in a thread: delivers due batches until stopped, once `go` is set
    (so the test can see the progress bar at 0 % before it moves)."""
    stop, go = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def loop() -> None:
        while not stop.is_set():
            if go.is_set():
                try:
                    delivery.deliver_due(services.sessions, services.messenger, services.now, quiet_hours=None,
                                         lease=timedelta(seconds=30), stop=stop)
                except Exception as exc:  # noqa: BLE001 - reported by the test
                    failures.append(exc)
            stop.wait(0.2)

    thread = threading.Thread(target=loop, name="admin-browser-worker", daemon=True)
    thread.start()
    yield go
    stop.set()
    thread.join(timeout=10)
    assert not failures, failures


@pytest.fixture
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def add_staff(services, *accounts: tuple[str, str]) -> None:
    password_hash = hash_password(PASSWORD)
    with services.sessions() as s:
        for name, role in accounts:
            s.add(StaffUser(name=name, role=role, lead=False, password_hash=password_hash, disabled=False,
                            created_at=services.now()))
        s.commit()


def logged_in(browser, url: str, name: str, problems: list[str]):
    """A browser context of its own (its own cookies), logged in as `name`."""
    context = browser.new_context(viewport={"width": 1200, "height": 1000}, locale="ja-JP")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on("pageerror", lambda exc: problems.append(f"{name}: {exc}"))
    page.on("console", lambda msg: problems.append(f"{name}: {msg.text}")
            if msg.type == "error" and not msg.location.get("url", "").endswith("/favicon.ico") else None)
    page.goto(f"{url}/admin/login")
    page.locator("#name").fill(name)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_test_id("current-user")).to_have_text(name)
    return context, page


def test_declare_compose_approve_and_watch_it_reach_exactly_the_districts(server, worker, browser, chat, services,
                                                                        line, tmp_path):
    kita = [resident_in(chat, services, "kita", f"北区の住民{n}") for n in (1, 2)]
    chuo = [resident_in(chat, services, "chuo", "中央区の住民")]
    minato = [resident_in(chat, services, "minato", "港区の住民")]
    add_staff(services, ("desk-a", "desk"), ("desk-b", "desk"), ("mori", "viewer"))
    menus = richmenu.sync(services.messenger, services.content.current())
    problems: list[str] = []

    # desk A declares an incident for kita and chuo
    context_a, a = logged_in(browser, server, "desk-a", problems)
    a.goto(f"{server}/admin/incidents")
    a.get_by_test_id("new-incident").click()
    a.get_by_test_id("hazard").select_option("flood")
    a.get_by_test_id("level-4").check()
    a.get_by_test_id("district-kita").check()
    a.get_by_test_id("district-chuo").check()
    kita_sites = a.locator('details[data-district="kita"]')
    expect(kita_sites).to_have_attribute("open", "")  # ticking the district opened its sites
    not_for_floods = next(s for s in SHELTERS if s["district"] == "kita" and "flood" not in s["hazards"])
    for_floods = next(s for s in SHELTERS if s["district"] == "kita" and "flood" in s["hazards"])
    expect(kita_sites.locator(f'input[value="{not_for_floods["id"]}"]')).to_be_disabled()
    kita_sites.locator(f'input[value="{for_floods["id"]}"]').check()
    for lang in ("ja", "en", "easy_ja"):
        a.locator(f"#status_{lang}").fill(STATUS[lang])
    a.get_by_test_id("declare").click()
    expect(a.get_by_test_id("incident-state")).to_have_text("発令中")
    expect(a.get_by_test_id("incident-districts")).to_have_text("北区・中央区")
    expect(a.get_by_role("status").filter(has_text="リッチメニューを災害用に切り替えました")).to_have_count(1)
    assert line.menu_shown_to(kita[0].user_id)["richMenuId"] == menus["disaster"]

    # ... composes the evacuation broadcast for it, previews, submits
    a.get_by_test_id("compose-for-incident").click()
    expect(a.get_by_test_id("target-districts")).to_be_checked()
    expect(a.get_by_test_id("bdistrict-kita")).to_be_checked()
    expect(a.get_by_test_id("bdistrict-chuo")).to_be_checked()
    expect(a.get_by_test_id("bdistrict-minato")).not_to_be_checked()
    expect(a.get_by_test_id("text_ja")).to_have_value(
        re.compile(r"^【避難指示】北区・中央区に洪水の警戒レベル4「避難指示」を発令しました。"))
    a.get_by_test_id("preview-button").click()
    expect(a.get_by_test_id("preview-count")).to_have_text("3")
    expect(a.get_by_test_id("preview-ja")).to_contain_text(for_floods["name"])
    expect(a.get_by_test_id("preview-en")).to_contain_text("Alert level 4")
    a.get_by_test_id("submit-button").click()
    expect(a.get_by_test_id("broadcast-status")).to_have_text("承認待ち")
    detail_url = a.url
    broadcast_id = int(detail_url.rsplit("/", 1)[1])
    expect(a.get_by_test_id("approve")).to_have_count(0)  # not by its author
    expect(a.get_by_test_id("cancel")).to_be_visible()

    # a viewer sees the desk and nothing to act with; a POST with a valid token is 403
    context_v, v = logged_in(browser, server, "mori", problems)
    v.goto(f"{server}/admin/incidents")
    expect(v.get_by_test_id("incident-row")).to_have_count(1)
    expect(v.get_by_test_id("new-incident")).to_have_count(0)
    v.get_by_test_id("incident-row").get_by_role("link").click()
    expect(v.get_by_test_id("incident-state")).to_have_text("発令中")
    for testid in ("compose-for-incident", "end-incident", "change"):
        expect(v.get_by_test_id(testid)).to_have_count(0)
    v.goto(f"{server}/admin/broadcasts")
    expect(v.get_by_test_id("pending-row")).to_have_count(1)
    expect(v.get_by_test_id("compose")).to_have_count(0)
    v.get_by_test_id(f"open-broadcast-{broadcast_id}").click()
    expect(v.get_by_test_id("broadcast-status")).to_have_text("承認待ち")
    for testid in ("approve", "reject", "cancel", "approve-alone"):
        expect(v.get_by_test_id(testid)).to_have_count(0)
    token = v.locator('meta[name="csrf-token"]').get_attribute("content")
    for path in (f"/admin/broadcasts/{broadcast_id}/approve", f"/admin/broadcasts/{broadcast_id}/reject",
                 "/admin/broadcasts/new", "/admin/incidents/new", "/admin/incidents/1/end"):
        response = context_v.request.post(f"{server}{path}", form={"csrf_token": token}, max_redirects=0)
        assert response.status == 403, f"{path}: {response.status}"
    assert context_v.request.get(f"{server}/admin/broadcasts/new", max_redirects=0).status == 403
    context_v.close()

    # desk B approves in a second browser; the bar moves without a reload and reaches 100 %
    context_b, b = logged_in(browser, server, "desk-b", problems)
    b.goto(f"{server}/admin/broadcasts")
    b.get_by_test_id(f"open-broadcast-{broadcast_id}").click()
    expect(b.get_by_test_id("broadcast-audience")).to_have_text("3 人")
    b.get_by_test_id("approve").click()
    expect(b.get_by_test_id("broadcast-status")).to_have_text("送信済み")
    expect(b.get_by_test_id("progress-percent")).to_have_text("0%")
    expect(b.get_by_test_id("progress-pending")).to_have_text("3")
    expect(b.get_by_test_id("progress-done")).to_be_hidden()
    worker.set()  # the worker starts sending
    expect(b.get_by_test_id("progress-done")).to_have_text("送信完了", timeout=20_000)
    expect(b.get_by_test_id("progress-percent")).to_have_text("100%")
    expect(b.get_by_test_id("progress-sent")).to_have_text("3")
    expect(b.get_by_test_id("progress-failed")).to_have_text("0")
    assert b.get_by_test_id("progress-bar").evaluate("el => el.value") == 100
    shot = tmp_path / "broadcast-sent.png"
    b.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    if os.environ.get("CITYBOT_ADMIN_SCREENSHOT"):
        shot.replace(os.environ["CITYBOT_ADMIN_SCREENSHOT"])

    # desk A's page shows it sent too (a reload); nobody can approve it again
    a.goto(detail_url)
    expect(a.get_by_test_id("broadcast-status")).to_have_text("送信済み")
    expect(a.get_by_test_id("progress-done")).to_have_text("送信完了")
    context_a.close()
    context_b.close()

    # on the platform: the kita and chuo residents have it once each, minato nothing
    for person in kita + chuo:
        [message] = person.received()
        assert message["text"].startswith("【避難指示】北区・中央区に洪水の警戒レベル4「避難指示」を発令しました。")
        assert for_floods["name"] in message["text"]
    for person in minato:
        assert person.received() == []
    assert not problems, problems  # no script errors, no CSP refusals
