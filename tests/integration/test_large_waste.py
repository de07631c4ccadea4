"""粗大ごみ: a pickup booked in the chat, by typing or by tapping, and never overbooked."""

import csv
import io
import threading
from datetime import date, datetime, timedelta, timezone
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from click.testing import CliRunner
from sqlalchemy import func, select

from bot import create_app, delivery
from handlers.large_waste import domain as lw
from bot.bootstrap import bootstrap
from bot.cli import main as cli_main
from bot.fakeline import webhook_events as ev
from bot.models import Push, Resident
from bot.scheduler import Clock
from tests.conftest import Chat, quick_data, quick_labels, signed_post, texts
from tests.integration.test_garbage import at, living_in

TOKYO = ZoneInfo("Asia/Tokyo")


def tap_label(person, message, label, params=None):
    """Tap the quick reply with this label."""
    data = dict(zip(quick_labels(message), quick_data(message)))[label]
    return person.taps(data, params)


def data_starting(message, prefix):
    return next(d for d in quick_data(message) if d.startswith(prefix))


def offered(message):
    return [d.split("&d=")[1] for d in quick_data(message) if "large_waste.date" in d]


def bookings(services):
    with services.sessions() as s:
        return s.scalars(select(lw.LargeWasteBooking).order_by(lw.LargeWasteBooking.id)).all()


def slot(services, area, day):
    with services.sessions() as s:
        return s.scalars(select(lw.LargeWasteSlot).where(lw.LargeWasteSlot.area == area,
                                                          lw.LargeWasteSlot.date == day)).first()


def fill(services, area, day, booked, capacity=20):
    with services.sessions() as s:
        s.add(lw.LargeWasteSlot(area=area, date=day, capacity=capacity, booked=booked))
        s.commit()


def up_to_confirm(taro, name="港 太郎", address="北区梅ヶ丘4丁目13-10", phone="090-1234-5678"):
    """From 「粗大ごみ」 (area known) to the summary, with one bicycle, by taps, then the
    name, address and phone typed."""
    [ask] = taro.says("粗大ごみ")
    assert data_starting(ask, "action=large_waste.kind&step=item&id=")
    [ask] = taro.taps("action=large_waste.item&step=item&" + urlencode({"name": "自転車", "category": "large_waste"}))
    [ask] = tap_label(taro, ask, "1")
    [ask] = tap_label(taro, ask, "これで全部")
    [ask] = taro.taps(data_starting(ask, "action=large_waste.date"))
    [ask] = tap_label(taro, ask, "自宅前")
    return give_contact(taro, ask, name, address, phone)


def give_contact(taro, ask, name="港 太郎", address="北区梅ヶ丘4丁目13-10", phone="090-1234-5678"):
    """Answer the name, address and phone questions (the first says why they are asked)."""
    assert "お名前・収集に伺う住所・電話番号をうかがいます" in ask["text"] and "日たつと消去します" in ask["text"]
    [ask] = taro.says(name)
    assert ask["text"].startswith("収集に伺う住所を送ってください")
    [ask] = taro.says(address)
    assert ask["text"].startswith("当日に連絡がつく電話番号を送ってください")
    [ask] = taro.says(phone)
    return ask


