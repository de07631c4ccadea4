"""Ids from outside /admin's URLs and forms: only those a 32-bit id column can hold."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.admin.ids import MAX_ID, digits_up_to, stored_id


@pytest.mark.parametrize("limit", [1, 9, 10, 19, 20, 99, 100, 305, 1000, 2147483647])
def test_the_pattern_takes_exactly_one_to_the_limit(limit):
    pattern = re.compile(digits_up_to(limit) + r"\Z")
    checked = range(0, min(limit, 2000) + 50)
    assert [n for n in checked if pattern.match(str(n))] == [n for n in checked if 1 <= n <= limit]
    for n in (limit - 1, limit, limit + 1, limit * 10, 10 ** len(str(limit))):
        assert bool(pattern.match(str(n))) == (1 <= n <= limit), n
    assert not pattern.match("0" + str(limit)) and not pattern.match("-1") and not pattern.match("")


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.integers(min_value=-10, max_value=2**64), st.integers(min_value=MAX_ID - 1000, max_value=MAX_ID + 1000)))
def test_the_id_pattern_and_stored_id_agree_with_the_range(n):
    ok = 1 <= n <= MAX_ID
    assert bool(re.compile(digits_up_to(MAX_ID) + r"\Z").match(str(n))) == ok
    assert stored_id(str(n)) == (n if ok else None)
    assert stored_id(n) == (n if ok else None)


@pytest.mark.parametrize("value", ["", " ", "abc", "1.5", "１２", "٣", "1e3", "+1", None, True, 2.0, "9" * 5000])
def test_stored_id_refuses_what_is_not_an_id(value):
    assert stored_id(value) is None
