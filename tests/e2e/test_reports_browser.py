"""通報 in a real browser (Chromium via Playwright): the queue, the map without tiles, a
report's photo, a status change.

A resident taps through a report in the chat (a photo, a location). In the browser a desk
user opens the queue, the map — Leaflet from this server, no tile server configured: the
pin must still be drawn and nothing fetched from anywhere else — and the report with its
photo, and moves it to 完了. No page may raise a script error or log one to the console.

Skipped when Chromium or Playwright is missing (CITYBOT_REQUIRE_BROWSER=1 fails instead).
"""

from __future__ import annotations

import os
import threading
from datetime import timedelta

import pytest
from werkzeug.serving import make_server

from bot import delivery
from tests.e2e.test_admin_browser import CHROMIUM, CHROMIUM_ARGS, add_staff, logged_in
from tests.integration.test_reports import tapped_report

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if not os.path.exists(CHROMIUM):
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)
expect = sync_api.expect


@pytest.fixture
def server(app):
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, name="reports-browser-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(timeout=5)
    httpd.server_close()


@pytest.fixture
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def test_the_queue_the_map_without_tiles_the_photo_and_a_status_change(server, browser, chat, services, clock):
    assert not services.config.map_tile_url  # the sample city has no tile server
    taro, number = tapped_report(chat)
    add_staff(services, ("desk-a", "desk"))
    problems: list[str] = []
    context, page = logged_in(browser, server, "desk-a", problems)
    elsewhere: list[str] = []
    page.on("request", lambda request: elsewhere.append(request.url)
            if not request.url.startswith(server) and not request.url.startswith("data:") else None)

    page.goto(f"{server}/admin/reports")
    expect(page.get_by_test_id("reports-table")).to_contain_text(number)
    expect(page.get_by_test_id("reports-table")).to_contain_text("道路・歩道")

    page.get_by_test_id("map-link").click()
    expect(page.get_by_test_id("map-status")).to_have_text("地図上の通報：1 件")
    expect(page.get_by_test_id("report-map")).to_have_attribute("data-pins", "1")
    assert page.locator("#report-map path.leaflet-interactive").count() == 1  # the pin, drawn as SVG
    assert page.locator("#report-map img.leaflet-tile").count() == 0          # and no tile at all
    page.locator("#report-map path.leaflet-interactive").click()
    link = page.locator(".leaflet-popup-content a")
    expect(link).to_have_text(number)
    link.click()
    page.wait_for_url(f"{server}/admin/reports/*", timeout=15_000)

    expect(page.get_by_test_id("report-status")).to_have_text("受付", timeout=15_000)
    photo = page.get_by_test_id("report-photos").locator("img")
    expect(photo).to_have_count(1)
    assert page.evaluate("img => img.complete && img.naturalWidth > 0", photo.element_handle())
    page.locator("#status").select_option("done")
    page.locator("#note").fill("補修が終わりました。")
    page.get_by_role("button", name="状態を変えて通報者に知らせる").click()
    expect(page.get_by_test_id("report-status")).to_have_text("完了")
    expect(page.get_by_test_id("report-history")).to_contain_text("補修が終わりました。")

    delivery.deliver_due(services.sessions, services.messenger, clock, quiet_hours=None,
                         lease=timedelta(seconds=30))
    [told] = taro.received()
    assert number in told["text"] and "完了" in told["text"]
    context.close()
    assert elsewhere == []
    assert problems == []
