"""The items of a large-waste booking as buttons: grouped by kind, a page at a time.

A city has a hundred or more large-waste items; thirteen quick replies cannot show them,
and pages of them in file order are no way to find a ソファ. So the buttons first offer
the kinds of content/large_waste/rules.yaml (家具, 家電, 寝具…, then その他 for items
no kind names), and a kind its items in the order of their reading (あいうえお), with
◀ 前へ and 次へ ▶ when they need more than one page. Without `kinds` the groups are the
large-waste categories of the garbage book. Typing the name works at every moment: the
buttons are a help, never the only way.

The groups are built once per content version (the readings take a moment), when the
content loads: `warm`, never inside a resident's request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from bot.content.derived import per_version
from bot.content.models import Label
from bot.content.store import Content
from bot.lookup import normalize
from bot.lookup.dictionary import fold, reading
from bot.messages import MAX_QUICK_REPLIES, Tap
from handlers.garbage.book import book_for
from handlers.garbage.models import Item

from .domain import Kind, bookable_items, rules_of

OTHER = "other"  # the group of items no kind names


@dataclass(frozen=True)
class Group:
    id: str
    label: Label | None  # None: content/large_waste.yaml's `other_kind` label
    items: tuple[Item, ...]


_KANA = re.compile(r"^[\u3040-\u30ffー]+$")


def _score(word: str, names: list[str], read: str) -> int:
    """How well a kind's word names an item: its length when found in one of the names,
    or — a word written in kana (たんす) — in the item's reading (箪笥); else 0."""
    key = fold(word)
    if key and any(key in name for name in names):
        return len(key)
    if key and _KANA.match(word) and key in read:
        return len(key)
    return 0


def kind_of(item: Item, kinds: list[Kind]) -> str:
    """The kind with the longest word in the item's name or reading, else in its other
    names (ガスコンロ is a コンロ though an alias says ガステーブル); a tie goes to the kind
    listed first; none: OTHER."""
    read = fold(item.reading or reading(item.name))
    for names, with_reading in (([fold(item.name)], True), ([fold(a) for a in item.aliases], False)):
        best, length = OTHER, 0
        for kind in kinds:
            for word in kind.words:
                size = _score(word, names, read if with_reading else "")
                if size > length:
                    best, length = kind.id, size
        if length:
            return best
    return OTHER


def _sort_key(item: Item) -> str:
    return fold(item.reading or reading(item.name))


def build_groups(content: Content) -> list[Group]:
    book = book_for(content)
    items = sorted(bookable_items(book), key=_sort_key)
    kinds = rules_of(content).kinds
    if not kinds:
        categories = [c for c in book.categories.values() if c.large_waste]
        groups = [Group(c.id, c.name, tuple(i for i in items if i.category == c.id)) for c in categories]
        return [g for g in groups if g.items]
    chosen = {id(item): kind_of(item, kinds) for item in items}
    groups = [Group(k.id, k.label, tuple(i for i in items if chosen[id(i)] == k.id)) for k in kinds]
    groups.append(Group(OTHER, None, tuple(i for i in items if chosen[id(i)] == OTHER)))
    return [g for g in groups if g.items]


#: The groups of a content version (built by `warm` when it loaded).
groups = per_version(build_groups)


def warm(content: Content) -> None:
    if "large_waste/rules" in content.documents:
        groups(content)


def group(content: Content, group_id: str | None) -> Group | None:
    return next((g for g in groups(content) if g.id == group_id), None)


def named_group(content: Content, typed: str) -> Group | None:
    """A kind typed by its name in any language (「家具」, furniture)."""
    wanted = normalize(typed)
    if not wanted:
        return None
    other = content["large_waste"].labels["other_kind"]
    for g in groups(content):
        label = g.label or other
        if wanted in {normalize(label.get(lang)) for lang in ("ja", "en", "easy_ja")}:
            return g
    return None


def group_label(content: Content, lang: str, g: Group) -> str:
    return (g.label or content["large_waste"].labels["other_kind"]).get(lang)


def pages(options: list[Tap], fixed: list[Tap], page: int,
          turn: Callable[[str, int], Tap]) -> tuple[list[Tap], int, int]:
    """(the chips, the page shown, how many pages): the options of one page, ◀ 前へ and 次へ ▶
    where there is a page before or after, then the fixed chips (戻る, やめる), in LINE's 13.
    The first and the last page give the room of the arrow they do not need to options."""
    room = MAX_QUICK_REPLIES - len(fixed)
    if len(options) <= room:
        return [*options, *fixed], 0, 1
    starts, start = [0], room - 1
    while len(options) - start > room - 1:
        starts.append(start)
        start += room - 2
    starts.append(start)
    page = min(max(page, 0), len(starts) - 1)
    end = starts[page + 1] if page + 1 < len(starts) else len(options)
    nav = ([turn("previous", page - 1)] if page > 0 else []) + \
        ([turn("more", page + 1)] if page < len(starts) - 1 else [])
    return [*options[starts[page]:end], *nav, *fixed], page, len(starts)
