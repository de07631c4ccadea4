"""What residents type as a name, an address and a phone; the pages of item buttons."""

import pytest

from bot.messages import Tap
from handlers.large_waste import contact_data as lc
from handlers.large_waste.items import pages


@pytest.mark.parametrize("typed, digits", [
    ("090-1234-5678", "09012345678"), ("０９０－１２３４－５６７８", "09012345678"), ("090 1234 5678", "09012345678"),
    ("(03)1234-5678", "0312345678"), ("+81 90-1234-5678", "09012345678"), ("+81-3-1234-5678", "0312345678"),
    ("0120-123-456", "0120123456"), ("090ー1234ー5678", "09012345678"),
])
def test_phone_numbers_as_people_type_them(typed, digits):
    assert lc.clean_phone(typed) == digits


@pytest.mark.parametrize("typed", ["1234", "12345678901", "090-1234-56789", "電話なし", "", "090-abcd-5678"])
def test_what_is_no_phone_number(typed):
    assert lc.clean_phone(typed) is None


def test_phones_are_shown_grouped():
    assert [lc.shown_phone(p) for p in ("09012345678", "0312345678", "0120123456")] == \
        ["090-1234-5678", "03-1234-5678", "0120-123-456"]


def test_names_and_addresses():
    assert lc.clean_name("  港　 太郎 ") == "港 太郎"
    assert lc.clean_name("090-1234-5678") is None and lc.clean_name("") is None
    assert lc.clean_name("あ" * 41) is None and lc.clean_name("Taro Minato") == "Taro Minato"
    assert lc.clean_address("北区梅ヶ丘4丁目13-10\n みなとハイツ 101") == "北区梅ヶ丘4丁目13-10 みなとハイツ 101"
    assert lc.clean_address("北区") is None and lc.clean_address("北" * 121) is None


def chips(n):
    return [Tap(str(i), f"action=x&i={i}") for i in range(n)]


def turn(which, page):
    return Tap(which, f"action=turn&page={page}")


def test_pages_use_the_room_of_the_arrow_they_do_not_need():
    fixed = [Tap("戻る", "action=back"), Tap("やめる", "action=quit")]
    assert pages(chips(11), fixed, 0, turn) == ([*chips(11), *fixed], 0, 1)
    first, page, count = pages(chips(28), fixed, 0, turn)
    assert (page, count) == (0, 3) and [c.label for c in first][-3:] == ["more", "戻る", "やめる"] and len(first) == 13
    middle, _, _ = pages(chips(28), fixed, 1, turn)
    assert [c.label for c in middle][:1] == ["10"] and [c.label for c in middle][-4:] == ["previous", "more", "戻る", "やめる"]
    last, page, _ = pages(chips(28), fixed, 7, turn)  # past the end: the last page
    assert page == 2 and [c.label for c in last] == [str(i) for i in range(19, 28)] + ["previous", "戻る", "やめる"]
    shown = [c.label for p in range(3) for c in pages(chips(28), fixed, p, turn)[0] if c.label.isdigit()]
    assert shown == [str(i) for i in range(28)]  # every item once, in order