# -- booking ---------------------------------------------------------------------------------------
def test_two_typed_items_booked_with_the_right_fee_then_cancelled(chat, services, clock):
    at(clock, 2026, 12, 3, 18, 0)  # a Thursday
    taro = living_in(chat, services, "kita-1", "太郎")
    [ask] = taro.says("粗大ごみ")
    assert ask["text"].startswith("粗大ごみの収集を申し込みます（青葉・桜が丘）。")
    [ask] = taro.says("自転車")
    assert ask["text"] == "「自転車」（1個 400円）はいくつ出しますか？"
    assert quick_labels(ask) == ["1", "2", "3", "4", "5", "戻る", "やめる"]
    [ask] = taro.says("2")
    assert "・自転車 × 2（800円）" in ask["text"] and "合計 800円" in ask["text"]
    [ask] = tap_label(taro, ask, "ほかにも出す")
    [ask] = taro.says("でんしれんじ")
    assert ask["text"].startswith("「電子レンジ」")
    [ask] = taro.says("１個")
    assert "合計 1,200円" in ask["text"]
    [ask] = taro.says("これで全部")
    assert ask["text"] == "収集日を選んでください（青葉・桜が丘）。"
    assert offered(ask) == ["2026-12-08", "2026-12-15", "2026-12-22"]  # 12/29 is in the year-end break
    [ask] = tap_label(taro, ask, "12月15日(火)")
    [ask] = taro.says("駐車場の入口")  # a typed place
    ask = give_contact(taro, ask, "港 太郎", "北区梅ヶ丘4丁目13-10 みなとハイツ101", "０９０－１２３４－５６７８")
    assert "合計 1,200円" in ask["text"] and "収集日：12月15日(火)" in ask["text"] and "場所：駐車場の入口" in ask["text"]
    assert ask["text"].endswith("お名前：港 太郎\n住所：北区梅ヶ丘4丁目13-10 みなとハイツ101\n電話：090-1234-5678")
    booked, instructions, offer = tap_label(taro, ask, "確定")  # the typed address: kept only if tapped
    assert quick_labels(offer)[:2] == ["この住所を登録する", "登録しない"]
    assert booked["text"].startswith("申し込みました。受付番号は LW-2026-000001 です。")
    assert "粗大ごみ処理券" in instructions["text"] and "8時30分" in instructions["text"]
    [booking] = bookings(services)
    assert (booking.area, booking.date, booking.total_fee, booking.place) == ("kita-1", date(2026, 12, 15), 1200,
                                                                               "駐車場の入口")
    assert booking.items == [{"name": "自転車", "category": "large_waste", "fee": 400, "quantity": 2},
                             {"name": "電子レンジ", "category": "large_waste", "fee": 400, "quantity": 1}]
    assert slot(services, "kita-1", date(2026, 12, 15)).booked == 1
    with services.sessions() as s:
        contact = s.get(lw.LargeWasteContact, booking.id)
        assert (contact.name, contact.address, contact.phone) == ("港 太郎", "北区梅ヶ丘4丁目13-10 みなとハイツ101",
                                                                  "09012345678")

    [listing] = taro.says("予約確認")
    assert listing["type"] == "flex" and "LW-2026-000001" in listing["altText"]
    [sure] = taro.taps("action=large_waste.cancel&number=LW-2026-000001")
    assert sure["text"] == "受付番号 LW-2026-000001（12月15日(火)）を取り消しますか？"
    [done] = tap_label(taro, sure, "はい、取り消す")
    assert done["text"] == "受付番号 LW-2026-000001 を取り消しました。"
    assert bookings(services)[0].status == "cancelled"
    assert slot(services, "kita-1", date(2026, 12, 15)).booked == 0  # the place is free again
    assert taro.says("予約確認")[0]["text"].startswith("これからの粗大ごみの予約はありません")


def test_a_booking_by_taps_alone(chat, services, clock):
    at(clock, 2026, 12, 3, 18, 0)
    hanako = chat.resident("花子")  # no registered area: asked in the conversation
    [ask] = hanako.taps("action=large_waste")
    assert ask["text"].startswith("粗大ごみの収集を申し込みます。はじめに")
    [ask] = tap_label(hanako, ask, "日の出・旭が丘")  # higashi-2: Tuesdays
    assert quick_labels(ask) == ["家具（28）", "家電（10）", "寝具・敷物（12）", "子ども用品（9）", "自転車・乗り物（5）",
                                 "介護用品（5）", "趣味・スポーツ（15）", "住まい・庭（19）", "その他（1）", "戻る", "やめる"]
    [ask] = tap_label(hanako, ask, "家具（28）")
    assert ask["text"] == "家具（28品目・1/3ページ）：ボタンで選ぶか、名前を送ってください。"
    labels = quick_labels(ask)
    assert labels[:3] == ["衣装ケース (50cmをこえるもの)", "いす", "オフィスチェア"]  # あいうえお順
    assert labels[-3:] == ["次へ ▶", "戻る", "やめる"] and len(labels) == 13
    [ask] = tap_label(hanako, ask, "次へ ▶")
    assert ask["text"] == "家具（28品目・2/3ページ）：ボタンで選ぶか、名前を送ってください。"
    assert quick_labels(ask)[-4:] == ["◀ 前へ", "次へ ▶", "戻る", "やめる"]
    [ask] = tap_label(hanako, ask, "◀ 前へ")
    assert quick_labels(ask)[0] == "衣装ケース (50cmをこえるもの)"
    [ask] = tap_label(hanako, ask, "次へ ▶")
    [ask] = hanako.taps(quick_data(ask)[0])
    assert "はいくつ出しますか" in ask["text"]
    [ask] = tap_label(hanako, ask, "3")
    [ask] = tap_label(hanako, ask, "これで全部")
    [ask] = tap_label(hanako, ask, "12月8日(火)")
    [ask] = tap_label(hanako, ask, "集合住宅のごみ置き場")
    assert ask["text"].startswith("収集の担当者がお宅を見つけられるように")  # why, before what
    assert "収集日（取り消したときは取り消した日）から14日たつと消去します" in ask["text"]
    ask = give_contact(hanako, ask, "日の出 花子", "東区日の出町1丁目2-3", "03-1234-5678")
    assert "電話：03-1234-5678" in ask["text"]
    booked, *_ = tap_label(hanako, ask, "確定")
    assert "受付番号は LW-2026-" in booked["text"] and "場所：集合住宅のごみ置き場" in booked["text"]
    [booking] = bookings(services)
    assert booking.area == "higashi-2" and booking.items[0]["quantity"] == 3
    with services.sessions() as s:  # the area asked here is not written into the profile
        assert s.scalars(select(Resident.garbage_area).where(Resident.line_user_id == hanako.user_id)).one() is None


