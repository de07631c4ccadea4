"""安否・避難報告 in a real browser: the desk has the page open while a resident of 北区 reports
"safe at home, 3 people"; the counts move without a reload (static/safety.js polls the
numbers), under 北区 and 自宅で無事.

Skipped when Chromium or Playwright is missing (CITYBOT_REQUIRE_BROWSER=1 fails instead).
"""

from __future__ import annotations

import pytest

from tests.e2e.test_admin_browser import add_staff, browser, expect, logged_in, server  # noqa: F401
from tests.integration.test_disaster import declare, resident_in

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_the_desk_sees_the_counts_move_without_a_reload(server, browser, chat, services):  # noqa: F811
    incident = declare(services, ["kita"])
    hana = resident_in(chat, services, "kita", "花子")
    add_staff(services, ("desk-a", "desk"))
    problems: list[str] = []
    context, page = logged_in(browser, server, "desk-a", problems)
    page.goto(f"{server}/admin/safety")
    cell = page.get_by_test_id(f"safety-cell-{incident}-kita-home")
    expect(cell).to_have_text("0 件（0 人）")
    page.evaluate("window.__sameDocument = true")  # gone if the page were loaded again

    hana.says("安否")
    hana.taps("action=safety.status&step=status&is=home")
    hana.taps("action=safety.people&step=people&n=3")

    expect(cell).to_have_text("1 件（3 人）", timeout=20_000)
    expect(page.get_by_test_id(f"safety-people-{incident}")).to_have_text("3")
    assert page.evaluate("window.__sameDocument === true")
    context.close()
    assert not problems, problems  # no script errors, no CSP refusals
