"""The office side of large-waste bookings: a resident phones, staff find the booking by its
number or day, see who and where (desk and admin only), change the day or cancel — audited
with the number, never the name — and the resident hears of it in LINE."""

from __future__ import annotations

import csv
import io
from datetime import date

from sqlalchemy import select

from bot.admin.models import AuditEntry
from handlers.large_waste import domain as lw
from tests.conftest import texts
from tests.integration.test_admin_auth import csrf  # noqa: F401
from tests.integration.test_admin_desk import audits, deliver, desk, flashes, form_data, post_form  # noqa: F401
from tests.integration.test_admin_pages import table, text_of
from tests.integration.test_large_waste import at, living_in, slot, tap_label, up_to_confirm


def booked(chat, services, clock, name="港 太郎"):
    """Taro books a bicycle for Tuesday 12/8 (kita-1), asked on Thursday 12/3 18:00."""
    at(clock, 2026, 12, 3, 18, 0)
    taro = living_in(chat, services, "kita-1", "太郎")
    tap_label(taro, up_to_confirm(taro, name, "北区梅ヶ丘4丁目13-10", "090-1234-5678"), "確定")
    taro.received()
    return taro


def page_of(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, f"{url}: {response.status_code}"
    return response.get_data(as_text=True)


def test_a_caller_is_found_by_number_and_the_day_is_changed(chat, services, clock, desk):
    taro = booked(chat, services, clock)
    sato = desk("sato")
    for typed in ("LW-2026-000001", "lw-2026-000001", "ＬＷ－２０２６－０００００１", "000001", "1"):
        found = sato.get("/admin/bookings/find", query_string={"q": typed})
        assert (found.status_code, found.location) == (302, "/admin/bookings/1"), typed
    assert sato.get("/admin/bookings/find?q=12/8").location == "/admin/bookings?date=2026-12-08"
    missing = sato.get("/admin/bookings/find?q=LW-2026-000099", follow_redirects=True).get_data(as_text=True)
    assert "「LW-2026-000099」に当たる予約は見つかりませんでした" in flashes(missing)[0]

    page = page_of(sato, "/admin/bookings/1")
    assert (text_of(page, "contact-name"), text_of(page, "contact-address"), text_of(page, "contact-phone")) == \
        ("港 太郎", "北区梅ヶ丘4丁目13-10", "090-1234-5678")
    assert "12月22日(火)" in text_of(page, "booking-contact")  # erased 14 days after the pickup
    data = form_data(page, "move-form")
    assert data["day"] == ["2026-12-15"]  # the first day offered is preselected by the browser
    moved = post_form(sato, "/admin/bookings/1/move", data)
    assert moved.status_code == 302
    after = page_of(sato, "/admin/bookings/1")
    assert "の収集日を 12月8日(火) から 12月15日(火) に変更し、住民にLINEで知らせました" in flashes(after)[0]
    assert text_of(after, "booking-date") == "12月15日(火)"
    assert (slot(services, "kita-1", date(2026, 12, 8)).booked, slot(services, "kita-1", date(2026, 12, 15)).booked) \
        == (0, 1)
    assert audits(services, "booking.move") == [("sato", "booking.move", "booking:LW-2026-000001",
                                                 {"area": "kita-1", "from": "2026-12-08", "to": "2026-12-15"})]
    deliver(services, clock)
    assert texts(taro.received()) == ["【粗大ごみ】お電話でのご依頼により、受付番号 LW-2026-000001 の収集日を "
                                      "12月8日(火) から 12月15日(火) に変更しました。"]


def test_a_cancellation_the_day_before_is_taken_by_staff_and_told_to_the_resident(chat, services, clock, desk):
    taro = booked(chat, services, clock)
    at(clock, 2026, 12, 7, 10, 0)  # Monday: past the resident's cut-off (Friday 17:00), before the day
    [locked] = taro.taps("action=large_waste.cancel&number=LW-2026-000001")
    assert "締め切りを過ぎた" in locked["text"]
    sato = desk("sato")
    page = page_of(sato, "/admin/bookings/1")
    assert "締め切りを過ぎています" in text_of(page, "past-cutoff")
    token = csrf(sato, "/admin/bookings/1")
    unsure = sato.post("/admin/bookings/1/cancel", data={"csrf_token": token})
    assert unsure.status_code == 400 and "チェックを入れてください" in unsure.get_data(as_text=True)
    assert sato.post("/admin/bookings/1/cancel", data={"csrf_token": token, "sure": "y"}).status_code == 302
    with services.sessions() as s:
        assert s.get(lw.LargeWasteBooking, 1).status == "cancelled"
    assert slot(services, "kita-1", date(2026, 12, 8)).booked == 0
    [entry] = audits(services, "booking.cancel")
    assert entry == ("sato", "booking.cancel", "booking:LW-2026-000001", {"area": "kita-1", "date": "2026-12-08"})
    deliver(services, clock)
    assert texts(taro.received()) == ["【粗大ごみ】お電話でのご依頼により、受付番号 LW-2026-000001（12月8日(火)）を取り消しました。"]
    again = sato.post("/admin/bookings/1/cancel", data={"csrf_token": token, "sure": "y"})
    assert again.status_code == 409 and "取り消せません" in again.get_data(as_text=True)


def test_on_the_collection_day_nothing_changes_any_more(chat, services, clock, desk):
    booked(chat, services, clock)
    at(clock, 2026, 12, 8, 7, 0)
    sato = desk("sato")
    page = page_of(sato, "/admin/bookings/1")
    assert 'data-testid="booking-actions"' not in page
    token = csrf(sato, "/admin/bookings/1")
    assert sato.post("/admin/bookings/1/move", data={"csrf_token": token, "day": "2026-12-15"}).status_code == 409
    assert sato.post("/admin/bookings/1/cancel", data={"csrf_token": token, "sure": "y"}).status_code == 409
    with services.sessions() as s:
        assert s.get(lw.LargeWasteBooking, 1).status == "booked"


def test_who_and_where_only_for_the_desk_and_admins_and_each_look_audited(chat, services, clock, desk):
    booked(chat, services, clock, name="港 見られ子")
    viewer, editor, sato = desk("kato", "viewer"), desk("ito", "editor"), desk("sato")
    for client in (viewer, editor):
        listing = page_of(client, "/admin/bookings?date=2026-12-08")
        detail = page_of(client, "/admin/bookings/1")
        for page in (listing, detail):
            assert "見られ子" not in page and "梅ヶ丘" not in page and "1234-5678" not in page
        assert 'data-testid="booking-contact"' not in detail and 'data-testid="csv-link"' not in listing
        assert client.get("/admin/bookings.csv?date=2026-12-08").status_code == 403
        token = csrf(client, "/admin/bookings/1")
        assert client.post("/admin/bookings/1/cancel", data={"csrf_token": token, "sure": "y"}).status_code == 403
        assert client.post("/admin/bookings/1/move", data={"csrf_token": token, "day": "2026-12-15"}).status_code == 403
    assert audits(services, "booking.") == []

    listing = page_of(sato, "/admin/bookings?date=2026-12-08")
    assert table(listing, "bookings-table") == [["LW-2026-000001", "青葉・桜が丘", "自宅前",
                                                 "港 見られ子 北区梅ヶ丘4丁目13-10 090-1234-5678", "自転車 × 1", "400 円",
                                                 "予約済み"]]
    page_of(sato, "/admin/bookings/1")
    download = sato.get("/admin/bookings.csv?date=2026-12-08")
    [row] = list(csv.DictReader(io.StringIO(download.get_data().decode("utf-8-sig"))))
    assert (row["name"], row["address"], row["phone"]) == ("港 見られ子", "北区梅ヶ丘4丁目13-10", "09012345678")
    assert [(a, t) for _, a, t, _ in audits(services, "booking")] == [("booking.view", "booking:LW-2026-000001"),
                                                                       ("bookings.export", "date:2026-12-08")]
    with services.sessions() as s:  # the audit log never holds who or where
        details = " ".join(str(e.detail) for e in s.scalars(select(AuditEntry)))
    assert "見られ子" not in details and "梅ヶ丘" not in details and "5678" not in details