def test_past_the_cut_off_and_full_days_are_never_offered(chat, services, clock):
    at(clock, 2026, 12, 3, 16, 0)  # Thursday 16:00: Monday 12/7 closes today at 17:00
    jiro = living_in(chat, services, "higashi-1", "次郎")  # Mondays
    jiro.says("粗大ごみ")
    jiro.says("自転車")
    assert offered(jiro.says("1")[0] and jiro.says("これで全部")[0]) == \
        ["2026-12-07", "2026-12-14", "2026-12-21", "2026-12-28"]
    jiro.says("やめる")

    at(clock, 2026, 12, 3, 18, 0)  # after 17:00 two working days before Monday
    fill(services, "higashi-1", date(2026, 12, 21), booked=20)
    jiro.says("粗大ごみ")
    jiro.says("自転車")
    jiro.says("1")
    [ask] = jiro.says("これで全部")
    assert offered(ask) == ["2026-12-14", "2026-12-28"]  # 12/7 past its cut-off, 12/21 full
    closed, again = jiro.taps("action=large_waste.date&step=date&d=2026-12-07")  # an old button
    assert closed["text"].startswith("その日はもう申し込めません。")
    assert offered(again) == ["2026-12-14", "2026-12-28"]


def test_a_restart_in_the_middle_continues_where_it_was(chat, services, config, clock, line):
    at(clock, 2026, 12, 3, 18, 0)
    taro = living_in(chat, services, "kita-1", "太郎")
    taro.says("粗大ごみ")
    taro.says("自転車")
    restarted = bootstrap(config, now=clock)
    try:
        taro.chat = Chat(create_app(services=restarted).test_client(), restarted, line)
        [ask] = taro.says("2")
        assert "・自転車 × 2（800円）" in ask["text"]
    finally:
        restarted.close()


def test_back_and_stop_at_several_steps(chat, services, clock):
    at(clock, 2026, 12, 3, 18, 0)
    taro = living_in(chat, services, "kita-1", "太郎")
    taro.says("粗大ごみ")
    [ask] = taro.says("自転車")
    [ask] = tap_label(taro, ask, "戻る")
    assert ask["text"].startswith("粗大ごみの収集を申し込みます（青葉・桜が丘）")  # the item again
    taro.says("自転車")
    [ask] = taro.says("2")
    [ask] = taro.says("戻る")  # from the list: the last item's quantity again
    assert ask["text"] == "「自転車」（1個 400円）はいくつ出しますか？"
    [ask] = taro.says("1")
    assert "・自転車 × 1（400円）" in ask["text"]
    [ask] = taro.says("これで全部")
    [ask] = tap_label(taro, ask, "12月8日(火)")
    [ask] = tap_label(taro, ask, "戻る")
    assert ask["text"] == "収集日を選んでください（青葉・桜が丘）。"
    [ask] = tap_label(taro, ask, "12月8日(火)")
    [ask] = tap_label(taro, ask, "自宅前")
    [ask] = tap_label(taro, ask, "戻る")
    assert ask["text"].startswith("どこに出しますか？")
    [ask] = tap_label(taro, ask, "自宅前")
    [ask] = taro.says("港 太郎")
    [ask] = taro.says("戻る")
    assert ask["text"].startswith("収集の担当者がお宅を見つけられるように")
    [stopped] = tap_label(taro, ask, "やめる")
    assert stopped["text"].startswith("粗大ごみの申し込みをやめました。")
    assert bookings(services) == []
    [ask] = taro.says("粗大ごみ")
    [stopped] = taro.says("やめる")
    assert stopped["text"].startswith("粗大ごみの申し込みをやめました。")
    assert taro.says("メニュー")[0]["type"] == "flex"  # normal routing again


