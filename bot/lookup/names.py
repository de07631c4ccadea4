"""The other names a published item name holds: what residents type instead of all of it.

Cities write 「電気カミソリ・電気ひげそり」, 「印鑑(象牙製・木製・プラスチック製)」,
「おたま(杓子) (竹製・木製)」 or 「カード類（ポイントカード・診察券等）」 as one item. A resident
asks for 「電気ひげそり」, 「印鑑」, 「杓子」 or 「診察券」. Importers add these as aliases, so
staff see them in the YAML (and can remove a bad one) and the dictionary needs no guesswork.
"""

from __future__ import annotations

import re

_BRACKETED = re.compile(r"[（(]([^（）()]*)[）)]")
_KANJI = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")  # 「櫛」「傘」「鍋」: one kanji is a word
_LISTS = re.compile(r"[・／/、,，]")
_EXAMPLES_END = re.compile(r"(?:等|など|などの類|類)$")
#: Bracket text that qualifies the name (what it is made of, a size, who it is for)
#: rather than naming the thing another way.
_QUALIFIER = re.compile(r"製|用|以上|以下|未満|程度|含む|除く|付き|入り|のみ|[0-9０-９]|ｃｍ|cm|kg|ｋｇ|リットル")


def other_names(name: str) -> list[str]:
    """Aliases hidden in a listed name, in the order written; the name itself is not one."""
    found: list[str] = []
    base = " ".join(_BRACKETED.sub(" ", name).split())
    parts = [p.strip() for p in _LISTS.split(base) if p.strip()]
    if base and base != name:
        found.append(base)
    if len(parts) > 1:
        found.extend(parts)
    for inside in _BRACKETED.findall(name):
        inside = inside.strip()
        listed = [p.strip() for p in _LISTS.split(inside) if p.strip()]
        if _EXAMPLES_END.search(inside):  # 「（ポイントカード・診察券等）」: examples of the item
            found.extend(_EXAMPLES_END.sub("", p).strip() for p in listed)
        elif len(listed) == 1 and not _QUALIFIER.search(inside):  # 「(杓子)」: another name
            found.append(inside)
    out: list[str] = []
    for alias in found:
        if (len(alias) >= 2 or _KANJI.fullmatch(alias)) and alias != name and alias not in out:
            out.append(alias)
    return out
