"""Every CSV citybot writes goes through here, so no cell is run as a spreadsheet formula.

Residents type some of what staff export (a large-waste booking's place, for one), and
the crews open the file in Excel. A cell starting with = + - @ (or a tab or a carriage
return, which spreadsheets skip before looking) is a formula there: =HYPERLINK(...) can
send the sheet's contents to another site. Following OWASP's advice on CSV injection,
such a text cell gets a leading single quote, which spreadsheets show as text and do
not compute. The full-width forms (＝ ＋ － ＠), which Japanese input produces, are
treated alike, to be safe: a tool that folds full-width characters on the way (many
Japanese ones do) would turn them into the others, and a quote costs nothing.

Only text is changed, and all text alike (OWASP: a "-1" typed by someone is text too,
and gets its quote). Numbers the program itself writes (a fee, a count) stay numbers:
they cannot carry a formula. The stored data is never changed, only what is written.

    writer = csvsafe.DictWriter(out, fieldnames=COLUMNS)   # instead of csv.DictWriter
"""

from __future__ import annotations

import csv
from typing import Any, Iterable, Mapping

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def cell(value: Any) -> Any:
    """A text value that a spreadsheet would compute, quoted as text; anything else as is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class DictWriter(csv.DictWriter):
    """csv.DictWriter whose rows (and header) pass through `cell()`."""

    def writerow(self, rowdict: Mapping[str, Any]) -> Any:
        return super().writerow({key: cell(value) for key, value in rowdict.items()})

    def writerows(self, rowdicts: Iterable[Mapping[str, Any]]) -> None:
        for row in rowdicts:
            self.writerow(row)
