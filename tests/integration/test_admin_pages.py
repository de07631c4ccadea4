"""The staff overview pages: the dashboard's counts, pushes with live progress, a day's
large-waste bookings (page and CSV) — for every role, behind the login, and never with
a LINE user id on them."""

from __future__ import annotations

import csv
import html as htmllib
import io
import re
import secrets
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import create_app, delivery
from bot.admin.auth import hash_password
from bot.admin.models import StaffUser
from bot.bootstrap import bootstrap
from bot.models import Resident
from handlers.large_waste import domain as lw
from tests.integration.test_admin_auth import PASSWORD, admin_rules, audit_rows, dummy_url, login, staff  # noqa: F401
from tests.integration.test_large_waste import at, living_in, tap_label, up_to_confirm

CONTENT = Path(__file__).resolve().parents[2] / "content"
MY_PAGES = ("admin.dashboard", "admin.pushes", "admin.push", "admin.push_progress", "admin.bookings",
            "admin.bookings_csv")
USER_ID = re.compile(r"U[0-9a-f]{32}")


# -- helpers ------------------------------------------------------------------------------------------
def table(page: str, testid: str) -> list[list[str]]:
    """The body rows of the table with this data-testid, as lists of cell texts."""
    found = re.search(rf'<table[^>]*data-testid="{testid}"[^>]*>(.*?)</table>', page, re.S)
    assert found, f"no table {testid}"
    body = re.search(r"<tbody>(.*?)</tbody>", found.group(1), re.S).group(1)
    return [[" ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", cell)).split())
             for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def text_of(page: str, testid: str) -> str:
    found = re.search(rf'<(\w+)[^>]*data-testid="{testid}"[^>]*>(.*?)</\1>', page, re.S)
    assert found, f"no element {testid}"
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", found.group(2))).split())


