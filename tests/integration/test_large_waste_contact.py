"""The name, address and phone a large-waste booking needs: asked with the reason, kept
only as long as the city says, erased by the clock (and at once by データ削除), never logged."""

import csv
import io
import logging

from click.testing import CliRunner
from sqlalchemy import func, select

from bot.cli import main as cli_main
from bot.models import ConversationState, Resident
from bot.scheduler import Clock
from handlers.large_waste import domain as lw
from tests.conftest import quick_data, quick_labels
from tests.integration.test_garbage import at, living_in
from tests.integration.test_large_waste import data_starting, tap_label, up_to_confirm


def contacts(services):
    with services.sessions() as s:
        return [(c.name, c.address, c.phone) for c in s.scalars(select(lw.LargeWasteContact)
                                                               .order_by(lw.LargeWasteContact.booking_id))]


def run_erase(services, clock):
    Clock(services).run_job(services.router.jobs["large_waste.erase_contacts"], clock())


def crews_csv(config, monkeypatch, day):
    monkeypatch.setenv("DATABASE_URL", config.database_url)
    result = CliRunner().invoke(cli_main, ["bookings", "export", "--date", day, "--format", "csv"])
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(io.StringIO(result.output)))


def test_the_contact_is_erased_after_the_retention_and_the_booking_stays(chat, services, clock, config, monkeypatch):
    at(clock, 2026, 12, 3, 18, 0)
    taro = living_in(chat, services, "kita-1", "太郎")
    tap_label(taro, up_to_confirm(taro), "確定")  # collected on Tuesday 12/8
    jiro = living_in(chat, services, "kita-1", "次郎")
    tap_label(jiro, up_to_confirm(jiro, "港 次郎", "北区北町2丁目18-5", "06-1234-5678"), "確定")
    [sure] = jiro.taps("action=large_waste.cancel&number=LW-2026-000002")
    tap_label(jiro, sure, "はい、取り消す")  # cancelled on Thursday 12/3
    assert contacts(services) == [("港 太郎", "北区梅ヶ丘4丁目13-10", "09012345678"),
                                  ("港 次郎", "北区北町2丁目18-5", "0612345678")]

    at(clock, 2026, 12, 17, 23, 30)  # the cancellation is 14 days old: kept through the day
    run_erase(services, clock)
    assert len(contacts(services)) == 2
    at(clock, 2026, 12, 18, 0, 30)  # 15 days: the cancelled booking's contact goes
    run_erase(services, clock)
    assert contacts(services) == [("港 太郎", "北区梅ヶ丘4丁目13-10", "09012345678")]

    at(clock, 2026, 12, 22, 23, 30)  # the pickup (12/8) plus 14 days: still kept
    run_erase(services, clock)
    assert len(contacts(services)) == 1
    row, cancelled = crews_csv(config, monkeypatch, "2026-12-08")
    assert (row["name"], row["phone"]) == ("港 太郎", "09012345678")
    assert (cancelled["number"], cancelled["status"], cancelled["name"]) == ("LW-2026-000002", "cancelled", "")
    at(clock, 2026, 12, 23, 0, 30)
    run_erase(services, clock)
    assert contacts(services) == []
    row, _ = crews_csv(config, monkeypatch, "2026-12-08")  # the booking stays, without who and where
    assert (row["number"], row["name"], row["address"], row["phone"], row["items"]) == \
        ("LW-2026-000001", "", "", "", "自転車 x1")


def test_a_shorter_retention_set_by_the_city_applies_to_bookings_made_before(city, clock):
    content_dir, services, chat = city
    at(clock, 2026, 12, 3, 18, 0)
    taro = living_in(chat, services, "kita-1", "太郎")
    tap_label(taro, up_to_confirm(taro), "確定")  # 12/8
    rules = content_dir / "large_waste" / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace("contact: {keep_days: 14}", "contact: {keep_days: 0}"),
                     encoding="utf-8")
    assert services.content.reload_if_changed()
    at(clock, 2026, 12, 8, 23, 0)  # the collection day itself: kept
    run_erase(services, clock)
    assert len(contacts(services)) == 1
    at(clock, 2026, 12, 9, 1, 0)
    run_erase(services, clock)
    assert contacts(services) == []


def test_data_deletion_erases_the_contact_at_once(chat, services, clock):
    at(clock, 2026, 12, 3, 18, 0)
    taro = living_in(chat, services, "kita-1", "太郎")
    tap_label(taro, up_to_confirm(taro), "確定")
    assert len(contacts(services)) == 1
    taro.says("データ削除")
    taro.taps("action=delete_data.confirm")
    assert contacts(services) == []
    with services.sessions() as s:
        assert s.scalar(select(func.count()).select_from(lw.LargeWasteBooking)) == 0


