"""Finding one entry among hundreds by what a resident typed, the way a clerk would.

Each entry (a garbage item, say) is known by its names, aliases and their kana
readings. A query is normalised the same way (bot.lookup.normalize plus the kana folds
below), then answered in this order:

  1. exact: the query is a name, alias or reading of exactly one entry;
  2. fuzzy: rapidfuzz scores against every key; one entry clearly ahead is the answer,
     several close together become choices, nothing good enough is "not found".

Readings of kanji names come from SudachiPy's core dictionary (Apache-2.0, shipped as a
package, read offline), so 「かんでんち」 finds 乾電池 and 「ほこうき」 歩行器 without anyone
writing the reading down.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, Iterable, Sequence, TypeVar

import jaconv

from .normalize import normalize

T = TypeVar("T")

SMALL_KANA = str.maketrans("ぁぃぅぇぉっゃゅょゎゕゖ", "あいうえおつやゆよわかけ")


_tokenizer_lock = threading.Lock()  # a Sudachi tokenizer is not safe to share between threads


@functools.lru_cache(maxsize=1)
def _tokenizer():
    from sudachipy import Dictionary as SudachiDictionary, SplitMode

    return SudachiDictionary(dict="core").tokenizer(SplitMode.C)


@functools.lru_cache(maxsize=65536)
def reading(text: str) -> str:
    """Hiragana reading of a Japanese text, each word as the dictionary reads it. Latin
    words and punctuation keep their spelling ("PET" is not read out as ぴーいーてぃー, nor
    「(」 as きごう), and so does a word the dictionary does not know."""
    if not _JAPANESE.search(text):
        return jaconv.kata2hira(text)
    known = _remembered.get(text)
    if known is not None:
        return known
    with _tokenizer_lock:
        morphemes = _tokenizer().tokenize(text)
        said = jaconv.kata2hira("".join(m.surface() if _LATIN.search(m.surface()) or m.part_of_speech()[0] in _SYMBOLS
                                        else (m.reading_form() or m.surface()) for m in morphemes))
    _learned[text] = said
    return said


# Readings kept between runs (`remember_readings`): a one-shot command (`citybot ask`)
# would otherwise load the Sudachi dictionary and read every name of the content again.
_remembered: dict[str, str] = {}
_learned: dict[str, str] = {}
_files: set[Path] = set()


def remember_readings(path: Path) -> None:
    """Read the readings kept in `path` (for this dictionary version), and write those
    learned meanwhile back when the process ends. A file that cannot be read or written
    costs only speed."""
    import atexit
    import json
    from importlib.metadata import PackageNotFoundError, version

    if path in _files:
        return
    _files.add(path)
    try:
        key = f"sudachipy {version('sudachipy')} core {version('sudachidict_core')}"
    except PackageNotFoundError:
        return
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
        if kept.get("key") == key and isinstance(kept.get("readings"), dict):
            _remembered.update(kept["readings"])
    except (OSError, ValueError):
        pass

    def write() -> None:
        if not _learned:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(".tmp")
            temporary.write_text(json.dumps({"key": key, "readings": {**_remembered, **_learned}},
                                            ensure_ascii=False), encoding="utf-8")
            temporary.replace(path)
        except OSError:
            pass
    atexit.register(write)


_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")
_SYMBOLS = frozenset({"補助記号", "記号", "空白"})  # read out as 「きごう」 otherwise: 「(」 is no word
_LATIN = re.compile(r"[A-Za-z\uff21-\uff3a\uff41-\uff5a]")


def fold(text: str) -> str:
    """The lookup key: normalised, small kana made big, long-vowel marks dropped, so
    「ﾍﾟｯﾄﾎﾞﾄﾙ」「ぺっとぼとる」「ペットボトル」 and 「ぺとぼとる」 sit close together."""
    return normalize(text).translate(SMALL_KANA).replace("ー", "")


def keys_for(name: str) -> set[str]:
    keys = {fold(name), fold(reading(name))}
    return {k for k in keys if k}


@dataclass(frozen=True)
class Hit(Generic[T]):
    entry: T
    score: float
    matched: str  # the name or alias that matched, as written


@dataclass(frozen=True)
class Found(Generic[T]):
    """`kind`: exact | fuzzy (one clear answer) | choices (several close) | none."""

    kind: str
    hits: tuple[Hit[T], ...] = ()

    @property
    def best(self) -> T | None:
        return self.hits[0].entry if self.hits and self.kind in ("exact", "fuzzy") else None


@dataclass
class Dictionary(Generic[T]):
    """Entries by their names; build once per content version (it is immutable)."""

    accept: float = 86.0     # fuzzy score from which a single entry is taken as meant
    margin: float = 6.0      # ... if the runner-up (another entry) is at least this much lower;
    floor: float = 72.0      # below `accept` (down to `floor`) the lead must grow point for point
    suggest: float = 70.0    # fuzzy score from which entries are offered as choices
    max_choices: int = 5
    _exact: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    _keys: list[str] = field(default_factory=list)
    _owners: list[list[tuple[int, str]]] = field(default_factory=list)
    _entries: list[T] = field(default_factory=list)
    longest: int = 0  # the longest key: a query far longer names no entry (and costs nothing)

    def add(self, entry: T, names: Iterable[str]) -> None:
        index = len(self._entries)
        self._entries.append(entry)
        for name in names:
            for key in keys_for(name):
                owners = self._exact.setdefault(key, [])
                if all(i != index for i, _ in owners):
                    owners.append((index, name))

    def freeze(self) -> "Dictionary[T]":
        self._keys = list(self._exact)
        self._owners = [self._exact[k] for k in self._keys]
        self.longest = max(map(len, self._keys), default=0)
        # every key on one line each of one string: "which keys contain the query" becomes a
        # few C-level str.find calls instead of a Python call per key
        self._joined = "\n".join(self._keys)
        self._starts = list(itertools.accumulate((len(k) + 1 for k in self._keys[:-1]), initial=0))
        return self

    def __len__(self) -> int:
        return len(self._entries)

    def exact(self, text: str) -> list[Hit[T]]:
        return self.exact_folded(fold(text))

    def exact_folded(self, key: str) -> list[Hit[T]]:
        """`exact` for a text already folded (callers that cut one folded text into parts)."""
        owners = self._exact.get(key, [])
        return [Hit(self._entries[i], 100.0, name) for i, name in owners]

    def find(self, text: str) -> Found[T]:
        query = fold(text)
        if not query or len(query) > 2 * self.longest + 8:
            return Found("none")  # no key is anywhere near as long: not worth a fuzzy pass
        exact = self.exact(text)
        if len(exact) == 1:
            return Found("exact", tuple(exact))
        if len(exact) > 1:
            return Found("choices", tuple(exact[: self.max_choices]))
        from rapidfuzz import fuzz, process  # here: an exact name (most questions) never needs it

        best: dict[int, Hit[T]] = {}
        scored = {position: score for _, score, position in
                  process.extract(query, self._keys, scorer=fuzz.ratio, limit=40, score_cutoff=self.suggest)}
        for position in self._containing(query):  # 「でんち」 in 「かんでんち」: a little less than whole
            inside = 80.0 + 10.0 * len(query) / len(self._keys[position])
            scored[position] = max(scored.get(position, 0.0), inside)
        for position, score in sorted(scored.items(), key=lambda pair: -pair[1])[:40]:
            for index, name in self._owners[position]:
                if index not in best or best[index].score < score:
                    best[index] = Hit(self._entries[index], score, name)
        ranked = sorted(best.values(), key=lambda h: -h.score)
        if not ranked:
            return Found("none")
        top = ranked[0]
        runner_up = ranked[1].score if len(ranked) > 1 else 0.0
        needed_lead = max(self.margin, self.accept + self.margin - top.score)
        if top.score >= self.floor and top.score - runner_up >= needed_lead:
            return Found("fuzzy", (top,))
        close = [h for h in ranked if h.score >= max(self.suggest, top.score - 12)]
        return Found("choices", tuple(close[: self.max_choices]))


    def _containing(self, query: str) -> Iterable[int]:
        """Positions of the keys longer than a query of 2+ characters that contain it."""
        if len(query) < 2:
            return
        at = self._joined.find(query)
        while at != -1:
            position = bisect.bisect_right(self._starts, at) - 1
            if len(self._keys[position]) > len(query):
                yield position
            at = self._joined.find(query, self._starts[position] + len(self._keys[position]))
        return

    def find_contained(self, text: str, *, standing_out: bool = False) -> "Found[T]":
        """The entry whose name is the longest part of the text (「割れたお皿」 -> お皿).

        `standing_out`: only names that mean themselves inside any sentence (see
        `stands_out`), for deciding whether a message is about these entries at all."""
        query = fold(text)
        keys = (k for k in self._exact if len(k) >= 2 and k in query and (not standing_out or stands_out(k)))
        for key in sorted(keys, key=len, reverse=True):
            owners = self._exact[key]
            if len(owners) == 1:
                index, name = owners[0]
                return Found("fuzzy", (Hit(self._entries[index], 100.0 * len(key) / len(query), name),))
            return Found("choices", tuple(Hit(self._entries[i], 100.0 * len(key) / len(query), n)
                                          for i, n in owners[: self.max_choices]))
        return Found("none")


def stands_out(key: str) -> bool:
    """Long enough to mean itself inside a sentence: 「おさら」 does, 「いし」 (in おねがいします)
    does not; two kanji (「電池」) do."""
    return len(key) >= 3 or (len(key) == 2 and not all("\u3041" <= ch <= "\u309f" for ch in key))


SPLITTERS = re.compile(r"[、,，・/／]|\s+(?:and\s+)?|(?<=[\u30a0-\u30ff\u4e00-\u9fff\uff21-\uff5aA-Za-z0-9])[とや](?=\S)")


def split_items(text: str) -> list[str]:
    """「ペットボトルと乾電池」 -> two parts; 「ふとん」 stays whole (と after hiragana)."""
    return [part for part in (p.strip() for p in SPLITTERS.split(text)) if part]


def several(dictionary: Dictionary[T], parts: Sequence[str]) -> list[Found[T]] | None:
    """Each part found on its own, or None if any part is not clearly one entry."""
    found = [dictionary.find(part) for part in parts]
    return found if all(f.kind in ("exact", "fuzzy") for f in found) else None
