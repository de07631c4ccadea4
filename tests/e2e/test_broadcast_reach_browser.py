"""A 北区 evacuation broadcast in a real browser: the preview warns that 2 of 3 friends
cannot be reached (no district registered, or no consent), one click switches to LINE's
broadcast to all friends, and desk B finds it waiting on the home page and approves it.

Skipped when Chromium or Playwright is missing (CITYBOT_REQUIRE_BROWSER=1 fails instead).
"""

from __future__ import annotations

import os
import re

import pytest

from tests.e2e.test_admin_browser import add_staff, browser, expect, logged_in, server  # noqa: F401
from tests.integration.test_broadcast_reach import friends_of_kita
from tests.integration.test_disaster import declare

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_the_preview_warns_with_the_number_not_reached_and_switches_to_all_friends(server, browser, chat,  # noqa: F811
                                                                                     services, tmp_path):
    friends_of_kita(chat, services)
    incident_id = declare(services, ["kita"])
    add_staff(services, ("desk-a", "desk"), ("desk-b", "desk"))
    problems: list[str] = []

    context_a, a = logged_in(browser, server, "desk-a", problems)
    a.goto(f"{server}/admin/broadcasts/new?template=evacuate&incident={incident_id}")
    expect(a.get_by_test_id("target-districts")).to_be_checked()
    expect(a.get_by_test_id("bdistrict-kita")).to_be_checked()
    a.get_by_test_id("preview-button").click()
    expect(a.get_by_test_id("preview-count")).to_have_text("1")
    warning = a.get_by_test_id("reach-warning")
    expect(warning).to_be_visible()
    expect(a.get_by_test_id("reach-missed")).to_have_text("2")
    expect(warning).to_contain_text("区を登録していない友だち 2 人に届きません")
    expect(a.get_by_test_id("reach-not-consented")).to_have_text("1")
    shot = tmp_path / "reach-warning.png"
    warning.screenshot(path=str(shot))
    assert shot.stat().st_size > 2_000
    if os.environ.get("CITYBOT_REACH_SCREENSHOT"):
        shot.replace(os.environ["CITYBOT_REACH_SCREENSHOT"])

    a.get_by_test_id("switch-all").click()  # one click: all friends, previewed again
    expect(a.get_by_role("status").filter(has_text="友だち全員（LINEの一斉配信）」に切り替えました")).to_have_count(1)
    expect(a.get_by_test_id("target-all")).to_be_checked()
    expect(a.get_by_test_id("reach-warning")).to_have_count(0)
    expect(a.get_by_test_id("preview")).to_contain_text("LINEの一斉配信")
    a.get_by_test_id("submit-button").click()
    expect(a.get_by_test_id("broadcast-status")).to_have_text("承認待ち")
    expect(a.get_by_test_id("broadcast-target")).to_contain_text("友だち全員")
    broadcast_id = int(a.url.rsplit("/", 1)[1])

    context_b, b = logged_in(browser, server, "desk-b", problems)  # lands on the home page
    waiting = b.get_by_test_id(f"home-pending-{broadcast_id}")
    expect(waiting).to_contain_text("あなたが承認できます")
    expect(b.get_by_test_id("home-incidents")).to_contain_text(re.compile("北区：洪水"))
    waiting.get_by_role("link").click()
    b.get_by_test_id("approve").click()
    expect(b.get_by_test_id("broadcast-status")).to_have_text("送信済み")
    context_a.close()
    context_b.close()
    assert not problems, problems  # no script errors, no CSP refusals
