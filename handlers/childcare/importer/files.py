"""Whole files: facilities.yaml and vacancies.yaml rendered, checked against their models,
compared with the current ones (bot.importers.safety) and written together or not at all."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Callable

import yaml
from pydantic import ValidationError

from bot.importers.csvfiles import Report
from bot.importers.divisions import Divisions
from bot.importers.safety import Limits, check, read_source, shrinkage, unreadable
from bot.importers.yamlout import ContentDumper, write_file as _write_file, write_together

from ..places import FacilitiesFile, VacanciesFile
from .facilities import import_facilities
from .parsing import TYPE_NAMES, FacilityLike, ImportFailed
from .vacancies import import_vacancies


# -- writing ------------------------------------------------------------------------------------
class _Flow(list):
    """A short list written on one line: [0, 1, 2]."""


class _FlowMap(dict):
    """A short mapping written on one line: {0: 0, 1: 2}."""


class _ChildcareDumper(ContentDumper):
    pass


_ChildcareDumper.add_representer(_Flow, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True))
_ChildcareDumper.add_representer(_FlowMap, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v.items(),
                                                                            flow_style=True))


def _dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_ChildcareDumper, allow_unicode=True, sort_keys=False, default_flow_style=False,
                     width=10_000, indent=2)


def render_facilities(facilities: list[dict], source: str) -> str:
    """facilities.yaml's text, checked by loading it back through FacilitiesFile."""
    if not facilities:
        raise ImportFailed("nothing usable: no nursery could be imported")
    header = [f"# Nurseries taking applications through the city, written by `citybot import childcare` "
              f"from {source}.",
              "# Re-importing replaces this file; the import's output lists the rows it left out.",
              f"# type: {TYPE_NAMES}.",
              "# ward: a division (ward or district) of settings.yaml, left out when unknown; ages: the age classes "
              "(年齢クラス) taken, read from 受入年齢 (ages_text); kana, name_en: 名称_カナ, 名称_英字."]
    rows = [{k: _Flow(v) if k == "ages" else v for k, v in f.items()} for f in facilities]
    text = "\n".join(header) + "\n" + _dump({"facilities": rows})
    _check(FacilitiesFile, text)
    return text


def _usable(as_of: date | None, places: dict[str, dict[int, int]]) -> None:
    if as_of is None:
        raise ImportFailed("no as-of date: the file has none, give it with --as-of YYYY-MM-DD")
    if not places:
        raise ImportFailed("nothing usable: no facility of the table is in facilities.yaml")


def render_vacancies(as_of: date | None, places: dict[str, dict[int, int]], source: str) -> str:
    """vacancies.yaml's text, checked by loading it back through VacanciesFile."""
    _usable(as_of, places)
    header = [f"# Nursery vacancies (受入可能数) as of {as_of.isoformat()}, written by `citybot import vacancies` "
              f"from {source}.",
              "# places: facility id -> {age class: places}; a class left out has no place to offer.",
              "# Re-importing replaces this file; the import's output lists the rows it left out."]
    data = {"as_of": as_of, "source": source,
            "places": {fid: _FlowMap(sorted(classes.items())) for fid, classes in places.items()}}
    text = "\n".join(header) + "\n" + _dump(data)
    _check(VacanciesFile, text)
    return text


def _check(model, text: str) -> None:
    try:
        model.model_validate(yaml.safe_load(text))
    except (ValidationError, yaml.YAMLError) as exc:
        raise ImportFailed(f"the converted data do not validate: {exc}") from None


def write_file(text: str, out: Path) -> None:
    """Written whole or not at all (a temporary file renamed over the old one), readable
    by the bot's processes (the temporary file is created owner-only)."""
    _write_file(text, Path(out))


# -- whole files, for the command --------------------------------------------------------------
def load_facilities(path: Path) -> FacilitiesFile:
    try:
        return FacilitiesFile.model_validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ImportFailed(f"cannot read the facilities of {path} (import them first with "
                           f"`citybot import childcare`): {exc}") from None


