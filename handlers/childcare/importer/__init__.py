"""`citybot import childcare|vacancies` (commands.py): a city's nursery lists -> content/childcare/.

Two sources, neither of them tidy:

* 子育て施設一覧, the municipal standard layout (53 columns; older files have 28, with
  住所/方書 instead of 所在地_*). It lists every childcare place the city knows: nurseries,
  but also 幼稚園, 児童館, 放課後児童クラブ... Only nurseries that take applications
  through the city are imported, classified from the free-text 種別; the rest are
  reported as skipped. 受入年齢 is free text too (`６か月～５歳`, `産休明け～５歳`,
  `満3歳以上`) and becomes the age classes 0-5 a facility takes. Its division (ward or
  district of settings.yaml) is found from 所在地_市区町村, 所在地_町字 and the address
  (bot.importers.divisions); a nursery in none is kept with its division unknown (counted
  once in the report), as are all of them in a city without divisions. 名称_カナ and
  名称_英字 are kept for answers in English and やさしい日本語 (bot.readable); a row without an
  ID gets one made from its name (the same name gives the same id on every import).
* A vacancy table, for which there is no national layout: Yokohama's monthly
  受入可能数 file (a title line with the as-of date, then one row per facility with a
  column per class: numbers, `-`, or symbols such as ○ △ ×) is the most reused; a
  plain `facility_id,age,places` export is the other.

Every row that cannot be used is reported with its physical line and the import goes
on. Nothing is written unless the result validates against the models of places.py, nor
(without --force) when the file was not read whole or would keep fewer than
IMPORT_MIN_SHARE of the current entries (bot.importers.safety). facilities.yaml and the
vacancies.yaml it prunes are written together or not at all.
The written files carry no import date, so importing the same file twice gives the
same bytes (the sample content is checked that way against its CSV files).

parsing.py reads the cells, facilities.py and vacancies.py the two sources, files.py
renders, checks and writes whole files.
"""

from .facilities import import_facilities, load_wards
from .files import (
    Result,
    facilities_from_file,
    load_facilities,
    load_vacancies,
    prune_vacancies,
    render_facilities,
    render_vacancies,
    vacancies_from_file,
    write_file,
)
from .parsing import ImportFailed, classify, parse_ages, parse_as_of, parse_places
from .vacancies import import_vacancies

__all__ = ["ImportFailed", "Result", "classify", "facilities_from_file", "import_facilities", "import_vacancies",
           "load_facilities", "load_vacancies", "load_wards", "parse_ages", "parse_as_of", "parse_places",
           "prune_vacancies", "render_facilities", "render_vacancies", "vacancies_from_file", "write_file"]
