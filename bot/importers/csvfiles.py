"""Reading the CSV files cities publish, for every importer.

Cities' files come as UTF-8 with or without a BOM, or Shift_JIS (cp932); quoted fields
can hold commas and line breaks; headers drift (`type` or `label`, full-width letters,
stray spaces). So:

    report = Report()
    table = read_csv(path.read_bytes(), "target.csv", report)
    name_column = table.column("name", "品目", "品名")     # by header name, never position
    for row in table.rows:
        row.line                                           # physical line where the row starts
        row.get(name_column)                               # "" when the row is short

Problems never stop reading: each is collected in `report` as "file:line: message"
and the importer goes on with the next row. Problems meaning the file was not read
whole are marked `fatal` (bad quoting, a quoted field that swallowed whole rows, a
required column missing): the rows they cost are not in the result, so the importers
refuse to write it (bot.importers.safety) unless forced.

Limits: a field longer than FIELD_LIMIT characters stops the reading (CsvError) — no
real cell is that long, and a runaway quote would otherwise hold the rest of the file;
the file's size is limited before it is read (safety.read_source).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Iterator

UTF8_BOM = b"\xef\xbb\xbf"
FIELD_LIMIT = 131_072   # characters in one field (Python's default limit, set explicitly)


# -- problems -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None  # None: about the whole file
    message: str
    fatal: bool = False   # the file was not read whole: writing its result would lose content

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"


@dataclass
class Report:
    """Every problem met while importing, in the order met."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, file: str, line: int | None, message: str, fatal: bool = False) -> None:
        self.problems.append(Problem(file, line, message, fatal))

    def fatal(self) -> list[Problem]:
        return [p for p in self.problems if p.fatal]

    def about(self, file: str, line: int | None = None) -> list[Problem]:
        return [p for p in self.problems if p.file == file and (line is None or p.line == line)]

    def lines(self, file_order: tuple[str, ...] = ()) -> list[str]:
        """"file:line: message" per problem, by file (in `file_order`, then by name) and line."""
        def key(problem: Problem) -> tuple:
            rank = file_order.index(problem.file) if problem.file in file_order else len(file_order)
            return rank, problem.file, problem.line or 0
        return [str(p) for p in sorted(self.problems, key=key)]

    def __len__(self) -> int:
        return len(self.problems)

    def __iter__(self) -> Iterator[Problem]:
        return iter(self.problems)


class CsvError(ValueError):
    """A file that cannot be read at all (not text in a known encoding, no header, too
    large, a field over FIELD_LIMIT); `line` where that was found, when known."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


# -- decoding -------------------------------------------------------------------------------------
def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding): UTF-8 with or without BOM, UTF-16 with BOM, else cp932 (Shift_JIS)."""
    if data.startswith(UTF8_BOM):
        try:
            return data[len(UTF8_BOM):].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise CsvError(f"starts with a UTF-8 BOM but is not UTF-8 ({exc.reason} at byte {exc.start + 3})") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise CsvError(f"starts with a UTF-16 BOM but is not UTF-16 ({exc.reason})") from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp932"), "cp932"
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise CsvError(f"neither UTF-8 nor Shift_JIS (cp932) text: byte 0x{data[exc.start]:02x} "
                       f"on line {line} cannot be read") from None


# -- headers ------------------------------------------------------------------------------------
def normalize_header(name: str) -> str:
    """What a header is compared by: NFKC (full-width letters and digits to ASCII),
    lower case, without spaces, BOM or quotes around it."""
    text = unicodedata.normalize("NFKC", name).replace("\ufeff", "")
    return re.sub(r"\s+", "", text).strip("\"'").lower()


@dataclass(frozen=True)
class Row:
    line: int                  # physical line the row starts on (1 = the first line of the file)
    values: tuple[str, ...]

    def get(self, column: int | None, default: str = "") -> str:
        if column is None or column >= len(self.values):
            return default
        return self.values[column]

    def is_blank(self) -> bool:
        return not any(v.strip() for v in self.values)


@dataclass
class CsvTable:
    name: str                  # the file's name as problems show it, e.g. "target.csv"
    encoding: str
    header: list[str]
    header_line: int
    rows: list[Row]
    report: Report

    def column(self, *aliases: str) -> int | None:
        """Index of the first column whose header is one of `aliases` (compared normalized;
        earlier aliases win), or None."""
        wanted = [normalize_header(a) for a in aliases]
        normalized = [normalize_header(h) for h in self.header]
        for alias in wanted:
            if alias and alias in normalized:
                return normalized.index(alias)
        return None

    def require(self, what: str, *aliases: str) -> int | None:
        """Like column(), but a missing column is reported at the header line, as fatal:
        without it every row would lose what the column holds."""
        found = self.column(*aliases)
        if found is None:
            self.report.add(self.name, self.header_line,
                            f"no {what} column (looked for a header named {' or '.join(aliases)})", fatal=True)
        return found

    def columns(self) -> list[tuple[int, str]]:
        """(index, header) of every column with a non-empty header, headers stripped."""
        return [(i, h.replace("\ufeff", "").strip()) for i, h in enumerate(self.header)
                if normalize_header(h)]


