"""What content/reports.yaml holds, and what a message says about a report.

The kinds (道路・歩道, 公園, 街灯 …) are the city's: each with the department that
handles it, whether a photo is required, and the words residents use for it. A message
naming a kind's thing *and* something wrong with it (「公園のブランコが壊れている」) is a
report; naming only the thing (「公園の場所」) is not, so the recognizer needs both.
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from bot.content.models import ConversationContent, IntentContent, Keywords, Label, NonEmpty, Strict, Text, keys_required
from bot.content.store import Content
from bot.lookup import normalize
from bot.router import Recognized

from .tables import ReportStatus

STATUSES = tuple(ReportStatus)  # in the order staff see them
REQUIRED_LABELS = frozenset({"camera", "camera_roll", "next", "no_photo", "location", "skip", "send", "back", "quit"})
REQUIRED_COMMANDS = frozenset({"quit", "back", "next", "skip", "send"})
MAX_PHOTOS = 3


class ReportKind(Strict):
    id: str = Field(pattern=r"^[a-z0-9_-]{1,32}$")
    label: Label
    department: NonEmpty  # 担当課, as staff know it
    photo_required: bool = False
    words: list[NonEmpty] = []


class Duplicates(Strict):
    metres: float = Field(default=50, gt=0, le=1000)
    days: int = Field(default=30, ge=1, le=365)


class MapView(Strict):
    center: tuple[float, float]
    zoom: int = Field(default=14, ge=1, le=19)

    @field_validator("center")
    @classmethod
    def _on_earth(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not (-90 <= value[0] <= 90 and -180 <= value[1] <= 180):
            raise ValueError("center is [latitude, longitude]")
        return value


class ReportsContent(ConversationContent):
    kinds: list[ReportKind] = Field(min_length=1, max_length=12)
    trouble_words: list[NonEmpty] = []
    statuses: dict[str, Text]
    duplicates: Duplicates = Duplicates()
    map: MapView
    labels: dict[str, Label]
    commands: dict[str, Keywords]

    _labels = keys_required("labels", REQUIRED_LABELS)
    _commands = keys_required("commands", REQUIRED_COMMANDS)
    _statuses = keys_required("statuses", STATUSES)

    @model_validator(mode="after")
    def _unique_kinds(self) -> "ReportsContent":
        ids = [k.id for k in self.kinds]
        if len(set(ids)) != len(ids):
            raise ValueError(f"kinds: an id is given twice ({', '.join(sorted(i for i in ids if ids.count(i) > 1))})")
        return self

    def kind(self, kind_id: str) -> ReportKind | None:
        return next((k for k in self.kinds if k.id == kind_id), None)



TEXTS = ["ask_kind", "ask_kind_photo", "ask_photo", "ask_photo_optional", "photo_received", "photos_full", "photos_max",
         "photo_failed", "photo_not_image", "photo_required", "ask_place", "ask_description", "summary", "on_map",
         "no_description", "sent", "already_sent", "quit", "expired", "not_understood", "old_question",
         "status_changed", "status_note"]


class Folded:
    """A message folded once for every word test: Japanese without spaces (normalize()),
    English with its words apart, so 「street light」 is two words and 「out」 is not in "about"."""

    def __init__(self, text: str):
        self.joined = normalize(text)
        self.spaced = " ".join(normalize(part) for part in text.split())

    def has(self, word: str) -> bool:
        if word.isascii():
            key = " ".join(normalize(part) for part in word.split())
            return bool(key) and re.search(rf"(?<![a-z0-9]){re.escape(key)}(?![a-z0-9])", self.spaced) is not None
        key = normalize(word)
        return bool(key) and key in self.joined


def kinds_named(words: ReportsContent, text: str) -> list[ReportKind]:
    """The kinds whose words the message uses, in the content's order."""
    folded = Folded(text)
    return [kind for kind in words.kinds if any(folded.has(w) for w in kind.words)]


def kind_typed(words: ReportsContent, text: str) -> ReportKind | None:
    """The kind a resident typed instead of tapping: its label in any language, else the
    one kind whose words the text uses."""
    typed = normalize(text)
    for kind in words.kinds:
        if typed and typed in {normalize(kind.label.get(lang)) for lang in ("ja", "en", "easy_ja")}:
            return kind
    named = kinds_named(words, text)
    return named[0] if len(named) == 1 else None


def says_trouble(words: ReportsContent, text: str) -> bool:
    folded = Folded(text)
    return any(folded.has(w) for w in words.trouble_words)


def recognize(content: Content, text: str) -> Recognized | None:
    """A thing of one of the city's kinds, and something wrong with it: a report. One word
    is not both (「死んで」 names no thing: 「飼い犬が死んでしまった」 is no report)."""
    words: ReportsContent = content["reports"]
    folded = Folded(text)
    trouble = {normalize(w) for w in words.trouble_words if folded.has(w)}
    for kind in words.kinds:
        if any(folded.has(w) and (trouble - {normalize(w)}) for w in kind.words):
            return Recognized("contained", 100.0, kind.label.ja)
    return None
