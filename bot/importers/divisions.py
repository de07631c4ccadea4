"""Which of the city's divisions a place is in, for the importers.

settings.yaml says how the city is divided (bot.profile.Divisions): wards (行政区), districts
made of towns (地区, 小学校区), or nothing at all — only 20 of Japan's ~1,700 municipalities
have wards, so an address naming no ward is the normal case, not an error. A place is put
in its division from the standard columns, in this order:

    1. 所在地_市区町村 (市区町村名, 都道府県名及び市町村名): a ward name (北区; a word + 区: 北 -> 北区)
       or a town of a district (some files write the whole address there)
    2. 所在地_町字: a town of a district at its start (行徳駅前 in 行徳駅前1丁目), or a ward name
    3. the address text (所在地_連結表記, 住所): a ward name, or a town right after the city
       (千葉県市川市南行徳1丁目 -> the district listing 南行徳), then any other texts the
       importer has (a shelter's 対象となる町会・自治会)
    A town is only looked for after the prefecture and the city's own name (messages.yaml
    `city`; else the first name ending in 市区町村, after a 郡): 市川市 is no town 市川.
    4. a district's bare word of two characters or more anywhere (中央 in みなと市中央町), only
       when no ward or town was found (one-character words such as 北 hide in town names)
    5. the nearest-division rule, when the city gives one (divisions.nearest_km): the
       division whose centre is nearest to the place's coordinates, within that distance

A place found in none is kept with its division unknown (the importer counts them once in
its report): everything that works by location works without a division.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import yaml

from ..geo import distance_m

_PREFECTURE = re.compile(r"^(東京都|北海道|京都府|大阪府|[^0-9都道府県]{2,3}県)")
_MUNICIPALITY = re.compile(r"^(?:[^0-9]+?郡)?[^0-9]+?[市区町村]")


def _norm(text: str) -> str:
    """NFKC, no spaces, ヶ/ケ/が spelled one way (関ケ島, 関ヶ島)."""
    value = unicodedata.normalize("NFKC", text or "")
    return re.sub(r"\s+", "", value).replace("ヶ", "ケ").replace("ヵ", "カ")


@dataclass(frozen=True)
class Division:
    id: str
    names: tuple[str, ...]            # its names and words (北区, Kita Ward, 北, kita)
    towns: tuple[str, ...] = ()       # 町字 making it up
    centre: tuple[float, float] | None = None


@dataclass(frozen=True)
class Divisions:
    """The divisions of settings.yaml and how to find a place's (see the module docstring)."""

    items: tuple[Division, ...] = ()
    kind: str = "wards"
    word: str = "区"                  # the Japanese word, for reports
    nearest_km: float | None = None
    cities: tuple[str, ...] = ()      # the city's own name(s) (みなと市), cut before towns are looked for
    _wards: tuple[tuple[str, str], ...] = field(default=(), repr=False)   # (ward name, id), longest first
    _bare: tuple[tuple[str, str], ...] = field(default=(), repr=False)    # (bare word, id), longest first
    _towns: tuple[tuple[str, str], ...] = field(default=(), repr=False)   # (town, id), longest first

    @classmethod
    def build(cls, items: Iterable[Division], kind: str = "wards", word: str = "区",
              nearest_km: float | None = None, cities: Iterable[str] = ()) -> "Divisions":
        items = tuple(items)
        wards: dict[str, str] = {}
        bare: dict[str, str] = {}
        towns: dict[str, str] = {}
        for division in items:
            for name in (_norm(n) for n in division.names):
                if not name or name.isascii():
                    continue   # addresses are written in Japanese
                if name.endswith("区"):
                    wards.setdefault(name, division.id)
                    continue
                wards.setdefault(name + "区", division.id)
                if len(name) >= 2:
                    bare.setdefault(name, division.id)
            for town in (_norm(t) for t in division.towns):
                if town:
                    towns.setdefault(town, division.id)
        by_length = lambda pairs: tuple(sorted(pairs.items(), key=lambda p: -len(p[0])))   # noqa: E731
        names = tuple(sorted({_norm(c) for c in cities if _norm(c)}, key=len, reverse=True))
        return cls(items, kind, word, nearest_km, names, by_length(wards), by_length(bare), by_length(towns))

    @classmethod
    def of(cls, given: "Divisions | Sequence[tuple[str, list[str]]]") -> "Divisions":
        """A Divisions from itself, or from [(id, [names and words])] (the older callers' form)."""
        if isinstance(given, Divisions):
            return given
        return cls.build(Division(str(i), tuple(names)) for i, names in given)

    @classmethod
    def load(cls, settings_path: Path) -> "Divisions":
        """From content/settings.yaml (read as YAML: importers run before the content loads).
        ValueError when the file cannot be read."""
        try:
            data = yaml.safe_load(Path(settings_path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ValueError(f"cannot read {settings_path}: {exc}") from None
        setup = data.get("divisions") or {}
        kind = str(setup.get("kind") or "wards")
        word = setup.get("word")
        word_ja = str(word.get("ja", "区")) if isinstance(word, dict) else str(word or "区")
        items = []
        for entry in data.get("districts") or [] if kind != "none" else []:
            if not isinstance(entry, dict) or not entry.get("id"):
                continue
            name = entry.get("name")
            names = [name] if isinstance(name, str) else [v for v in (name or {}).values() if isinstance(v, str)]
            names += [str(w) for w in entry.get("words") or []]
            centre = entry.get("centre")
            items.append(Division(str(entry["id"]), tuple(n for n in names if n),
                                  tuple(str(t) for t in entry.get("towns") or []),
                                  (float(centre[0]), float(centre[1])) if centre else None))
        nearest = setup.get("nearest_km")
        return cls.build(items, kind, word_ja, float(nearest) if nearest else None,
                         _city_names(Path(settings_path).parent / "messages.yaml"))

    # -- finding --------------------------------------------------------------------------------
    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self):
        """(id, [names and words]) per division, as the older callers read them."""
        return iter([(d.id, list(d.names)) for d in self.items])

    def __getitem__(self, index: int) -> tuple[str, list[str]]:
        division = self.items[index]
        return division.id, list(division.names)

    def ids(self) -> list[str]:
        return [d.id for d in self.items]

    def names(self) -> str:
        return "、".join(d.names[0] if d.names else d.id for d in self.items)

    def place(self, *, municipality: Iterable[str] = (), town: str = "", address: str = "",
              more: Iterable[str] = (), lat: float | None = None, lon: float | None = None) -> str | None:
        """The id of the division a place is in, or None (see the module docstring)."""
        if not self.items:
            return None
        texts = [t for t in (_norm(x) for x in municipality) if t]
        town_text, address_text = _norm(town), _norm(address)
        extra = [t for t in (_norm(x) for x in more) if t]
        steps = [*((t, False) for t in texts), (town_text, True), (address_text, False), *((t, False) for t in extra)]
        for text, is_town in steps:
            if not text:
                continue
            found = self._ward_in(text) or self._town_in(text, is_town)
            if found:
                return found
        for text in [*texts, town_text, address_text, *extra]:
            found = self._first(text, self._bare)
            if found:
                return found
        return self._nearest(lat, lon)

    def _ward_in(self, text: str) -> str | None:
        return self._first(text, self._wards)

    @staticmethod
    def _first(text: str, terms: tuple[tuple[str, str], ...]) -> str | None:
        """The id of the term found earliest in `text` (the longest at the same place)."""
        hits = [(text.find(term), -len(term), division) for term, division in terms if term and term in text]
        return min(hits)[2] if hits else None

    def _town_at(self, text: str) -> str | None:
        return next((division for name, division in self._towns if text.startswith(name)), None)

    def _town_in(self, text: str, is_town: bool) -> str | None:
        """The district of the town the text starts with, once the prefecture and the city are
        cut off. 所在地_町字 (`is_town`) is a town already (北方町), unless it starts with the
        city's own name (some files write 市川市中山 there): no other name is cut from it."""
        if not self._towns:
            return None
        rest = _PREFECTURE.sub("", text)
        city = next((c for c in self.cities if rest.startswith(c)), None)
        if city:
            rest = rest[len(city):]
        elif not is_town and (m := _MUNICIPALITY.match(rest)):
            rest = rest[m.end():]
        return self._town_at(rest)

    def _nearest(self, lat: float | None, lon: float | None) -> str | None:
        if self.nearest_km is None or lat is None or lon is None:
            return None
        centred = [(distance_m(lat, lon, *d.centre), d.id) for d in self.items if d.centre is not None]
        if not centred:
            return None
        metres, division = min(centred)
        return division if metres <= self.nearest_km * 1000 else None


def _city_names(messages_path: Path) -> list[str]:
    """The city's name from messages.yaml (`city: {ja: 市川市}`), when there is one."""
    try:
        data = yaml.safe_load(messages_path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return []
    city = data.get("city") if isinstance(data, dict) else None
    name = city.get("ja") if isinstance(city, dict) else city
    return [str(name)] if name else []


def unknown_note(divisions: Divisions, unknown: int, kept: int, what: str) -> str | None:
    """The one report line about kept places whose division was not found (None: all found,
    or the city has no divisions)."""
    if not divisions or not unknown:
        return None
    return (f"{unknown} of {kept} {what} are in no {divisions.word} of settings.yaml ({divisions.names()}) "
            f"by their address: kept, {divisions.word} unknown (they are still found by location)")
