"""通報: a resident reports a problem with photos and a place; staff see it and move it on.

The resident only taps and sends: the menu's 通報する, a kind, a photo (with EXIF and the
GPS of their home, as phones write it), 次へ, a location, スキップ, 市に送る. The report
reaches /admin with the photo — stored without any metadata — and the pin; a status
change reaches the resident once, however often the form is sent.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

import pytest
from PIL import ExifTags, Image
from sqlalchemy import select

from bot import delivery
from bot.models import Resident
from handlers.reports.tables import FieldKind, Report, ReportPhoto, ReportUpdate
from tests.conftest import quick_data, quick_labels
from tests.integration.test_admin_auth import PASSWORD, login, staff  # noqa: F401

HOME = (34.6712, 135.4512)          # where the resident took the photo: their own home
HOLE = (34.66402, 135.43291)        # where the hole is


def phone_photo(size=(64, 32), orientation: int = 6) -> bytes:
    """A JPEG as a phone writes it: camera make and model, the time, the GPS position."""
    image = Image.new("RGB", size, (200, 60, 40))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Model] = "Pocket 12"
    exif[ExifTags.Base.DateTime] = "2026:12:01 08:15:00"
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.IFD.GPSInfo] = {1: "N", 2: (34.0, 40.0, 16.32), 3: "E", 4: (135.0, 27.0, 4.32)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), comment=b"taken at home")
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the test photo has GPS
    return data


def token_of(message: dict) -> str:
    return next(d for d in quick_data(message) if d.startswith("action=report.send"))


def send_due(services, clock) -> int:
    return delivery.deliver_due(services.sessions, services.messenger, clock, quiet_hours=None,
                                lease=timedelta(seconds=60))


def tapped_report(chat, kind: str = "road") -> tuple:
    """A resident who taps through a report with one photo and a location; (resident, number)."""
    taro = chat.resident()
    [ask_kind] = taro.taps("action=reports")
    assert f"action=report.kind&step=kind&id={kind}" in quick_data(ask_kind)
    [ask_photo] = taro.taps(f"action=report.kind&step=kind&id={kind}")
    assert ask_photo["text"].startswith("「")
    kinds = [item["action"]["type"] for item in ask_photo["quickReply"]["items"]]
    assert kinds[:2] == ["camera", "cameraRoll"]  # the chips open the camera and the photos
    [got] = taro.sends_image(phone_photo())
    assert "写真を受け取りました（1枚）" in got["text"]
    [ask_place] = taro.taps("action=report.next&step=photo")
    assert any(item["action"]["type"] == "location" for item in ask_place["quickReply"]["items"])
    [ask_description] = taro.sends_location(*HOLE)
    assert "スキップ" in quick_labels(ask_description)
    [summary] = taro.taps("action=report.skip&step=description")
    assert "写真：1枚" in summary["text"] and "地図で選んだ場所" in summary["text"]
    [sent] = taro.taps(token_of(summary))
    number = re.search(r"R-\d{4}-\d{6}", sent["text"]).group(0)
    return taro, number


def test_a_tapped_report_reaches_the_queue_with_a_photo_without_exif_and_its_pin(chat, services, client, staff):
    taro, number = tapped_report(chat)
    with services.sessions() as s:
        report = s.scalars(select(Report)).one()
        [photo] = s.scalars(select(ReportPhoto)).all()
    assert (report.number, report.kind, report.status) == (number, "road", "received")
    assert (report.latitude, report.longitude) == HOLE
    assert photo.report_id == report.id and photo.resident_id is None
    stored = Image.open(io.BytesIO(photo.data))
    assert stored.format == "JPEG" and not stored.getexif() and "exif" not in stored.info
    assert not stored.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert b"Exif" not in photo.data and b"PhoneMaker" not in photo.data and b"taken at home" not in photo.data
    assert stored.size == (32, 64)  # turned upright by the orientation the phone wrote, before it was dropped

    staff("mori", "viewer")
    login(client, "mori")
    queue = client.get("/admin/reports").get_data(as_text=True)
    assert number in queue and "道路・歩道" in queue and "道路管理課" in queue
    assert taro.user_id not in queue
    page = client.get(f"/admin/reports/{report.id}").get_data(as_text=True)
    assert taro.user_id not in page and f"/admin/reports/photos/{photo.id}" in page
    assert client.get(f"/admin/reports/photos/{photo.id}").data == photo.data
    features = client.get("/admin/reports.geojson").get_json()["features"]
    assert [f["geometry"]["coordinates"] for f in features] == [[HOLE[1], HOLE[0]]]
    assert features[0]["properties"]["number"] == number
    assert "状態を変える権限がありません" in page  # a viewer sees, but does not change


def test_a_status_change_reaches_the_resident_once(chat, services, client, staff, clock, line):
    taro, number = tapped_report(chat)
    staff("desk-a", "desk")
    login(client, "desk-a")
    with services.sessions() as s:
        report_id = s.scalars(select(Report.id)).one()
    form = client.get(f"/admin/reports/{report_id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    change = {"csrf_token": token, "expected": "received", "status": "in_progress", "note": "来週、補修します。"}
    first = client.post(f"/admin/reports/{report_id}/status", data=change)
    again = client.post(f"/admin/reports/{report_id}/status", data=change)  # a double click, a reload
    assert first.status_code == again.status_code == 302
    assert send_due(services, clock) == 1
    told = taro.received()
    assert len(told) == 1
    assert number in told[0]["text"] and "対応中" in told[0]["text"] and "来週、補修します。" in told[0]["text"]
    assert send_due(services, clock) == 0 and taro.received() == []
    with services.sessions() as s:
        assert s.scalars(select(Report.status)).one() == "in_progress"
        assert len(s.scalars(select(ReportUpdate)).all()) == 1
    page = client.get(f"/admin/reports/{report_id}").get_data(as_text=True)
    assert "来週、補修します。" in page and "desk-a" in page


def test_the_resident_is_told_in_their_language(chat, services, client, staff, clock):
    taro, number = tapped_report(chat)
    taro.taps("action=language.set&lang=en")
    staff("desk-a", "desk")
    login(client, "desk-a")
    with services.sessions() as s:
        report_id = s.scalars(select(Report.id)).one()
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      client.get(f"/admin/reports/{report_id}").get_data(as_text=True)).group(1)
    client.post(f"/admin/reports/{report_id}/status", data={"csrf_token": token, "expected": "received",
                                                            "status": "done", "note": ""})
    send_due(services, clock)
    [told] = taro.received()
    assert told["text"] == f"[Report {number} (Road or sidewalk)] Its status is now: Done."


def test_deleting_my_data_keeps_the_report_for_the_city_without_me(chat, services, client, staff, clock):
    taro, number = tapped_report(chat)
    [confirm] = taro.says("データ削除")
    taro.taps("action=delete_data.confirm")
    with services.sessions() as s:
        report = s.scalars(select(Report)).one()
        assert report.resident_id is None and report.number == number
        assert s.scalars(select(Resident)).all() == []
        assert len(s.scalars(select(ReportPhoto)).all()) == 1
    staff("desk-a", "desk")
    login(client, "desk-a")
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      client.get(f"/admin/reports/{report.id}").get_data(as_text=True)).group(1)
    done = client.post(f"/admin/reports/{report.id}/status",
                       data={"csrf_token": token, "expected": "received", "status": "done", "note": ""},
                       follow_redirects=True)
    assert "お知らせはしていません" in done.get_data(as_text=True)
    assert send_due(services, clock) == 0


def test_a_message_about_a_hole_starts_a_report_of_that_kind_and_keeps_the_words(chat, services):
    hana = chat.resident()
    [ask_photo] = hana.says("家の前の道路に穴があいていて危ないです")
    assert "「道路・歩道」" in ask_photo["text"]
    hana.sends_image(phone_photo())
    hana.taps("action=report.next&step=photo")
    [summary] = hana.says("みなと公園の北の入口の前")  # a place typed, not shared
    assert "家の前の道路に穴があいていて危ないです" in summary["text"]
    assert "みなと公園の北の入口の前" in summary["text"]
    hana.says("送信")
    with services.sessions() as s:
        report = s.scalars(select(Report)).one()
    assert report.place == "みなと公園の北の入口の前" and report.latitude is None
    assert report.description == "家の前の道路に穴があいていて危ないです"


@pytest.mark.parametrize("typed", ["公園のブランコが壊れています", "街灯が切れています", "カーブミラーが曲がっている",
                                   "The street light is broken"])
def test_things_broken_in_the_city_start_a_report(chat, typed):
    [answer] = chat.resident().says(typed)
    assert "action=report.quit" in quick_data(answer), typed


@pytest.mark.parametrize("typed", ["ペットボトル", "粗大ごみ", "保育園の空き", "避難所", "公園の場所を知りたい"])
def test_services_keep_their_questions(chat, typed):
    [*_, answer] = chat.resident().says(typed)
    assert "action=report.quit" not in quick_data(answer), typed


def test_a_photo_out_of_the_blue_starts_a_report_and_a_second_one_joins_it(chat, services):
    jiro = chat.resident()
    [ask_kind] = jiro.sends_image(phone_photo())
    assert "写真を受け取りました。市に通報しますか" in ask_kind["text"]
    [again, *_] = jiro.sends_image(phone_photo())  # the note, then the question again
    assert "写真を受け取りました（2枚）" in again["text"]
    [ask_photo] = jiro.taps("action=report.kind&step=kind&id=dumping")
    assert "写真を受け取りました（2枚）" in ask_photo["text"]
    jiro.sends_image(phone_photo())
    [full, ask_place] = jiro.sends_image(phone_photo())  # a fourth: three is the most
    assert full["text"] == "写真は3枚までです。" and ask_place["text"].startswith("場所を教えてください")
    with services.sessions() as s:
        assert len(s.scalars(select(ReportPhoto)).all()) == 3


def test_stopping_a_report_deletes_its_photos(chat, services):
    jiro = chat.resident()
    jiro.sends_image(phone_photo())
    [stopped] = jiro.says("やめる")
    assert "受け取った写真は消しました" in stopped["text"]
    with services.sessions() as s:
        assert s.scalars(select(ReportPhoto)).all() == []


def test_a_kind_that_needs_a_photo_asks_for_one_and_a_file_that_is_no_photo_is_refused(chat, services):
    jiro = chat.resident()
    jiro.taps("action=reports")
    jiro.taps("action=report.kind&step=kind&id=park")
    [needs, _question] = jiro.taps("action=report.next&step=photo")
    assert "写真が1枚以上必要です" in needs["text"]
    [refused, again] = jiro.sends_image(b"%PDF-1.4 not a photo", "image/jpeg")
    assert "読み取れませんでした" in refused["text"] and "写真を送ってください" in again["text"]
    with services.sessions() as s:
        assert s.scalars(select(ReportPhoto)).all() == []


def test_a_photo_line_no_longer_has_is_answered_kindly(chat, services):
    from bot.fakeline import webhook_events as ev

    jiro = chat.resident()
    jiro.taps("action=reports")
    jiro.taps("action=report.kind&step=kind&id=light")
    [answer, _question] = jiro._exchange(ev.image_event(jiro.user_id, message_id="123456789012345678", reply_token=jiro.token(),
                                             timestamp=jiro.at()), "(photo)")  # expired at LINE: 404
    assert "写真を受け取れませんでした" in answer["text"]
    with services.sessions() as s:
        assert s.scalars(select(ReportPhoto)).all() == []


def test_a_field_account_updates_only_its_own_kinds(chat, services, client, staff):
    tapped_report(chat, "road")
    park = staff("kouen", "field")
    with services.sessions() as s:
        s.add(FieldKind(staff_user_id=park.id, kind="park"))
        s.commit()
        report_id = s.scalars(select(Report.id)).one()
    login(client, "kouen")
    page = client.get(f"/admin/reports/{report_id}").get_data(as_text=True)
    assert "状態を変える権限がありません" in page
    assert "公園" in client.get("/admin/reports").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    refused = client.post(f"/admin/reports/{report_id}/status",
                          data={"csrf_token": token, "expected": "received", "status": "done"})
    assert refused.status_code == 403
    with services.sessions() as s:
        s.add(FieldKind(staff_user_id=park.id, kind="road"))
        s.commit()
    allowed = client.post(f"/admin/reports/{report_id}/status",
                          data={"csrf_token": token, "expected": "received", "status": "done"})
    assert allowed.status_code == 302


def test_reports_near_each_other_are_hinted_as_duplicates_and_exported(chat, services, client, staff):
    tapped_report(chat)
    tapped_report(chat)  # a neighbour reports the same hole
    staff("mori", "viewer")
    login(client, "mori")
    queue = client.get("/admin/reports").get_data(as_text=True)
    assert queue.count("重複？ 1") == 2
    with services.sessions() as s:
        first, second = s.scalars(select(Report).order_by(Report.id)).all()
    page = client.get(f"/admin/reports/{first.id}").get_data(as_text=True)
    assert second.number in page and "重複の可能性" in page
    exported = client.get("/admin/reports.csv")
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:5] == ["受付番号", "種類", "担当課", "状態", "受付日時"]
    assert {r[0] for r in rows[1:]} == {first.number, second.number}
    assert all(r[1] == "道路・歩道" and r[3] == "受付" for r in rows[1:])
    geo = json.loads(client.get("/admin/reports.geojson?download=1&kind=road").get_data(as_text=True))
    assert geo["type"] == "FeatureCollection" and len(geo["features"]) == 2
    assert client.get("/admin/reports.geojson?kind=park").get_json()["features"] == []
    assert client.get("/admin/reports?status=nonsense").status_code == 400


def test_the_citys_tiles_are_the_one_thing_a_map_may_fetch_from_elsewhere(config, clock, services, staff):
    from bot import create_app
    from bot.bootstrap import bootstrap

    tiled = bootstrap(config.with_(map_tile_url="https://{s}.tile.example.jp/{z}/{x}/{y}.png",
                                   map_tile_attribution="© 地図の会社"), now=clock)
    try:
        client = create_app(services=tiled).test_client()
        staff("mori", "viewer")
        login(client, "mori")
        page = client.get("/admin/reports/map")
        assert "img-src 'self' data: https://*.tile.example.jp;" in page.headers["Content-Security-Policy"]
        assert 'data-tile-url="https://{s}.tile.example.jp/{z}/{x}/{y}.png"' in page.get_data(as_text=True)
        assert "script-src" not in page.headers["Content-Security-Policy"]  # scripts: this server's only
    finally:
        tiled.close()
    plain = services.config.map_tile_url == "" and create_app(services=services).test_client()
    login(plain, "mori")
    assert "img-src" not in plain.get("/admin/reports/map").headers["Content-Security-Policy"]


def test_blocking_the_account_also_keeps_the_report_without_the_resident(chat, services):
    taro, number = tapped_report(chat)
    taro.blocks()
    with services.sessions() as s:
        report = s.scalars(select(Report)).one()
        assert (report.number, report.resident_id) == (number, None)


def test_photos_of_a_report_nobody_sent_are_deleted_the_next_night(chat, services, clock):
    from handlers.reports import prune

    tapped_report(chat)                       # sent: its photo is the city's
    jiro = chat.resident()
    jiro.sends_image(phone_photo())           # never sent
    clock.advance(hours=25)
    with services.sessions() as s:
        prune(session=s, now=services.now())
        s.commit()
        photos = s.scalars(select(ReportPhoto)).all()
    assert len(photos) == 1 and photos[0].report_id is not None


def test_citybot_reports_field_kinds_sets_what_a_field_account_updates(config, services, staff, monkeypatch, tmp_path):
    from click.testing import CliRunner

    from bot.cli import main

    staff("kouen", "field")
    monkeypatch.setenv("DATABASE_URL", config.database_url)
    monkeypatch.setenv("CITYBOT_INSTANCE_DIR", str(tmp_path))
    runner = CliRunner()
    done = runner.invoke(main, ["reports", "field-kinds", "kouen", "park", "light"])
    assert done.exit_code == 0 and done.output.strip() == "kouen: light (街灯・防犯灯), park (公園)", done.output
    assert runner.invoke(main, ["reports", "field-kinds", "kouen", "swimming-pool"]).exit_code == 2
    assert runner.invoke(main, ["reports", "field-kinds", "nobody", "park"]).exit_code == 1
    assert runner.invoke(main, ["reports", "field-kinds", "kouen", "--clear"]).output.strip() == "kouen: (none)"
    with services.sessions() as s:
        assert s.scalars(select(FieldKind)).all() == []
