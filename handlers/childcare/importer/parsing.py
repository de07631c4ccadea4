"""The small parsers of a city's nursery files: 種別, 受入年齢, dates, places, names.

Each takes one cell's free text and returns what the bot's models hold, or None (or
ValueError) when the cell says nothing usable; the importers report the row and go on.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date
from typing import Protocol

from pydantic import ValidationError

from ..places import AGE_CLASSES


class ImportFailed(Exception):
    """Nothing usable, or the result does not validate: nothing written. `conversion`
    holds what was read and the problems met, when known."""

    def __init__(self, message: str, conversion=None):
        super().__init__(message)
        self.conversion = conversion


def first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else error["msg"]


# 種別 -> type; checked in this order on the NFKC text without spaces
NOT_TAKEN = re.compile(r"認可外|企業主導|ベビーホテル|病児|病後児|一時預かり|一時保育|居宅訪問|届出")
TYPES = (
    (re.compile(r"こども園"), "kodomoen"),
    (re.compile(r"小規模保育"), "small"),
    (re.compile(r"事業所内保育"), "workplace"),
    (re.compile(r"家庭的保育"), "home"),
    (re.compile(r"保育所|保育園"), "nursery"),
)
DEFAULT_AGES = {"small": [0, 1, 2], "home": [0, 1, 2], "workplace": [0, 1, 2]}   # else 0-5
TYPE_NAMES = "nursery 保育所, kodomoen 認定こども園, small 小規模保育, workplace 事業所内保育, home 家庭的保育"


class FacilityLike(Protocol):
    id: str
    name: str


# -- small parsers ----------------------------------------------------------------------------
def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").strip()


def classify(type_text: str) -> str | None:
    """The Facility.type for a free-text 種別, or None when it is no nursery taking
    applications (幼稚園, 児童館, 放課後児童クラブ, 認可外..., 一時預かり...)."""
    text = re.sub(r"\s+", "", nfkc(type_text))
    if not text or NOT_TAKEN.search(text):
        return None
    for pattern, kind in TYPES:
        if pattern.search(text):
            return kind
    return None


_INFANT = re.compile(r"産休明け?|生後\s*\d+\s*(日|週|か月|ヶ月|カ月|ケ月|ヵ月|箇月)目?|(?<![\d歳])\d+\s*(か月|ヶ月|カ月|ケ月|ヵ月|箇月)児?")
_MONTHS_AFTER_YEARS = re.compile(r"(歳)\s*\d+\s*(か月|ヶ月|カ月|ケ月|ヵ月|箇月)")
_AGE_FORMS = re.compile(
    r"(?P<lo>\d+)\s*(?:歳児?)?\s*~\s*(?P<hi>\d+)\s*歳"          # 0歳~5歳, 0~5歳
    r"|(?P<from>\d+)\s*歳児?\s*(?:以上|~)"                      # 満3歳以上, 3歳~
    r"|(?P<below>\d+)\s*歳児?\s*未満"                           # 18歳未満
    r"|(?P<upto>\d+)\s*歳児?\s*(?:まで|以下)"                   # 2歳まで
    r"|~\s*(?P<to>\d+)\s*歳"                                   # ~5歳
    r"|(?P<one>\d+)\s*歳")                                     # 3歳・4歳・5歳


def parse_ages(text: str) -> list[int] | None:
    """The age classes (0-5) a free-text 受入年齢 names, [] when it names none of them
    (`６歳～１２歳`), None when it cannot be read (blank, or no age in it).

        0歳から5歳 -> 0-5      ６か月～５歳, 産休明け～５歳, 生後57日～5歳 -> 0-5
        1歳から2歳 -> 1-2      満3歳以上 -> 3-5      18歳未満 -> 0-5      2歳まで -> 0-2
    """
    value = nfkc(text)
    for dash in ("〜", "～", "－", "−", "‐", "―", "-", "から", "より"):
        value = value.replace(dash, "~")
    value = _MONTHS_AFTER_YEARS.sub(r"\1", value)   # 1歳6か月 is in the 1-year class
    value = _INFANT.sub("0歳", value)
    found: set[int] = set()
    matched = False
    for m in _AGE_FORMS.finditer(value):
        matched = True
        if m["lo"] is not None:
            lo, hi = int(m["lo"]), int(m["hi"])
        elif m["from"] is not None:
            lo, hi = int(m["from"]), max(AGE_CLASSES)
        elif m["below"] is not None:
            lo, hi = 0, int(m["below"]) - 1
        elif m["upto"] is not None or m["to"] is not None:
            lo, hi = 0, int(m["upto"] or m["to"])
        else:
            lo = hi = int(m["one"])
        found.update(a for a in AGE_CLASSES if lo <= a <= hi)
    return sorted(found) if matched else None


_ERAS = {"令和": 2018, "平成": 1988, "昭和": 1925, "r": 2018, "h": 1988, "s": 1925}
_ERA_DATE = re.compile(r"(令和|平成|昭和)\s*(元|\d+)\s*年\s*(\d+)\s*月\s*(?:(\d+)\s*日)?")
_ERA_SHORT = re.compile(r"\b([RHS])\s*(\d+)[./](\d+)[./](\d+)", re.I)
_WESTERN = re.compile(r"(\d{4})\s*年\s*(\d+)\s*月\s*(?:(\d+)\s*日)?|(\d{4})[/.\-](\d{1,2})[/.\-](\d{1,2})")


def parse_as_of(text: str) -> date | None:
    """The date in a title or cell: 【令和７年９月１日時点】, 平成31年4月1日, 令和元年, R7.9.1,
    2025年9月1日, 2025/9/1, 2025-09-01 (full-width digits too). A month without its day
    is the 1st. None when there is no (valid) date."""
    value = nfkc(text)
    parts: tuple[int, int, int] | None = None
    if m := _ERA_DATE.search(value):
        year = 1 if m[2] == "元" else int(m[2])
        parts = (_ERAS[m[1]] + year, int(m[3]), int(m[4] or 1))
    elif m := _ERA_SHORT.search(value):
        parts = (_ERAS[m[1].lower()] + int(m[2]), int(m[3]), int(m[4]))
    elif m := _WESTERN.search(value):
        parts = ((int(m[1]), int(m[2]), int(m[3] or 1)) if m[1] else (int(m[4]), int(m[5]), int(m[6])))
    if parts is None:
        return None
    try:
        return date(*parts)
    except ValueError:
        return None


SYMBOLS = {"◎": 5, "○": 3, "〇": 3, "◯": 3, "△": 1, "×": 0, "✕": 0, "✖": 0, "x": 0}   # lower bounds
NOT_OFFERED = {"", "-", "‐", "−", "―", "ー", "—", "–", "‑", "─"}


def parse_places(cell: str) -> int | None:
    """Places in one vacancy cell: 3, ３, `3(0)` -> 3; ◎ 5, ○ 3, △ 1, × 0 (the lower bound
    of what the symbol means); None for `-` or blank (the class is not offered).
    Raises ValueError for anything else."""
    value = re.sub(r"\s+", "", nfkc(cell)).lower()
    if value in NOT_OFFERED:
        return None
    if m := re.fullmatch(r"(\d{1,3})(?:\(.*\))?(?:人|名)?", value):
        return int(m[1])
    if value in SYMBOLS:
        return SYMBOLS[value]
    raise ValueError(f"{cell.strip()!r} is not a number of places (a number, -, ◎ ○ △ ×, or 3(0))")


def _coordinate(text: str) -> float | None:
    try:
        number = float(nfkc(text).replace(",", ""))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _key(name: str) -> str:
    """Facility names are matched by this: NFKC, no spaces."""
    return re.sub(r"\s+", "", nfkc(name))
