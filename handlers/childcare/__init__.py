"""保育施設の空き: nursery places for a child's age class, and a push when one opens.

The service in one package, plugged into the engine by its Intent and its files:

- chat.py: the intent, 「保育園の空き」 and the search conversation (cards.py draws a
  facility); following.py: 「空きが出たら知らせる」 and the list 「設定」 links to;
- places.py: the content (facilities, the vacancy table, age classes) and the search;
- tables.py: what the bot keeps (places last seen, who follows which facility);
- openings.py: the pushes when a place opens (the clock's job); sync.py runs it right
  after an import;
- importer/ and commands.py: `citybot import childcare|vacancies`;
- admin.py: how /admin names the pushes of this service.

What other code may use is named here.
"""

from . import following  # noqa: F401 - its buttons join the intent
from .chat import intent
from .openings import announce_openings, vacancies_changed
from .places import (
    AGE_CLASSES,
    FacilitiesFile,
    Facility,
    VacanciesFile,
    child_class,
    class_of,
    cohort,
    cohort_for,
    facilities_of,
    fiscal_year,
    vacancies_of,
)
from .tables import ChildcareFollow, ChildcarePlaces, follows_of, record

__all__ = ["AGE_CLASSES", "ChildcareFollow", "ChildcarePlaces", "FacilitiesFile", "Facility", "VacanciesFile",
           "announce_openings", "child_class", "class_of", "cohort", "cohort_for", "facilities_of", "fiscal_year",
           "follows_of", "intent", "record", "vacancies_changed", "vacancies_of"]