def test_not_large_waste_and_expiry(chat, services, clock):
    at(clock, 2026, 12, 3, 18, 0)
    taro = living_in(chat, services, "kita-1", "太郎")
    taro.says("粗大ごみ")
    no, ask = taro.says("ペットボトル")
    assert no["text"].startswith("「ペットボトル」は粗大ごみではありません")
    assert "出したいものの名前を送ってください" in ask["text"]
    clock.advance(minutes=31)
    answer = taro.says("自転車")
    assert answer[0]["text"].startswith("粗大ごみの申し込みの途中で時間がたったので")


def test_double_tapped_confirm_and_a_redelivered_webhook_book_once(chat, services, clock):
    at(clock, 2026, 12, 3, 18, 0)
    taro = living_in(chat, services, "kita-1", "太郎")
    summary = up_to_confirm(taro)
    confirm = data_starting(summary, "action=large_waste.confirm")
    booked, *_ = taro.taps(confirm)
    [again] = taro.taps(confirm)
    assert again["text"] == "この申し込みは受付済みです（受付番号 LW-2026-000001）。"
    assert len(bookings(services)) == 1

    summary = up_to_confirm(taro)
    event = ev.postback_event(taro.user_id, data_starting(summary, "action=large_waste.confirm"),
                              reply_token=taro.token(), timestamp=taro.at())
    chat.post(event)
    signed_post(chat.client, ev.callback_body([ev.as_redelivery(event)]))
    chat.services.dispatcher.drain()
    assert len(bookings(services)) == 2
    assert slot(services, "kita-1", date(2026, 12, 8)).booked == 2


def test_change_the_day_moves_the_place(chat, services, clock):
    at(clock, 2026, 12, 3, 18, 0)
    taro = living_in(chat, services, "kita-1", "太郎")
    tap_label(taro, up_to_confirm(taro), "確定")
    [ask] = taro.taps("action=large_waste.change&number=LW-2026-000001")
    assert offered(ask) == ["2026-12-15", "2026-12-22"]
    [moved] = tap_label(taro, ask, "12月22日(火)")
    assert moved["text"] == "受付番号 LW-2026-000001 の収集日を 12月22日(火) に変えました。"
    assert slot(services, "kita-1", date(2026, 12, 8)).booked == 0
    assert slot(services, "kita-1", date(2026, 12, 22)).booked == 1
    at(clock, 2026, 12, 18, 17, 30)  # past Friday 17:00 before Tuesday 12/22
    [locked] = taro.taps("action=large_waste.cancel&number=LW-2026-000001")
    assert "締め切りを過ぎた" in locked["text"]
    assert bookings(services)[0].status == "booked"


# -- never overbooked ---------------------------------------------------------------------------
def test_fifty_residents_confirm_the_last_ten_places_at_once(services):
    day, area = date(2026, 12, 15), "kita-1"
    now = datetime(2026, 12, 3, 18, 0, tzinfo=TOKYO).astimezone(timezone.utc)
    rules = lw.rules_of(services.content.current())
    fill(services, area, day, booked=10)  # 20 places, 10 left
    with services.sessions() as s:
        ids = []
        for n in range(50):
            resident = Resident(line_user_id=f"U{n:032d}", language="ja", following=True, created_at=now,
                                last_seen_at=now)
            s.add(resident)
            s.flush()
            ids.append(resident.id)
        s.commit()
    barrier = threading.Barrier(50)
    results: dict[int, tuple[str, list[date]]] = {}
    errors: list[BaseException] = []

    def confirm(resident_id: int) -> None:
        try:
            with services.sessions() as session:
                barrier.wait()
                outcome = lw.book(session, rules, resident_id=resident_id, area=area, day=day, place="自宅前",
                                  items=[{"name": "自転車", "category": "large_waste", "fee": 400, "quantity": 1}],
                                  request_key=f"test:{resident_id}", now=now, tz=TOKYO)
                session.commit()
                others = [] if outcome.booking else lw.offered_dates(session, rules, area, now, TOKYO)
                results[resident_id] = (outcome.status, others)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=confirm, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    statuses = [status for status, _ in results.values()]
    assert statuses.count("booked") == 10 and statuses.count("full") == 40
    assert all(others == [date(2026, 12, 8), date(2026, 12, 22)] for status, others in results.values()
               if status == "full")
    assert slot(services, area, day).booked == 20
    with services.sessions() as s:
        assert s.scalar(select(func.count()).select_from(lw.LargeWasteBooking)) == 10
        numbers = s.scalars(select(lw.LargeWasteBooking.number)).all()
    assert len(set(numbers)) == 10


