"""What content/faq.yaml and content/faq/questions.yaml hold.

faq.yaml is the intent's own file (its label, the texts it says, the procedure names
that route a message to it, synonyms). faq/questions.yaml is the city's prepared
questions and answers — written by staff or imported from the city's FAQ export
(`citybot import faq FILE.csv`, importer.py). An imported answer may be in Japanese
only until staff translate it (LooseText: an English answer then says so).
"""

from __future__ import annotations

from typing import Annotated, Iterable, Mapping

from pydantic import Field, StringConstraints, model_validator

from bot.content.models import IntentContent, Keywords, Label, NonEmpty, Strict, keys_required
from bot.content.store import Content
from bot.content.yamlfile import Problem, YamlDocument
from bot.content.models import Loose
from bot.lookup import normalize

QUESTIONS = "faq/questions"
REQUIRED_LABELS = frozenset({"yes", "no", "contact", "other"})
TEXTS = ["intro", "answer", "choose", "not_found", "thanks", "sorry", "helpful", "untranslated", "more_info",
         "department", "nearby", "not_this"]
EntryId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
Phrase = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Phrasings(Strict):
    """Other ways residents ask the same question, per language (searched like the question)."""

    ja: list[Phrase] = []
    en: list[Phrase] = []
    easy_ja: list[Phrase] = []

    def all(self) -> list[str]:
        return [*self.ja, *self.en, *self.easy_ja]


class Entry(Strict):
    id: EntryId
    question: Loose
    phrasings: Phrasings = Phrasings()
    answer: Loose
    url: Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=1000)] | None = None
    department: NonEmpty | None = None
    category: NonEmpty | None = None

    def texts(self) -> list[tuple[str, str]]:
        """(language group, text) of everything a question can be matched against."""
        out = [("ja", self.question.ja), *(("ja", p) for p in self.phrasings.ja),
               *(("ja", p) for p in self.phrasings.easy_ja)]
        if self.question.easy_ja:
            out.append(("ja", self.question.easy_ja))
        if self.question.en:
            out.append(("en", self.question.en))
        out.extend(("en", p) for p in self.phrasings.en)
        return out


class QuestionsFile(Strict):
    questions: list[Entry] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> "QuestionsFile":
        seen: set[str] = set()
        for entry in self.questions:
            if entry.id in seen:
                raise ValueError(f"id {entry.id!r} is used twice")
            seen.add(entry.id)
        return self

    def entry(self, entry_id: str) -> Entry | None:
        return next((e for e in self.questions if e.id == entry_id), None)


class FaqContent(IntentContent):
    labels: dict[str, Label]
    about_faq: list[NonEmpty] = []  # keywords naming the FAQ itself: they open its intro
    # words that mean the same to residents and to the search (マイナカード = マイナンバーカード)
    synonyms: list[list[NonEmpty]] = []
    popular: list[EntryId] = Field(default=[], max_length=10)  # chips under the intro

    _labels = keys_required("labels", REQUIRED_LABELS)


def check_faq(content: Content, sources: Mapping[str, YamlDocument]) -> Iterable[Problem]:
    """Popular questions exist; every keyword that routes a message here leads to at least
    one prepared question or answer, itself or a synonym (else residents typing it would
    meet an empty answer)."""
    if QUESTIONS not in content.documents or "faq" not in content.documents:
        return
    words: FaqContent = content["faq"]
    questions: QuestionsFile = content[QUESTIONS]
    ids = {e.id for e in questions.questions}
    for index, entry_id in enumerate(words.popular):
        if entry_id not in ids:
            yield sources["faq"].problem(("popular", index), f"popular: no question with id {entry_id!r}")
    haystack = [normalize(text) for entry in questions.questions for _, text in entry.texts()]
    haystack += [normalize(entry.answer.ja) for entry in questions.questions]
    own = {normalize(w) for w in words.about_faq}
    for index, word in enumerate(words.about_faq):
        if normalize(word) not in {normalize(k) for k in words.keywords.all()}:
            yield sources["faq"].problem(("about_faq", index), f"about_faq: {word!r} is not one of the keywords")
    same = {normalize(w): {normalize(o) for o in group} for group in words.synonyms for w in group}
    for lang in ("ja", "en", "easy_ja"):
        for index, keyword in enumerate(getattr(words.keywords, lang)):
            key = normalize(keyword)
            if key and key not in own and not any(k in text for k in same.get(key, {key}) | {key} for text in haystack):
                yield sources["faq"].problem(("keywords", lang, index),
                                             f"keyword {keyword!r} is in no prepared question or answer")


__all__ = ["Entry", "FaqContent", "Keywords", "QuestionsFile", "check_faq"]