def get(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, f"{url}: {response.status_code}"
    return response.get_data(as_text=True)


def add_residents(services, *rows: tuple[str | None, str, bool]) -> list[str]:
    """(district, language, following) per resident, straight into the database."""
    ids = []
    with services.sessions() as s:
        for district, language, following in rows:
            user_id = "U" + secrets.token_hex(16)
            s.add(Resident(line_user_id=user_id, language=language, following=following, district=district,
                           created_at=services.now(), last_seen_at=services.now()))
            ids.append(user_id)
        s.commit()
    return ids


def send_due(services, clock, limit=None) -> int:
    return delivery.deliver_due(services.sessions, services.messenger, clock, quiet_hours=None,
                                lease=timedelta(seconds=60), limit=limit)


def assert_no_user_ids(*pages: str) -> None:
    for page in pages:
        assert not USER_ID.search(page), USER_ID.search(page).group(0)


# -- login, roles ---------------------------------------------------------------------------------------
def test_every_page_here_needs_a_login(app, client):
    rules = {r.endpoint: r for r in admin_rules(app)}
    assert set(MY_PAGES) <= set(rules)  # so test_admin_auth's sweep over the URL map covers them
    for endpoint in MY_PAGES:
        response = client.get(dummy_url(rules[endpoint]) + "?date=2026-12-08")
        assert response.status_code == 302 and response.location.startswith("/admin/login"), endpoint


@pytest.mark.parametrize("role", ["viewer", "editor", "desk", "admin"])
def test_every_role_sees_the_pages_and_the_menu(client, staff, role):
    staff("sato", role)
    login(client, "sato")
    home = get(client, "/admin/")
    assert "配信状況" in home and "粗大ごみ予約" in home and 'data-testid="user-name">sato<' in home
    get(client, "/admin/pushes")
    get(client, "/admin/bookings?date=2026-12-08")
    assert get(client, "/admin/pushes/999", 404)
    missing = client.get("/admin/pushes/999/progress")
    assert missing.status_code == 404 and missing.get_json() == {"error": "not found"}


# -- the dashboard ----------------------------------------------------------------------------------------
def test_dashboard_counts_following_residents_by_district_and_language(chat, services, client, staff):
    hanako = living_in(chat, services, "kita-1", "北区 花子")  # through the webhook: district kita
    ids = add_residents(services, ("kita", "en", True), ("chuo", "easy_ja", True), (None, "ja", True),
                        (None, "en", True), ("higashi", "ja", False),  # blocked: not counted
                        ("old-ward", "ja", True))                       # a district content no longer has
    staff("sato", "viewer")
    login(client, "sato")
    home = get(client, "/admin/")

    by_district = dict(table(home, "residents-by-district"))
    assert by_district["北区"] == "2" and by_district["中央区"] == "1" and by_district["東区"] == "0"
    assert by_district["未登録"] == "2" and by_district["old-ward（設定にない区）"] == "1"
    assert list(by_district)[:7] == ["北区", "中央区", "東区", "西区", "南区", "港区", "山手区"]  # settings.yaml order
    assert list(by_district)[-1] == "未登録"
    assert dict(table(home, "residents-by-language")) == {"日本語": "3", "English": "2", "やさしい日本語": "1"}
    assert text_of(home, "followers") == "6 人"
    assert text_of(home, "user-role") == "閲覧のみ"  # what the dashboard showed before stays
    assert "no-pushes-in-flight" in home
    for user_id in [hanako.user_id, *ids]:
        assert user_id not in home
    assert_no_user_ids(home)


def test_content_problems_are_shown_while_the_last_good_content_keeps_serving(config, clock, line, tmp_path):
    content_dir = tmp_path / "content"
    shutil.copytree(CONTENT, content_dir)
    svc = bootstrap(config.with_(content_dir=str(content_dir)), now=clock)
    try:
        with svc.sessions() as s:
            s.add(StaffUser(name="sato", role="editor", password_hash=hash_password(PASSWORD), disabled=False,
                            created_at=svc.now()))
            s.commit()
        client = create_app(services=svc).test_client()
        login(client, "sato")
        home = get(client, "/admin/")
        version = text_of(home, "content-version")
        assert text_of(home, "content-ok").startswith("OK") and "content-problems" not in home

        help_file = content_dir / "help.yaml"
        help_file.write_text(help_file.read_text(encoding="utf-8") + "\nkeywords: [broken\n", encoding="utf-8")
        assert not svc.content.reload_if_changed()
        home = get(client, "/admin/")
        problems = text_of(home, "content-problems")
        assert "content-ok" not in home and re.search(r"help\.yaml:\d+: ", problems), problems
        assert text_of(home, "content-version") == version  # still answering from the last good content

        shutil.copy(CONTENT / "help.yaml", help_file)
        assert svc.content.reload_if_changed()
        assert "content-ok" in get(client, "/admin/")
    finally:
        svc.close()


# -- pushes and their progress ------------------------------------------------------------------------
def test_a_push_in_flight_shows_its_progress_until_it_is_all_sent(chat, services, client, staff, clock, line):
    people = [chat.resident(name) for name in ("太郎", "花子", "次郎")]
    for person in people:
        person.says("こんにちは")
        person.received()
    with services.sessions() as s:  # two languages: two batches, so progress can stop halfway
        s.scalars(select(Resident).where(Resident.line_user_id == people[2].user_id)).one().language = "en"
        push_id = delivery.create_push(s, source_key="notice:water@2026-12-01", kind="notice",
                                       messages={"*": [{"type": "text", "text": "断水のお知らせ"}]},
                                       recipients=delivery.to_residents([p.user_id for p in people]), now=clock())
        s.commit()
    staff("sato", "viewer")
    login(client, "sato")

    home = get(client, "/admin/")
    [row] = table(home, "pushes-in-flight")
    assert row[0] == f"#{push_id}" and row[1] == "water（12月1日(火) 00:00） お知らせ" and row[3] == "0 ／ 3" \
        and row[4] == "0 %"
    assert f'data-progress-url="/admin/pushes/{push_id}/progress"' in home and "progress.js" in home
    assert client.get(f"/admin/pushes/{push_id}/progress").get_json() == \
        {"total": 3, "sent": 0, "failed": 0, "pending": 3, "percent": 0, "done": False}

    detail = get(client, f"/admin/pushes/{push_id}")
    assert text_of(detail, "progress-percent") == "0"
    assert f'data-progress-url="/admin/pushes/{push_id}/progress"' in detail
    assert '<progress class="large" max="100" value="0"' in detail and "断水のお知らせ" in detail
    assert '<script src="/admin/static/progress.js" defer></script>' in detail
    assert client.get("/admin/static/progress.js").status_code == 200

    assert send_due(services, clock, limit=1) == 1  # one of the two batches
    halfway = client.get(f"/admin/pushes/{push_id}/progress").get_json()
    assert halfway["done"] is False and halfway["sent"] in (1, 2) and halfway["pending"] == 3 - halfway["sent"]
    assert halfway["percent"] == halfway["sent"] * 100 // 3

    send_due(services, clock)
    assert client.get(f"/admin/pushes/{push_id}/progress").get_json() == \
        {"total": 3, "sent": 3, "failed": 0, "pending": 0, "percent": 100, "done": True}
    assert [[m["text"] for m in p.received()] for p in people] == [["断水のお知らせ"]] * 3
    assert "no-pushes-in-flight" in get(client, "/admin/")
    detail = get(client, f"/admin/pushes/{push_id}")
    assert text_of(detail, "progress-percent") == "100" and 'data-progress-done="true"' in detail

    listing = get(client, "/admin/pushes")
    row = next(r for r in table(listing, "pushes-table") if r[0] == f"#{push_id}")
    assert row[1:] == ["お知らせ", "water（12月1日(火) 00:00）", "—", row[4], "3", "3", "0", "0", "100% 完了"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", row[4])
    assert_no_user_ids(home, detail, listing)


def test_a_reply_push_shows_no_text_and_no_user_id(chat, services, client, staff, clock):
    taro = chat.resident("太郎")
    taro.says("こんにちは")
    with services.sessions() as s:
        push_id = delivery.create_push(s, source_key=f"event:{taro.user_id}", kind="handler",
                                       messages={"*": [{"type": "text", "text": "あなたの予約 LW-2026-000009"}]},
                                       recipients=delivery.to_residents([taro.user_id]), now=clock())
        s.commit()
    staff("sato", "desk")
    login(client, "sato")
    pages = [get(client, "/admin/"), get(client, "/admin/pushes"), get(client, f"/admin/pushes/{push_id}")]
    assert "個別の返信" in pages[2] and "LW-2026-000009" not in pages[2]
    assert_no_user_ids(*pages)


# -- large-waste bookings by day ---------------------------------------------------------------------------
def test_a_booking_made_in_the_chat_is_on_its_day_and_in_the_csv(chat, services, app, client, staff, clock):
    at(clock, 2026, 12, 3, 18, 0)  # a Thursday; kita-1 is collected on Tuesdays
    taro = living_in(chat, services, "kita-1", "太郎")
    booked, *_ = tap_label(taro, up_to_confirm(taro), "確定")
    assert "LW-2026-000001" in booked["text"]
    with services.sessions() as s:
        [booking] = lw.bookings_on(s, date(2026, 12, 8))
        expected = [{k: str(v) for k, v in r.items()} for r in lw.export_rows(s, date(2026, 12, 8))]
    staff("sato", "viewer")
    login(client, "sato")

    page = get(client, "/admin/bookings?date=2026-12-08")
    assert table(page, "bookings-table") == [["LW-2026-000001", "青葉・桜が丘", "自宅前", "自転車 × 1", "400 円", "予約済み"]]
    assert "12月8日(火)" in page and text_of(page, "bookings-summary").startswith("予約 1 件・1 点・手数料の合計 400 円")
    assert "港 太郎" not in page and "bookings.csv" not in page  # who and where: the desk's (test_admin_bookings)
    assert client.get("/admin/bookings.csv?date=2026-12-08").status_code == 403
    previous, following = re.search(r'href="/admin/bookings\?date=([\d-]+)"[^>]*data-testid="previous-day"', page), \
        re.search(r'href="/admin/bookings\?date=([\d-]+)"[^>]*data-testid="next-day"', page)
    assert date.fromisoformat(previous[1]) < date(2026, 12, 8) < date.fromisoformat(following[1])
    rules = lw.rules_of(services.content.current())
    assert any(rules.is_collection_day(a, date.fromisoformat(following[1])) for a in rules.days)

    staff("kato", "desk")
    client = app.test_client()
    login(client, "kato")
    only_kita = get(client, "/admin/bookings?date=2026-12-08&area=kita-1")
    assert 'href="/admin/bookings.csv?date=2026-12-08&amp;area=kita-1"' in only_kita
    assert "<option value=\"kita-1\" selected>" in only_kita
    assert next_tuesday_link(only_kita) == "2026-12-15"  # kita-1's next collection day
    assert table(get(client, "/admin/bookings?date=2026-12-08&area=higashi-2"), "bookings-table") == \
        [["この日の予約はありません。"]]
    assert "LW-2026-000001" not in get(client, "/admin/bookings?date=2026-12-15")

    download = client.get("/admin/bookings.csv?date=2026-12-08")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert download.headers["Content-Disposition"] == 'attachment; filename="large-waste-2026-12-08.csv"'
    body = download.get_data().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert list(rows[0]) == list(lw.EXPORT_COLUMNS)
    assert rows == expected
    assert rows[0]["number"] == booking.number and rows[0]["items"] == "自転車 x1" and rows[0]["total_fee"] == "400"
    assert taro.user_id not in body and str(booking.resident_id) not in [v for r in rows for v in r.values()]
    [entry] = [e for e in audit_rows(services) if e.action == "bookings.export"]
    assert (entry.actor, entry.target, entry.detail) == ("kato", "date:2026-12-08", {"area": "all", "rows": 1})

    assert client.get("/admin/bookings.csv").status_code == 400
    assert "読み取れません" in get(client, "/admin/bookings?date=12/08", 400)
    assert get(client, "/admin/bookings")  # defaults to today or the next collection day
    pages = [page, only_kita, get(client, "/admin/"), get(client, "/admin/pushes")]
    for shown in pages:
        assert taro.user_id not in shown
    assert_no_user_ids(body, *pages)


def next_tuesday_link(page: str) -> str:
    return re.search(r'href="/admin/bookings\?date=([\d-]+)&amp;area=kita-1"[^>]*data-testid="next-day"', page)[1]