def prune_vacancies(path: Path, facilities: FacilitiesFile) -> tuple[str | None, list[str], int]:
    """Keep vacancies.yaml consistent with newly imported facilities: drop the facilities
    that are gone and the classes they no longer take (the content would not load
    otherwise). (the new text, None when nothing changes; what was dropped, as lines to
    print; how many facilities lose their places). Nothing is written here: the caller
    writes it together with facilities.yaml."""
    table = load_vacancies(path)
    if table is None:
        return None, [], 0
    known = facilities.by_id()
    kept: dict[str, dict[int, int]] = {}
    dropped: list[str] = []
    gone_facilities = 0
    for facility_id, classes in table.places.items():
        facility = known.get(facility_id)
        if facility is None:
            dropped.append(f"{facility_id}: no longer a facility")
            gone_facilities += 1
            continue
        kept[facility_id] = {age: n for age, n in classes.items() if age in facility.ages}
        gone = sorted(set(classes) - set(kept[facility_id]))
        if gone:
            dropped.append(f"{facility.name}: class(es) {gone} no longer taken")
    if not dropped:
        return None, [], 0
    if not kept:
        raise ImportFailed(f"{path.name} would keep no facility (none of its facilities is in the new file): "
                           f"move it away, import the facilities, then the vacancy table")
    return render_vacancies(table.as_of, kept, table.source), dropped, gone_facilities


FUTURE_DAYS = 62  # a table is published at most a month or two ahead of its date


def load_vacancies(path: Path) -> VacanciesFile | None:
    """The current table, if there is a readable one (a broken file is simply replaced)."""
    try:
        return VacanciesFile.model_validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError):
        return None


@dataclass
class Result:
    report: Report
    text: str
    summary: str
    pruned: list[str] = field(default_factory=list)   # vacancies.yaml lines dropped with the facilities


def _entries(path: Path | None, load, listed) -> list[tuple[str, str]]:
    """(id, name) of each entry of the current file, [] when there is none to compare with."""
    if path is None or not Path(path).is_file():
        return []
    try:
        return listed(load(path))
    except ImportFailed:
        return []


def facilities_from_file(src: Path, wards: "Divisions | list[tuple[str, list[str]]]", out: Path | None,
                         report: Report | None = None, *, current: Path | None = None,
                         limits: Limits = Limits()) -> Result:
    """Import a 子育て施設一覧 file; write facilities.yaml to `out` (None: a dry run), and
    with it the vacancies.yaml beside it, pruned of the facilities that are gone.
    `current` (default `out`) is the file the result is compared with.

    Raises ImportFailed (with the report as .conversion) when nothing usable came out,
    safety.Refused when the file was not read whole or too much would be removed (unless
    limits.force), csvfiles.CsvError when the file is too large."""
    report = report if report is not None else Report()
    current = Path(current or out) if (current or out) is not None else None
    facilities = import_facilities(read_source(Path(src), limits.max_bytes), Path(src).name, wards, report)
    skipped = len({p.line for p in report if "row skipped" in p.message})
    summary = f"{len(facilities)} facilities, {skipped} rows skipped, {len(report)} problems"
    try:
        text = render_facilities(facilities, Path(src).name)
    except ImportFailed as exc:
        exc.conversion = Result(report, "", summary)
        raise
    reasons = unreadable(report)
    before = _entries(current, load_facilities, lambda f: [(x.id, x.name) for x in f.facilities])
    reasons.append(shrinkage(current.name if current else "facilities.yaml", "facilities", before,
                             [f["id"] for f in facilities], limits.min_share))
    texts = {Path(out).name: text} if out is not None else {}
    pruned: list[str] = []
    vacancies = current.parent / "vacancies.yaml" if current is not None else None
    if vacancies is not None and vacancies.is_file():
        new = FacilitiesFile.model_validate(yaml.safe_load(text))
        try:
            vacancy_text, pruned, lost = prune_vacancies(vacancies, new)
        except ImportFailed as exc:
            exc.conversion = Result(report, "", summary)
            raise
        if lost and any(reasons):
            reasons.append(f"{vacancies.name} would lose the places of {lost} facilities")
        if vacancy_text is not None and out is not None:
            texts[vacancies.name] = vacancy_text
    check(reasons, limits, report, summary)
    if out is not None:
        write_together(texts, Path(out).parent)
    return Result(report, text, summary, pruned)


