"""Nothing a browser can send to /admin gets a 500: ids a table cannot hold are 404,
dates far off and control characters in a query or a form are 400 (or the page's own
message), on SQLite and PostgreSQL alike (PostgreSQL refuses a 32-bit column compared
with a larger number, and NUL in any string).

The last test throws random requests at every /admin URL rule, logged in as an admin."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.test_admin_auth import admin_rules, csrf, login, staff  # noqa: F401

HUGE_IDS = ("99999999999", "2147483648", "9223372036854775808", "0")


@pytest.fixture
def admin(client, staff):
    staff("sato", "admin")
    login(client, "sato")
    client.token = csrf(client, "/admin/")  # valid as long as the session
    return client


@pytest.mark.parametrize("path", ["/admin/incidents/{}", "/admin/incidents/{}/end", "/admin/broadcasts/{}",
                                  "/admin/broadcasts/{}/progress", "/admin/pushes/{}", "/admin/pushes/{}/progress",
                                  "/admin/bookings/{}"])
def test_an_id_no_row_can_have_is_not_found(admin, path):
    for row_id in HUGE_IDS:
        assert admin.get(path.format(row_id)).status_code == 404, path.format(row_id)


@pytest.mark.parametrize("path", ["/admin/incidents/{}", "/admin/incidents/{}/end", "/admin/broadcasts/{}/approve",
                                  "/admin/broadcasts/{}/approve-alone", "/admin/broadcasts/{}/reject",
                                  "/admin/broadcasts/{}/cancel", "/admin/users/{}/role", "/admin/users/{}/disable",
                                  "/admin/users/{}/enable", "/admin/users/{}/lead", "/admin/users/{}/password",
                                  "/admin/bookings/{}/move", "/admin/bookings/{}/cancel"])
def test_an_action_on_an_id_no_row_can_have_is_not_found(admin, path):
    token = admin.token
    for row_id in HUGE_IDS:
        assert admin.post(path.format(row_id), data={"csrf_token": token}).status_code == 404, path.format(row_id)


def test_ids_in_the_query_or_a_form_that_no_row_can_have_are_none(admin):
    page = admin.get("/admin/broadcasts/new?incident=99999999999")
    assert page.status_code == 200 and "その災害・避難情報は選べません" in page.get_data(as_text=True)
    posted = admin.post("/admin/broadcasts/new", data={"csrf_token": admin.token, "form_key": "k",
                                                       "template": "evacuation", "incident": "9223372036854775808",
                                                       "text_ja": "a", "text_en": "a", "text_easy_ja": "a",
                                                       "target": "all"})
    assert posted.status_code in (200, 400)


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1900-01-01", "2200-01-01"])
def test_a_day_far_off_is_refused_politely(admin, day):
    page = admin.get(f"/admin/bookings?date={day}")
    assert page.status_code == 400
    assert "日付" in page.get_data(as_text=True)
    assert admin.get(f"/admin/bookings.csv?date={day}").status_code == 400


@pytest.mark.parametrize("url", ["/admin/bookings?area=kita%00", "/admin/bookings?date=2026-12-08&area=%00",
                                 "/admin/bookings.csv?date=2026-12-08&area=a%00b", "/admin/audit?actor=%00",
                                 "/admin/audit?action=login.%00", "/admin/audit?action=%1b[31m",
                                 "/admin/broadcasts/new?template=%00", "/admin/login?next=/admin/%00"])
def test_control_characters_in_the_query_are_refused(admin, url):
    assert admin.get(url).status_code == 400


def test_nul_in_a_form_is_refused_but_line_breaks_and_tabs_are_not(admin):
    token = admin.token
    assert admin.post("/admin/broadcasts/new", data={"csrf_token": token, "form_key": "k\x00"}).status_code == 400
    kept = admin.post("/admin/broadcasts/new", data={"csrf_token": token, "form_key": "k", "template": "evacuation",
                                                     "text_ja": "一行目\r\n\t二行目", "text_en": "a",
                                                     "text_easy_ja": "a", "target": "all"})
    assert kept.status_code in (200, 400) and "送信を受け付けられませんでした" not in kept.get_data(as_text=True)


# -- every rule, random requests ------------------------------------------------------------------------
PARAMS = ("date", "area", "page", "actor", "action", "next", "template", "incident")
FIELDS = ("form_key", "template", "incident", "text_ja", "text_en", "text_easy_ja", "target", "districts",
          "segment", "training", "checked", "preview", "submit", "reason", "level", "shelters", "status_ja",
          "status_en", "status_easy_ja", "hazard", "u1-role", "u2-role", "role")
IDS = st.one_of(st.sampled_from([0, 1, 2, 2**31 - 1, 2**31, 2**63 - 1, 2**63, 2**64, 10**30, 99999999999]),
                st.integers(min_value=-3, max_value=4), st.integers(min_value=-(2**70), max_value=2**70))
NASTY = st.sampled_from(["\x00", "a\x00b", "kita-1\x00", "2026-12-08\x00", "\ud800", "x\udfff", "\x1b[31m", "\r\n", "\t", "\x7f", "\x85",
                         "9999-12-31", "0001-01-01", "2026-12-08", "99999999999", "9223372036854775808", "-1", "0",
                         "1", "kita-1", "evacuation", "all", "districts", "segment", "login.", "%", "_", "'", "=1+1"])
TEXT = st.one_of(NASTY, st.text(max_size=20), st.from_regex(r"\A[0-9-]{1,12}\Z"))
QUERY = st.fixed_dictionaries({}, optional={name: TEXT for name in PARAMS}).map(lambda d: list(d.items())) | \
    st.lists(st.tuples(st.text(max_size=5), TEXT), max_size=2)
FORM = st.fixed_dictionaries({}, optional={name: TEXT for name in FIELDS}).map(lambda d: list(d.items())) | \
    st.lists(st.tuples(st.text(max_size=5), TEXT), max_size=2)


def _encoded(pairs) -> str:
    """A query or form body as anyone might send it: lone surrogates as the bytes they
    would become in UTF-8, NUL and the rest percent-encoded."""
    return "&".join(f"{quote(k.encode('utf-8', 'surrogatepass'))}={quote(v.encode('utf-8', 'surrogatepass'))}"
                    for k, v in pairs)


def _url(rule, row_id: int) -> str:
    import re

    return re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?\w+>",
                  lambda m: str(row_id) if m.group(1) in ("int", "id") else "x", rule.rule)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(row_id=IDS, query=QUERY, form=FORM)
def test_no_request_to_any_admin_url_is_a_500(app, admin, row_id, query, form):
    """Each example goes to every /admin rule with every method (but logging out)."""
    body = _encoded([("csrf_token", admin.token), *form])
    for rule in admin_rules(app):
        if rule.endpoint == "admin.logout":
            continue  # stays logged in, so the next request means something
        url = _url(rule, row_id)
        for method in sorted(rule.methods - {"OPTIONS", "HEAD"}):
            if method == "GET":
                response = admin.get(url, query_string=_encoded(query))
            else:
                response = admin.open(url, method=method, query_string=_encoded(query), data=body,
                                      content_type="application/x-www-form-urlencoded")
            assert response.status_code < 500, f"{method} {url}?{_encoded(query)}: {response.status_code}"
    assert admin.get("/admin/").status_code == 200
