"""`citybot import 5374`: a city's data in Code for Japan's "5374" layout -> content/garbage/.

The 5374 `data/` folder holds:

    description.csv  label,sublabel,description,styles,bgcolor       the categories
    area_days.csv    地名,センター,<one column per category>          collection days per area
    target.csv       type|label,name,notice,furigana                 the items
    center.csv       名称,休止開始日,休止終了日                          year-end break per centre
    remarks.csv      ID,注意事項                                       said with every answer

and becomes categories.yaml, items.yaml, areas.yaml and calendar.yaml (handlers/garbage/models.py).

Day notations in area_days.csv, turned into the rules of models.DayRule:

    月 木            -> mon, thu
    水2 水4          -> 2nd wed, 4th wed          (also 第2水)
    隔月20150112     -> every other mon from 2015-01-12
    20261228         -> 2026-12-28                (also 2026/12/28)

Ids: categories are `cat-01`, `cat-02`... in the order they are first met (description.csv,
then the area_days.csv columns, then target.csv); areas are `area-001`... in file order.
Japanese labels have no obvious ASCII spelling, and a number keeps the id stable when the
city rewords a label; the name is in categories.yaml and in a comment atop areas.yaml.

An item name that lists other names (「電気カミソリ・電気ひげそり」, 「おたま(杓子)」) gets
them as aliases (bot.lookup.names), since residents type one of them.

Nothing is written unless the four files validate against the models, nor (without
--force) when a file was not read whole or the items or areas would shrink below
IMPORT_MIN_SHARE of the current files' (bot.importers.safety); then they are written
to temporary files and renamed over the old ones.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import yaml
from pydantic import ValidationError

from bot.importers.csvfiles import CsvError, CsvTable, Report, read_csv
from bot.importers.errors import ImportFailed
from bot.importers.safety import Limits, check, read_source, shrinkage, unreadable
from bot.importers.yamlout import ContentDumper, write_together

from .conversion import Conversion, _Converter, is_collected, parse_days, reading_of  # noqa: F401 - re-exported
from .models import AreasFile, CalendarFile, CategoriesFile, ItemsFile

FILES = ("description.csv", "area_days.csv", "target.csv", "center.csv", "remarks.csv")
OUTPUTS = ("categories.yaml", "items.yaml", "areas.yaml", "calendar.yaml")


def read_folder(src_dir: Path, max_bytes: int = Limits.max_bytes) -> dict[str, bytes]:
    """The 5374 files found in src_dir (or its data/ folder), by lower-case name; a file
    larger than max_bytes raises CsvError (safety.read_source)."""
    folder = Path(src_dir)
    if not _has_files(folder) and _has_files(folder / "data"):
        folder = folder / "data"
    found: dict[str, bytes] = {}
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            if path.is_file() and path.name.lower() in FILES:
                if path.name.lower() not in found:
                    found[path.name.lower()] = read_source(path, max_bytes)
    return found


def _has_files(folder: Path) -> bool:
    return folder.is_dir() and any(p.name.lower() in ("area_days.csv", "target.csv") for p in folder.iterdir())


def convert(files: dict[str, bytes], report: Report | None = None) -> Conversion:
    """Convert the files of one 5374 folder (name -> bytes); every problem goes to the report."""
    conv = Conversion(report=report if report is not None else Report())
    tables = {name: _table(files, name, conv.report) for name in FILES}
    _Converter(conv, tables).run()
    return conv


def _table(files: dict[str, bytes], name: str, report: Report) -> CsvTable | None:
    if name not in files:
        needed = {"area_days.csv": "no areas can be imported", "target.csv": "no items can be imported",
                  "description.csv": "categories are named after the area_days.csv and target.csv columns",
                  "center.csv": "no year-end breaks", "remarks.csv": "no remarks"}
        report.add(name, None, f"missing: {needed[name]}")
        return None
    try:
        return read_csv(files[name], name, report)
    except CsvError as exc:
        report.add(name, exc.line, f"cannot be read: {exc}", fatal=True)
        return None


# -- writing ------------------------------------------------------------------------------------

MODELS = {"categories.yaml": CategoriesFile, "items.yaml": ItemsFile, "areas.yaml": AreasFile,
          "calendar.yaml": CalendarFile}
WHAT = {"categories.yaml": "Garbage categories", "items.yaml": "Garbage items and their categories",
        "areas.yaml": "Areas and their collection days", "calendar.yaml": "Days without collection"}


def render(conv: Conversion, source: str, today: date) -> dict[str, str]:
    """The four YAML texts, each checked by loading it back through the models."""
    if not conv.usable:
        raise ImportFailed("nothing usable: " + ("no items" if not conv.items else "no areas"))
    texts: dict[str, str] = {}
    legend = ["# Category ids:"] + [f"#   {c['id']}: {c['name']['ja'] if isinstance(c['name'], dict) else c['name']}"
                                     for c in conv.categories]
    for name, data in conv.documents().items():
        header = [f"# {WHAT[name]}, imported by `citybot import 5374` from {source} on {today.isoformat()}.",
                  "# Re-importing replaces this file; see the import's output for the rows it left out."]
        if name in ("areas.yaml", "items.yaml"):
            header += legend
        body = yaml.dump(data, Dumper=ContentDumper, allow_unicode=True, sort_keys=False, default_flow_style=False,
                         width=10_000, indent=2)
        texts[name] = "\n".join(header) + "\n" + body
    _check(texts)
    return texts


def _check(texts: dict[str, str]) -> None:
    try:
        loaded = {name: MODELS[name].model_validate(yaml.safe_load(text)) for name, text in texts.items()}
    except (ValidationError, yaml.YAMLError) as exc:
        raise ImportFailed(f"the converted data do not validate: {exc}") from None
    ids = {c.id for c in loaded["categories.yaml"].categories}
    areas = {a.id for a in loaded["areas.yaml"].areas}
    wrong = sorted({i.category for i in loaded["items.yaml"].items} - ids)
    wrong += sorted({c for a in loaded["areas.yaml"].areas for c in a.days} - ids)
    wrong += sorted({a for b in loaded["calendar.yaml"].breaks for a in (b.areas or [])} - areas)
    if wrong:
        raise ImportFailed(f"the converted data refer to unknown ids: {', '.join(wrong)}")


def import_5374(src_dir: Path, out_dir: Path | None, today: date | None = None, *, current: Path | None = None,
                limits: Limits = Limits()) -> Conversion:
    """Read, convert, validate and (when out_dir is given) write. Raises ImportFailed when
    there is nothing usable, safety.Refused when a file was not read whole or the items
    or areas of `current` (the folder written to, default out_dir) would shrink below
    limits.min_share (unless limits.force), CsvError when a file is too large; the
    conversion's report lists every problem either way."""
    conv = convert(read_folder(Path(src_dir), limits.max_bytes))
    try:
        texts = render(conv, str(src_dir), today or date.today())
    except ImportFailed as exc:
        exc.conversion = conv
        raise
    folder = current or out_dir
    reasons = unreadable(conv.report)
    if folder is not None:
        reasons.append(shrinkage("items.yaml", "items", _current(Path(folder) / "items.yaml", "items"),
                                 [i["name"] for i in conv.items], limits.min_share))
        reasons.append(shrinkage("areas.yaml", "areas", _current(Path(folder) / "areas.yaml", "areas"),
                                 [a["name"] for a in conv.areas], limits.min_share))
    check(reasons, limits, conv.report, conv.summary())
    if out_dir is not None:
        write_together(texts, Path(out_dir))
    return conv


def _current(path: Path, key: str) -> list[tuple[str, str]]:
    """(name, name) of each item or area of the current file; [] when there is none."""
    try:
        entries = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get(key) or []
        names = [e["name"] if isinstance(e["name"], str) else e["name"]["ja"] for e in entries]
    except (OSError, yaml.YAMLError, AttributeError, KeyError, TypeError):
        return []
    return [(str(n), str(n)) for n in names]
