"""What keeps an import from silently destroying content.

An importer replaces whole content files, and residents are answered from them at once.
A file that was not read whole (a stray `"` that swallows the rest of the file, a column
renamed away) converts "successfully" into far fewer entries than the city has: the
import wrote that, and nobody noticed until residents did. So every importer, before
writing anything:

* reads its source with a size limit (`IMPORT_MAX_MB`): a wrong file, /dev/zero or a
  runaway field must fail with a message, never take the machine's memory;
* refuses when the file was not read whole: a CSV problem marked fatal in the report
  (csvfiles: bad quoting, a quoted field holding whole rows, a missing required column);
* refuses when the result keeps fewer entries than `IMPORT_MIN_SHARE` of the current
  file's, naming the first entries that would be removed;

and writes nothing then, unless the operator says --force after reading what would be
lost. The size limit is never forced: it protects the machine, not the content.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from .csvfiles import CsvError, Report

MB = 1024 * 1024
SHOWN = 5   # entries named in a refusal; the rest are counted


@dataclass(frozen=True)
class Limits:
    """How careful one import is: from the configuration and the command's --force."""

    max_bytes: int = 50 * MB
    min_share: float = 0.5
    force: bool = False

    @classmethod
    def of(cls, config, force: bool = False) -> "Limits":
        return cls(max_bytes=int(config.import_max_mb * MB), min_share=float(config.import_min_share), force=force)


class Refused(Exception):
    """The import would lose content: nothing was written. `reasons` say what would be
    lost; `report` and `summary` are what was read, for the command to print."""

    def __init__(self, reasons: Sequence[str], report: Report | None = None, summary: str = ""):
        super().__init__("; ".join(reasons))
        self.reasons = list(reasons)
        self.report = report
        self.summary = summary

    def lines(self) -> list[str]:
        return [f"refused: {reason}" for reason in self.reasons] + \
            ["nothing was written. Use --force to write anyway."]


def read_source(path: Path, max_bytes: int, name: str | None = None) -> bytes:
    """The bytes of `path`, at most `max_bytes`: a regular file is refused by its size
    before anything is read; anything else (a pipe, a device) is read in chunks and
    refused as soon as it goes over. Raises CsvError."""
    path = Path(path)
    name = name or path.name
    too_large = CsvError(f"{name} is larger than {_mb(max_bytes)} MB (IMPORT_MAX_MB): not read")
    with open(path, "rb") as file:
        info = os.fstat(file.fileno())
        if stat.S_ISREG(info.st_mode) and info.st_size > max_bytes:
            raise too_large
        chunks: list[bytes] = []
        left = max_bytes + 1
        while left > 0:
            chunk = file.read(min(left, MB))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    if left <= 0:
        raise too_large
    return b"".join(chunks)


def _mb(max_bytes: int) -> str:
    value = max_bytes / MB
    return f"{value:g}"


def unreadable(report: Report) -> list[str]:
    """A reason per file the report says was not read whole."""
    by_file: dict[str, list] = {}
    for problem in report:
        if problem.fatal:
            by_file.setdefault(problem.file, []).append(problem)
    reasons = []
    for file, problems in by_file.items():
        first = problems[0]
        where = f"line {first.line}: " if first.line else ""
        more = f"; and {len(problems) - 1} more problem(s) above" if len(problems) > 1 else ""
        reasons.append(f"{file} was not read whole ({where}{first.message}{more})")
    return reasons


def shrinkage(file: str, noun: str, before: Sequence[tuple[str, str]], after: Iterable[str],
              min_share: float) -> str | None:
    """Why writing would lose too much, or None. `before` is (key, label) per entry of the
    current file, `after` the keys the new one would have."""
    after = list(after)
    if not before or len(after) >= min_share * len(before):
        return None
    kept = set(after)
    removed = [label for key, label in before if key not in kept]
    names = ", ".join(removed[:SHOWN]) + (f" and {len(removed) - SHOWN} more" if len(removed) > SHOWN else "")
    share = "half" if min_share == 0.5 else f"{min_share:.0%}"
    return (f"{file} would go from {len(before)} to {len(after)} {noun}; {len(removed)} would be removed: "
            f"{names} (less than {share} (IMPORT_MIN_SHARE {min_share:g}) would be left)")


def check(reasons: Sequence[str | None], limits: Limits, report: Report | None = None, summary: str = "") -> None:
    """Raise Refused when there is a reason, unless forced."""
    found = [reason for reason in reasons if reason]
    if found and not limits.force:
        raise Refused(found, report, summary)