def test_a_second_booking_offers_the_contact_still_kept(chat, services, clock):
    at(clock, 2026, 12, 3, 18, 0)
    taro = living_in(chat, services, "kita-1", "太郎")
    tap_label(taro, up_to_confirm(taro), "確定")
    [ask] = taro.says("粗大ごみ")
    [ask] = taro.says("電子レンジ")
    [ask] = taro.says("1")
    [ask] = taro.says("これで全部")
    [ask] = tap_label(taro, ask, "12月15日(火)")
    [ask] = tap_label(taro, ask, "自宅前")
    assert ask["text"].endswith("前回の申し込みと同じでよければ「前回と同じ」を押してください。\n"
                                "港 太郎\n北区梅ヶ丘4丁目13-10\n090-1234-5678")
    assert quick_labels(ask) == ["前回と同じ", "戻る", "やめる"]
    [summary] = tap_label(taro, ask, "前回と同じ")
    assert summary["text"].endswith("お名前：港 太郎\n住所：北区梅ヶ丘4丁目13-10\n電話：090-1234-5678")
    tap_label(taro, summary, "確定")
    assert contacts(services)[1] == ("港 太郎", "北区梅ヶ丘4丁目13-10", "09012345678")

    at(clock, 2026, 12, 30, 9, 0)  # both pickups plus 14 days are over: nothing is offered
    run_erase(services, clock)
    [ask] = taro.says("粗大ごみ")
    taro.says("電子レンジ")
    taro.says("1")
    [ask] = taro.says("これで全部")
    [ask] = taro.taps(data_starting(ask, "action=large_waste.date"))
    [ask] = tap_label(taro, ask, "自宅前")
    assert "前回" not in ask["text"] and quick_labels(ask) == ["戻る", "やめる"]


def test_what_is_not_a_name_or_a_phone_is_asked_again(chat, services, clock):
    at(clock, 2026, 12, 3, 18, 0)
    taro = living_in(chat, services, "kita-1", "太郎")
    taro.says("粗大ごみ")
    taro.says("自転車")
    taro.says("1")
    [ask] = taro.says("これで全部")
    [ask] = tap_label(taro, ask, "12月8日(火)")
    [ask] = tap_label(taro, ask, "自宅前")
    no, ask = taro.says("090-1234-5678")  # the phone, one question early
    assert no["text"].startswith("お名前として受け取れませんでした。") and "お名前を送ってください" in ask["text"]
    taro.says("港 太郎")
    taro.says("北区梅ヶ丘4丁目13-10")
    no, ask = taro.says("1234")
    assert no["text"].startswith("電話番号として読み取れませんでした。")
    assert ask["text"].startswith("当日に連絡がつく電話番号を送ってください")
    [summary] = taro.says("+81 90 1234 5678")
    assert "電話：090-1234-5678" in summary["text"]


def test_typing_always_works_with_the_kinds_and_pages(chat, services, clock):
    at(clock, 2026, 12, 3, 18, 0)
    taro = living_in(chat, services, "kita-1", "太郎")
    taro.says("粗大ごみ")
    [ask] = taro.says("家具")  # a kind by its name: its buttons
    assert ask["text"].startswith("家具（28品目・1/3ページ）")
    [ask] = taro.says("次へ")
    assert ask["text"].startswith("家具（28品目・2/3ページ）")
    [ask] = taro.says("前へ")
    assert ask["text"].startswith("家具（28品目・1/3ページ）")
    [ask] = tap_label(taro, ask, "戻る")  # from a kind's items to the kinds
    assert quick_labels(ask)[0] == "家具（28）"
    [ask] = taro.says("ソファベッド")  # typed while the kinds are shown
    assert ask["text"].startswith("「ソファベッド」（1個 1,400円）")
    assert "large_waste.qty" in quick_data(ask)[0]


def test_a_booking_left_unfinished_keeps_no_contact(chat, services, clock):
    at(clock, 2026, 12, 3, 18, 0)
    taro = living_in(chat, services, "kita-1", "太郎")
    taro.says("粗大ごみ")
    taro.says("自転車")
    taro.says("1")
    [ask] = taro.says("これで全部")
    [ask] = tap_label(taro, ask, "12月8日(火)")
    [ask] = tap_label(taro, ask, "自宅前")
    taro.says("港 太郎")
    taro.says("北区梅ヶ丘4丁目13-10")
    with services.sessions() as s:
        [state] = s.scalars(select(ConversationState)).all()
        assert state.data["contact"] == {"name": "港 太郎", "address": "北区梅ヶ丘4丁目13-10"}
    clock.advance(minutes=31)
    run_erase(services, clock)
    with services.sessions() as s:
        [state] = s.scalars(select(ConversationState)).all()
        assert "contact" not in state.data and "港 太郎" not in str(state.data)
    lapsed = taro.says("090-1234-5678")[0]
    assert lapsed["text"].startswith("粗大ごみの申し込みの途中で時間がたったので")


def test_the_contact_is_never_logged(chat, services, clock, caplog):
    caplog.set_level(logging.DEBUG)
    at(clock, 2026, 12, 3, 18, 0)
    taro = living_in(chat, services, "kita-1", "太郎")
    summary = up_to_confirm(taro, "港 内緒子", "北区秘密町9丁目9-9", "080-9999-0000")
    tap_label(taro, summary, "確定")
    run_erase(services, clock)
    for secret in ("内緒子", "秘密町", "9999", "80-9999"):
        assert secret not in caplog.text
    with services.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Resident)) == 1
