"""A 5,000-character message (LINE's limit) costs about ten times a 500-character one.

「ペットボトル」×833 once took 6 s of CPU in the garbage particle splitter and delayed
everyone else; every text path must be linear (or capped) in the message's length.
Work is measured as this process's CPU time (the dispatcher's threads included) and
compared with the same message ten times shorter, in the same test: a linear path gives a
ratio near 10 or less, a quadratic one near 100.
"""

from __future__ import annotations

import time

import pytest

from tests.conftest import quick_labels
from tests.integration.test_garbage import at, living_in

PATTERNS = {
    "one item again and again": "ペットボトル",
    "items listed with 、": "ペットボトル、",
    "items joined with と": "ぺっとぼとると電池",
    "one kana": "あ",
    "kanji and kana mixed": "粗大ごみの収集日はいつですか保育園の空き",
    "latin letters and digits": "bottle 42 ",
}

#: CPU seconds a 5,000-character message may cost at the most (it took 6 s before).
MOST_CPU_SECONDS = 1.0
#: A linear path is ~10x from 500 to 5,000 characters; quadratic ~100x.
MOST_GROWTH = 25


def cpu_of(person, text: str) -> tuple[float, list]:
    best, answer = float("inf"), []
    for _ in range(2):  # the lower of two runs: a stray pause elsewhere is not the message's cost
        start = time.process_time()
        answer = person.says(text)
        best = min(best, time.process_time() - start)
    return best, answer


def long_text(unit: str, length: int) -> str:
    return (unit * (length // len(unit) + 1))[:length]


def growth(person, unit: str) -> tuple[float, float]:
    short, _ = cpu_of(person, long_text(unit, 500))
    long, answer = cpu_of(person, long_text(unit, 5000))
    assert answer, "a resident who sends a long message still gets an answer"
    return long, long / max(short, 0.002)


@pytest.mark.parametrize("unit", PATTERNS.values(), ids=PATTERNS.keys())
def test_a_long_message_costs_linear_work_outside_conversations(chat, services, clock, unit):
    at(clock, 2026, 12, 3, 10, 0)
    taro = living_in(chat, services, "kita-1", "太郎")
    seconds, ratio = growth(taro, unit)
    assert seconds < MOST_CPU_SECONDS and ratio < MOST_GROWTH, (seconds, ratio)


@pytest.mark.parametrize("unit", ["自転車", "自転車と", "あ"])
def test_a_long_message_costs_linear_work_inside_a_booking(chat, services, clock, unit):
    at(clock, 2026, 12, 3, 10, 0)
    hana = living_in(chat, services, "kita-1", "花子")
    [ask] = hana.says("粗大ごみ")
    assert "やめる" in quick_labels(ask)
    seconds, ratio = growth(hana, unit)
    assert seconds < MOST_CPU_SECONDS and ratio < MOST_GROWTH, (seconds, ratio)


def test_a_long_message_costs_linear_work_while_registering(chat, clock):
    at(clock, 2026, 12, 3, 10, 0)
    jiro = chat.resident("次郎")
    [welcome] = jiro.follows()
    assert quick_labels(welcome)[0] == "はい、登録する"
    seconds, ratio = growth(jiro, "北区")
    assert seconds < MOST_CPU_SECONDS and ratio < MOST_GROWTH, (seconds, ratio)