def test_a_day_filled_while_confirming_offers_other_days(chat, services, clock):
    at(clock, 2026, 12, 3, 18, 0)
    taro = living_in(chat, services, "kita-1", "太郎")
    summary = up_to_confirm(taro)  # 12/8
    fill(services, "kita-1", date(2026, 12, 8), booked=20)
    full, ask = tap_label(taro, summary, "確定")
    assert full["text"].startswith("申し訳ありません。その日はいっぱいになりました。")
    assert offered(ask) == ["2026-12-15", "2026-12-22"]
    assert bookings(services) == []


# -- the evening before, and the crews' list -------------------------------------------------------
def test_reminder_the_evening_before_once(chat, services, clock):
    at(clock, 2026, 12, 3, 18, 0)
    taro = living_in(chat, services, "kita-1", "太郎")
    tap_label(taro, up_to_confirm(taro), "確定")
    at(clock, 2026, 12, 7, 18, 0)
    clock_process = Clock(services)
    job = services.router.jobs["large_waste.remind"]
    clock_process.run_job(job, clock())
    clock_process.run_job(job, clock())
    delivery.deliver_due(services.sessions, services.messenger, clock, quiet_hours=None, lease=timedelta(seconds=60))
    [reminder] = texts(taro.received())
    assert reminder.startswith("【粗大ごみ収集のお知らせ】明日 12月8日(火) は、申し込んだ粗大ごみ（受付番号 LW-2026-000001）")
    assert "「自宅前」" in reminder
    with services.sessions() as s:
        assert s.scalars(select(Push.source_key)).all() == ["large-waste-reminder:LW-2026-000001"]


def test_the_crews_csv_has_name_address_and_phone_but_no_user_ids(chat, services, clock, config, monkeypatch):
    at(clock, 2026, 12, 3, 18, 0)
    taro = living_in(chat, services, "kita-1", "太郎")
    tap_label(taro, up_to_confirm(taro), "確定")
    monkeypatch.setenv("DATABASE_URL", config.database_url)
    result = CliRunner().invoke(cli_main, ["bookings", "export", "--date", "2026-12-08", "--area", "kita-1",
                                           "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert list(rows[0]) == ["number", "area", "date", "place", "name", "address", "phone", "items", "total_fee",
                             "status"]
    assert rows == [{"number": "LW-2026-000001", "area": "kita-1", "date": "2026-12-08", "place": "自宅前",
                     "name": "港 太郎", "address": "北区梅ヶ丘4丁目13-10", "phone": "09012345678",
                     "items": "自転車 x1", "total_fee": "400", "status": "booked"}]
    assert taro.user_id not in result.output


# -- questions about large waste are answered, not taken as a booking -----------------------------
def test_a_question_about_fees_names_fees_and_offers_to_book(chat, services, clock):
    at(clock, 2026, 12, 3, 10, 0)
    taro = living_in(chat, services, "kita-1", "太郎")
    [answer] = taro.says("粗大ごみの料金はいくら？")
    assert answer["text"].startswith("粗大ごみの手数料は品目ごとに決まっています。")
    assert "200円" in answer["text"] and "2,000円" in answer["text"]
    assert quick_data(answer) == ["action=large_waste.start"]
    [ask] = taro.taps("action=large_waste.start")  # the button starts the booking
    assert "やめる" in quick_labels(ask)


def test_a_question_about_the_next_day_names_the_days_and_how_to_book(chat, services, clock):
    at(clock, 2026, 12, 3, 10, 0)  # a Thursday; 青葉・桜が丘 (kita-1) is collected on Tuesdays
    taro = living_in(chat, services, "kita-1", "太郎")
    [answer] = taro.says("次の粗大ごみはいつ？")
    assert answer["text"].startswith("青葉・桜が丘で申し込める次の収集日：12月8日(火)")
    assert "3日後から28日後までの収集日" in answer["text"]
    assert quick_data(answer) == ["action=large_waste.start"]


def test_the_next_day_question_without_an_area_says_how_to_book(chat):
    [answer] = chat.resident().says("粗大ごみはいつ？")
    assert answer["text"].startswith("粗大ごみは申し込み制です。")


def test_an_english_fee_question_answers_in_english(chat):
    john = chat.resident("John")
    john.taps("action=language.set&lang=en")
    [answer] = john.says("large waste fees")
    assert answer["text"].startswith("Large-waste fees depend on the item") and "¥" in answer["text"]