def vacancies_from_file(src: Path, facilities: list[FacilityLike], out: Path | None, *, as_of: date | None = None,
                        report: Report | None = None, previous: VacanciesFile | None = None, partial: bool = False,
                        force: bool = False, today: date | None = None, limits: Limits | None = None,
                        data: bytes | None = None) -> Result:
    """Import a vacancy table; write vacancies.yaml to `out` (None: a dry run).

    A table replaces the whole previous one, so it must list every facility (a facility
    left out would look full to residents, and its places coming back next month would
    look like an opening): refused unless `partial`, which keeps the previous places of
    the facilities it does not list. A table older than `previous` is refused unless
    `force` (residents would see last month's places), as is one not read whole (bad
    quoting, a class column missing) or keeping places for fewer than
    limits.min_share of the previous table's facilities (bot.importers.safety). `data`:
    the file's bytes when already read (else read here, within limits.max_bytes)."""
    limits = limits if limits is not None else Limits(force=force)
    force = force or limits.force
    report = report if report is not None else Report()
    if data is None:
        data = read_source(Path(src), limits.max_bytes)
    day, places = import_vacancies(data, Path(src).name, facilities, report, as_of=as_of)
    with_places = sum(1 for classes in places.values() if any(classes.values()))
    summary = (f"{len(places)} facilities ({with_places} with places), as of "
               f"{day.isoformat() if day else '?'}, {len(report)} problems")
    def refused(message: str) -> ImportFailed:
        return ImportFailed(message, Result(report, "", summary))

    try:
        _usable(day, places)  # no date, nothing usable: said first
    except ImportFailed as exc:
        raise refused(str(exc)) from None
    assert day is not None
    check(unreadable(report), limits, report, summary)   # before "not every facility": that would be why
    missing = [f for f in facilities if f.id not in places]
    if today is not None and day > today + timedelta(days=FUTURE_DAYS) and not force:
        raise refused(f"the table is as of {day.isoformat()}, more than {FUTURE_DAYS} days ahead (a typo?): "
                      "nothing written (--force takes it anyway)")
    if previous is not None and day < previous.as_of and not force:
        raise refused(f"the table is as of {day.isoformat()}, older than the current one "
                      f"({previous.as_of.isoformat()}): nothing written (--force replaces it anyway)")
    if missing and not partial:
        raise refused(f"{len(missing)} of {len(facilities)} facilities are not in the table "
                      f"({', '.join(f.name for f in missing[:3])}{' ...' if len(missing) > 3 else ''}): a table "
                      "lists every facility, 0 where full; --partial keeps their current places")
    if partial and previous is not None:
        kept = {f.id: dict(previous.places[f.id]) for f in missing if f.id in previous.places}
        places = {**kept, **places}
        if kept and previous.as_of < day:
            day = previous.as_of  # the table is only as new as its oldest figures
        summary += f"; {len(kept)} kept from the current table (as of {previous.as_of.isoformat()})"
    if previous is not None:
        names = {f.id: f.name for f in facilities}
        before = [(fid, names.get(fid, fid)) for fid in previous.places]
        check([shrinkage(Path(out).name if out else "vacancies.yaml", "facilities", before, places,
                         limits.min_share)], limits, report, summary)
    return _written(lambda: render_vacancies(day, places, Path(src).name), out, report, summary)


def _written(render: Callable[[], str], out: Path | None, report: Report, summary: str) -> Result:
    """The file's text (written to `out` unless a dry run); a result that does not
    validate carries the report and summary, so the command can print them."""
    try:
        text = render()
    except ImportFailed as exc:
        exc.conversion = Result(report, "", summary)
        raise
    if out is not None:
        write_file(text, out)
    return Result(report, text, summary)