def read_csv(data: bytes, name: str, report: Report) -> CsvTable:
    """Parse a whole CSV file: decode it, read the header (the first non-blank line) and
    every non-blank row with its physical line number. Rows the CSV parser rejects (bad
    quoting), and rows whose quoted field swallowed lines that look like rows of their
    own, are reported as fatal and left out; rows with more values than headers are
    reported when the extra values are not empty. Raises CsvError when the file cannot
    be read (or holds a field longer than FIELD_LIMIT)."""
    text, encoding = decode(data)
    text = text.lstrip("\ufeff")
    delimiter = _delimiter(text)
    previous_limit = csv.field_size_limit(FIELD_LIMIT)
    try:
        header, header_line, rows = _rows(text, delimiter, name, report)
    finally:
        csv.field_size_limit(previous_limit)
    if header is None:
        raise CsvError("empty: no header line")
    return CsvTable(name=name, encoding=encoding, header=header, header_line=header_line, rows=rows,
                    report=report)


def _rows(text: str, delimiter: str, name: str, report: Report) -> tuple[list[str] | None, int, list[Row]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    header_line = 1
    rows: list[Row] = []
    previous = 0  # lines consumed so far; the next row starts on previous + 1
    while True:
        start = previous + 1
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            end = reader.line_num
            previous = end
            if "field larger than field limit" in str(exc):
                raise CsvError(f"a field longer than {FIELD_LIMIT} characters (a quote never closed?)",
                               start) from None
            if "end of data" in str(exc):
                report.add(name, start, "a quoted field is never closed (a \" is missing): "
                                        f"lines {start}-{end} could not be read", fatal=True)
            else:
                report.add(name, start, f"not valid CSV ({exc}): row skipped", fatal=True)
            continue
        end = previous = reader.line_num
        if header is None:
            if not any(v.strip() for v in values):
                continue
            header, header_line = values, start
            continue
        row = Row(start, tuple(values))
        if row.is_blank():
            continue
        if end > start and (swallowed := _rows_inside(values, delimiter, len(header))):
            report.add(name, start, f"a quoted field runs over lines {start}-{end} holding {swallowed} "
                                    f"{'tabs' if delimiter == chr(9) else 'commas'}: rows of their own swallowed "
                                    f"(a stray \"?): row skipped", fatal=True)
            continue
        extra = [v for v in values[len(header):] if v.strip()]
        if extra:
            report.add(name, start, f"{len(values)} values for {len(header)} columns "
                                    f"(an unquoted comma?): {', '.join(repr(v) for v in extra)} ignored")
        rows.append(row)
    return header, header_line, rows


def _rows_inside(values: list[str], delimiter: str, columns: int) -> int:
    """The delimiters in the row's largest multi-line value, when they are a row's worth.

    A cell may hold line breaks (a note, an address on two lines) and a comma or two,
    but a cell holding a line break and as many delimiters as the header (less one)
    holds rows that a stray quote swallowed. Tables of one or two columns cannot tell:
    0 there."""
    if columns < 3:
        return 0
    needed = max(columns - 1, 3)
    found = max((value.count(delimiter) for value in values if "\n" in value or "\r" in value), default=0)
    return found if found >= needed else 0


def _delimiter(text: str) -> str:
    """Comma, unless the first line has tabs and no comma (Excel's "Unicode text")."""
    first = text.split("\n", 1)[0]
    return "\t" if "\t" in first and "," not in first else ","


def clean(value: str) -> str:
    """A one-line text: stripped (full-width spaces too), line breaks inside turned to a
    space, the spelling otherwise kept."""
    return re.sub(r"\s*[\r\n]+\s*", " ", value).strip()


def clean_text(value: str) -> str:
    """A longer text (notes, remarks): stripped, Windows line breaks made \\n, lines kept."""
    lines = [line.strip() for line in value.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "\n".join(line for line in lines if line).strip()


def name_id(prefix: str, name: str, salt: str = "") -> str:
    """An id for a row the city gave none: made from its name (and `salt`, the address, when
    two rows share that name), so the same place gets the same id on every import while its
    name stays — a line number would move with the rows, and vacancies, follows and open
    shelters are kept by id. `prefix`: the municipality code when the file has one."""
    key = re.sub(r"\s+", "", unicodedata.normalize("NFKC", name)) + "\0" + re.sub(r"\s+", "", salt)
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:10]
    prefix = re.sub(r"[^A-Za-z0-9]", "", unicodedata.normalize("NFKC", prefix or ""))[:12]
    return f"{prefix or 'n'}-{digest}"
