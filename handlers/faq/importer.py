"""`citybot import faq FILE.csv`: the city's FAQ export into content/faq/questions.yaml.

Cities keep their FAQ in a CMS or a spreadsheet and export it as CSV: UTF-8 with or
without a BOM, or Shift_JIS (cp932) from Excel; columns in any order, named a few ways.
Columns are found by header name (bot.importers.csvfiles), never by position:

    id          ID, No, 番号, FAQ番号, 管理番号            (made from the row when missing)
    question    質問, 質問内容, 問い, Question             (required)
    answer      回答, 回答内容, 答え, Answer               (required)
    phrasings   別の聞き方, 言い換え, 類似質問, キーワード  (several: one per line, or split by ｜ | ；)
    url         URL, 関連URL, 参考URL, リンク
    department  担当課, 担当部署, 所管課, 問い合わせ先
    category    分類, カテゴリ, カテゴリー
    question_en / answer_en / phrasings_en, question_easy_ja / answer_easy_ja / phrasings_easy_ja
                (質問_英語, 回答_英語, 質問_やさしい日本語 …)

A row without a question or an answer, a repeated id or a link that is no URL is reported
as "file:line: message" (the link is dropped, the row kept). The file is written whole or
not at all, and not when it was not read whole or would keep fewer than IMPORT_MIN_SHARE
of the current questions (bot.importers.safety), unless --force. Answers only in Japanese
are shown in Japanese to English readers, marked so, until staff translate them.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.importers import safety
from bot.importers.csvfiles import CsvTable, Report, read_csv
from bot.importers.yamlout import dump, write_file

from .entries import QuestionsFile

COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("id", "no", "番号", "faq番号", "管理番号", "質問番号"),
    "question": ("質問", "質問内容", "問い", "question", "faq"),
    "answer": ("回答", "回答内容", "答え", "answer"),
    "phrasings": ("別の聞き方", "言い換え", "類似質問", "キーワード", "phrasings"),
    "url": ("url", "関連url", "参考url", "リンク", "link"),
    "department": ("担当課", "担当部署", "所管課", "問い合わせ先", "担当", "department"),
    "category": ("分類", "カテゴリ", "カテゴリー", "大分類", "category"),
    "question_en": ("質問_英語", "質問(英語)", "question_en", "英語質問"),
    "answer_en": ("回答_英語", "回答(英語)", "answer_en", "英語回答"),
    "phrasings_en": ("別の聞き方_英語", "phrasings_en"),
    "question_easy_ja": ("質問_やさしい日本語", "質問(やさしい日本語)", "question_easy_ja"),
    "answer_easy_ja": ("回答_やさしい日本語", "回答(やさしい日本語)", "answer_easy_ja"),
    "phrasings_easy_ja": ("別の聞き方_やさしい日本語", "phrasings_easy_ja"),
}
SPLIT = re.compile(r"[\r\n｜|；;]+")
URL = re.compile(r"^https?://\S+$")
HEADER = """# The city's prepared questions and answers (よくある質問), imported from {source}
# with `citybot import faq`. Staff may edit it like any content file (add phrasings,
# translations); a new import replaces it whole.
"""


class ImportFailed(Exception):
    pass


@dataclass
class Imported:
    entries: list[dict[str, Any]] = field(default_factory=list)
    report: Report = field(default_factory=Report)
    skipped: int = 0

    @property
    def summary(self) -> str:
        translated = sum(1 for e in self.entries if e["answer"].get("en"))
        return (f"{len(self.entries)} questions imported ({translated} with English), "
                f"{self.skipped} rows left out")


def convert(data: bytes, name: str) -> Imported:
    """Read the CSV bytes into question entries; problems go into the report by line."""
    out = Imported()
    table = read_csv(data, name, out.report)
    cols = {key: table.column(*aliases) for key, aliases in COLUMNS.items()}
    table.require("question", *COLUMNS["question"])
    table.require("answer", *COLUMNS["answer"])
    if cols["question"] is None or cols["answer"] is None:
        return out
    seen: set[str] = set()
    for row in table.rows:
        question, answer = _text(row.get(cols["question"])), _text(row.get(cols["answer"]))
        if not question or not answer:
            out.report.add(name, row.line, f"no {'question' if not question else 'answer'}: row left out")
            out.skipped += 1
            continue
        entry_id = _entry_id(row.get(cols["id"]), question)
        if entry_id in seen:
            out.report.add(name, row.line, f"id {entry_id!r} is given twice: row left out")
            out.skipped += 1
            continue
        seen.add(entry_id)
        out.entries.append(_entry(table, cols, row, entry_id, question, answer, out.report))
    return out


def _entry(table: CsvTable, cols: dict[str, int | None], row, entry_id: str, question: str, answer: str,
           report: Report) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": entry_id}
    category = _text(row.get(cols["category"]))
    if category:
        entry["category"] = category
    department = _text(row.get(cols["department"]))
    if department:
        entry["department"] = department
    url = _text(row.get(cols["url"]))
    if url and URL.match(url):
        entry["url"] = url
    elif url:
        report.add(table.name, row.line, f"{url[:60]!r} is not a web address (http:// or https://): link left out")
    entry["question"] = _languages(question, _text(row.get(cols["question_en"])),
                                   _text(row.get(cols["question_easy_ja"])), limit=200)
    phrasings = {lang: _split(row.get(cols[key])) for lang, key in
                 (("ja", "phrasings"), ("en", "phrasings_en"), ("easy_ja", "phrasings_easy_ja"))}
    phrasings = {lang: values for lang, values in phrasings.items() if values}
    if phrasings:
        entry["phrasings"] = phrasings
    entry["answer"] = _languages(answer, _text(row.get(cols["answer_en"])), _text(row.get(cols["answer_easy_ja"])),
                                 limit=4000)
    return entry


def _languages(ja: str, en: str, easy_ja: str, limit: int) -> dict[str, str]:
    out = {"ja": ja[:limit]}
    if en:
        out["en"] = en[:limit]
    if easy_ja:
        out["easy_ja"] = easy_ja[:limit]
    return out


def _text(value: str) -> str:
    """A cell as written, without the stray spaces and the line endings of Windows."""
    value = (value or "").replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.strip() for line in value.strip().split("\n")).strip()


def _split(value: str) -> list[str]:
    return [part.strip()[:200] for part in SPLIT.split(value or "") if part.strip()]


def _entry_id(given: str, question: str) -> str:
    """The row's id made fit for a link (lower case letters, digits, - and _); a row without
    one gets one from its question (the same on every import)."""
    folded = unicodedata.normalize("NFKC", given or "").strip().lower()
    folded = re.sub(r"[^a-z0-9_-]+", "-", folded).strip("-_")
    if folded and not folded[0].isalnum():
        folded = ""
    if folded:
        return ("faq-" + folded if folded[0].isdigit() else folded)[:64]
    return "faq-" + hashlib.sha1(question.encode("utf-8")).hexdigest()[:10]


def render(imported: Imported, source: str) -> str:
    text = HEADER.format(source=source) + dump({"questions": imported.entries})
    try:  # what is written must load as the content file it is
        QuestionsFile.model_validate(yaml.safe_load(text))
    except ValidationError as exc:
        raise ImportFailed(f"the result would not load: {exc.errors()[0]['msg']}") from None
    return text


def import_faq(path: Path, out: Path, limits: safety.Limits, dry_run: bool = False) -> Imported:
    """Convert and, unless a dry run, write `out`; raises safety.Refused (nothing written)
    or ImportFailed."""
    imported = convert(safety.read_source(path, limits.max_bytes), path.name)
    if not imported.entries:
        raise ImportFailed(f"no question could be imported from {path.name}")
    text = render(imported, path.name)
    before = _current(out)
    safety.check([*safety.unreadable(imported.report),
                  safety.shrinkage(out.name, "questions", before, (e["id"] for e in imported.entries),
                                   limits.min_share)],
                 limits, imported.report, imported.summary)
    if not dry_run:
        write_file(text, out)
    return imported


def _current(out: Path) -> list[tuple[str, str]]:
    if not out.is_file():
        return []
    try:
        data = yaml.safe_load(out.read_text(encoding="utf-8")) or {}
        return [(str(e.get("id")), str(e.get("id"))) for e in data.get("questions", []) if isinstance(e, dict)]
    except (yaml.YAMLError, OSError, AttributeError):
        return []
