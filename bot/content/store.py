"""Loading the content folder into one immutable snapshot, and swapping it safely.

Staff change YAML while the bot runs. A change is loaded completely and checked (each file
against its model, then the checks that span files, such as postback actions pointing at
real routes) before it replaces the snapshot in use; a broken change is reported (log,
/healthz, `citybot content check`) and the last good snapshot keeps serving.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from pydantic import BaseModel, ValidationError

from .cache import ContentCache, Entry
from .easy import nested_brackets
from .lastgood import LastGood
from .models import IntentContent, Text
from .yamlfile import Problem, YamlDocument, YamlError, load_yaml

log = logging.getLogger(__name__)

CrossCheck = Callable[["Content", Mapping[str, YamlDocument]], Iterable[Problem]]
#: documents -> (documents without what cannot be offered here, a warning for each thing left out)
Prune = Callable[[Mapping[str, BaseModel], Mapping[str, YamlDocument]], tuple[dict[str, BaseModel], list[Problem]]]


class ContentError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class ContentSchema:
    """Which file holds which model; intents add theirs when they register."""

    files: dict[str, type[BaseModel]] = field(default_factory=dict)
    required_texts: dict[str, frozenset[str]] = field(default_factory=dict)
    checks: list[CrossCheck] = field(default_factory=list)
    folders: dict[str, type[BaseModel]] = field(default_factory=dict)  # "notices" -> every notices/*.yaml
    # run on the checked documents before the cross-file checks: the router's leaves out the
    # buttons of services that are not installed (bot/routes.py), warning rather than failing
    prunes: list[Prune] = field(default_factory=list)

    def model_for(self, stem: str) -> type[BaseModel] | None:
        if stem in self.files:
            return self.files[stem]
        folder, _, name = stem.rpartition("/")
        return self.folders.get(folder) if name else None

    def add(self, stem: str, model: type[BaseModel], texts: Iterable[str] = ()) -> None:
        if stem in self.files:
            raise ValueError(f"content file {stem}.yaml is claimed twice")
        self.files[stem] = model
        self.required_texts[stem] = frozenset(texts)


@dataclass(frozen=True)
class Content:
    """One consistent version of everything staff wrote; handlers read only this."""

    root: Path
    version: str
    documents: Mapping[str, BaseModel]
    warnings: tuple[Problem, ...] = ()  # what was left out; `citybot content check` prints them

    def __getitem__(self, stem: str) -> Any:
        return self.documents[stem]

    def text(self, key: str, lang: str, **values: Any) -> str:
        """`text("help.body", "en", phone=...)`: the text in the resident's language.

        `{city}` is always available, and `{division}` / `{Division}`: the word the city's
        settings.yaml gives its divisions (区, 地区; ward, district), so that one text serves
        every city; `{examples}` lists the intent's own `examples` (checked to be answerable);
        unknown placeholders are left as written.
        """
        stem = key.partition(".")[0]
        examples = getattr(self.documents.get(stem), "examples", None)
        if examples is not None and "examples" not in values:
            words = getattr(examples, lang if lang in ("ja", "en", "easy_ja") else "ja") or examples.ja
            values["examples"] = (", " if lang == "en" else "、").join(words)
        return self.fill(self.text_of(key).get(lang), lang, **values)

    def fill(self, template: str, lang: str, /, **values: Any) -> str:
        """Any content string (a label, say) with {city}, {division} and `values` put in."""
        return template.format_map(_Keep({"city": self.city(lang), **self.division_words(lang), **values}))

    def division_words(self, lang: str) -> dict[str, str]:
        """{division: 区, Division: 区} in the resident's language (ward/Ward in English), from
        settings.yaml's `divisions.word`; nothing when no settings are loaded."""
        settings = self.documents.get("settings")
        divisions = getattr(settings, "divisions", None)
        if divisions is None:
            return {}
        word = divisions.word.get(lang)
        return {"division": word, "Division": word[:1].upper() + word[1:]}

    def city(self, lang: str) -> str:
        messages = self.documents.get("messages")
        return messages.city.get(lang) if messages is not None else ""  # type: ignore[attr-defined]

    def text_of(self, key: str) -> Text:
        stem, _, name = key.partition(".")
        return self.documents[stem].texts[name]  # type: ignore[attr-defined]

    def intents(self) -> dict[str, IntentContent]:
        return {k: v for k, v in self.documents.items() if isinstance(v, IntentContent)}

    def folder(self, name: str) -> dict[str, Any]:
        """Documents of a folder (e.g. "notices"), keyed by file name without .yaml."""
        prefix = name.rstrip("/") + "/"
        return {stem[len(prefix):]: doc for stem, doc in sorted(self.documents.items()) if stem.startswith(prefix)}


class _Keep(dict):
    """str.format_map that leaves unknown {placeholders} as they are instead of failing."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def content_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.yaml") if p.is_file())


def fingerprint(root: Path) -> str:
    digest = hashlib.sha1()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.relative_to(root)}\0{stat.st_mtime_ns}\0{stat.st_size}\n".encode())
    return digest.hexdigest()


def load_content(root: Path, schema: ContentSchema, cache: ContentCache | None = None) -> Content:
    """Load and check everything; raise ContentError listing every problem found.

    With a `cache`, files that loaded before (the same bytes, the same code) are not
    parsed and checked again; what is parsed is always what the key was made from."""
    root = Path(root)
    if not root.is_dir():
        raise ContentError([Problem(str(root), 1, "content folder not found")])
    files = _read_files(root)
    key = cache.key(files, schema) if cache is not None else ""
    if cache is not None and (entry := cache.get(key)) is not None:
        return Content(root=root, version=entry.version, documents=dict(entry.documents), warnings=entry.warnings)
    content = _load(root, schema, files)
    if cache is not None:
        cache.put(Entry(key=key, version=content.version, documents=dict(content.documents),
                        warnings=content.warnings))
    return content


def _read_files(root: Path) -> dict[str, bytes]:
    """Every file of the folder by its name in it, read once: the cache key and the loading
    are made from these same bytes, so a file changed meanwhile cannot be cached stale."""
    return {path.relative_to(root).as_posix(): path.read_bytes()
            for path in sorted(p for p in root.rglob("*") if p.is_file())}


def _load(root: Path, schema: ContentSchema, files: Mapping[str, bytes]) -> Content:
    problems: list[Problem] = []
    documents: dict[str, BaseModel] = {}
    sources: dict[str, YamlDocument] = {}
    digest = hashlib.sha1()
    seen: set[str] = set()
    for name in [name for name in files if name.endswith(".yaml")]:  # in content_files() order
        stem = name[: -len(".yaml")]
        seen.add(stem)
        digest.update(name.encode() + b"\0" + files[name])
        model = schema.model_for(stem)
        if model is None:
            known = sorted([*schema.files, *(f"{folder}/*" for folder in schema.folders)])
            problems.append(Problem(name, 1, f"no intent or core part reads this file (known: {', '.join(known)})"))
            continue
        try:
            doc = load_yaml(root / name, name, files[name])
        except YamlError as exc:
            problems.append(exc.problem)
            continue
        sources[stem] = doc
        try:
            documents[stem] = model.model_validate(doc.data if doc.data is not None else {})
        except ValidationError as exc:
            problems.extend(_problems_from(doc, exc))
            continue
        problems.extend(_missing_texts(doc, documents[stem], schema.required_texts.get(stem, frozenset())))
    for stem in sorted(set(schema.files) - seen):
        problems.append(Problem(f"{stem}.yaml", 1, "file is missing"))
    warnings: list[Problem] = []
    for prune in schema.prunes:
        documents, left_out = prune(documents, sources)
        warnings += left_out
    content = Content(root=root, version=digest.hexdigest()[:12], documents=documents,
                      warnings=tuple(sorted(warnings, key=lambda p: (p.file, p.line))))
    problems.extend(_bad_placeholders(sources, documents))
    problems.extend(_nested_in_easy_japanese(sources, documents))
    if not problems:
        for check in schema.checks:
            problems.extend(check(content, sources))
    if problems:
        raise ContentError(sorted(problems, key=lambda p: (p.file, p.line)))
    return content


def _problems_from(doc: YamlDocument, exc: ValidationError) -> list[Problem]:
    out = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        where = ".".join(str(part) for part in loc) or "(top)"
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            message = "is required"
        elif err["type"] == "extra_forbidden":
            message = "is not a known field (typo?)"
        out.append(doc.problem(loc, f"{where}: {message}"))
    return out


def _bad_placeholders(sources: Mapping[str, YamlDocument], documents: Mapping[str, BaseModel]) -> list[Problem]:
    """A stray `{` would crash the text at the moment a resident needs it: catch it here."""
    problems = []
    for stem, model in documents.items():
        for loc, value in _texts_in(model.model_dump()):
            for lang in ("ja", "en", "easy_ja"):
                try:
                    value[lang].format_map(_Keep())
                except (ValueError, IndexError, AttributeError) as exc:
                    problems.append(sources[stem].problem(loc + (lang,), f"{lang}: broken {{placeholder}} ({exc})"))
    return problems


def _nested_in_easy_japanese(sources: Mapping[str, YamlDocument], documents: Mapping[str, BaseModel]) -> list[Problem]:
    return [sources[stem].problem(loc + ("easy_ja",), "easy_ja: a bracket inside a bracket is hard to follow in "
                                                      "やさしい日本語; keep to one level (「…」 or （…）, not both)")
            for stem, model in documents.items() for loc, value in _texts_in(model.model_dump())
            if nested_brackets(value["easy_ja"])]


def _texts_in(data: Any, loc: tuple = ()) -> Iterable[tuple[tuple, dict[str, str]]]:
    if isinstance(data, dict):
        if set(data) == {"ja", "en", "easy_ja"} and all(isinstance(v, str) for v in data.values()):
            yield loc, data
            return
        for key, value in data.items():
            yield from _texts_in(value, loc + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _texts_in(value, loc + (index,))


def _missing_texts(doc: YamlDocument, model: BaseModel, required: frozenset[str]) -> list[Problem]:
    texts = getattr(model, "texts", {})
    return [doc.problem(("texts",), f"texts.{name}: is required by the handler") for name in sorted(required - texts.keys())]


class ContentStore:
    """The snapshot in use, reloaded when files change and only if the change is good.

    With a `shelf` (a folder for local state), every good version is also copied there,
    and a process that starts on broken files serves the last good copy instead, reporting
    the break; only a folder that never loaded refuses to start.

    Versions that loaded are remembered by fingerprint (bot/content/cache.py): in memory,
    and with a `cache` folder on disk too, so a restart on the same files starts at once."""

    def __init__(self, root: Path, schema: ContentSchema, reload_seconds: float = 2.0,
                 clock: Callable[[], float] = time.monotonic, shelf: Path | None = None,
                 warm: Callable[[Content], None] | None = None, cache: Path | None = None):
        self.root = Path(root)
        self.schema = schema
        self._cache = ContentCache(cache)
        self.reload_seconds = reload_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._last_good = LastGood(shelf, self.root) if shelf is not None else None
        # what services build from a version (the garbage item index, say) is built here, at
        # start and on reload before the swap, never inside a resident's request
        self._warm = warm
        self._fingerprint = fingerprint(self.root) if self.root.is_dir() else ""
        self.problems: list[Problem] = []
        self._content = self._first_load()
        self._checked_at = clock()
        self.loaded_at = datetime.now(timezone.utc)

    def _first_load(self) -> Content:
        try:
            content = load_content(self.root, self.schema, self._cache)
        except ContentError as exc:
            copy = self._last_good.latest() if self._last_good else None
            if copy is None:
                raise  # never loaded here: nothing good to fall back on, so fail loudly
            content = load_content(copy, self.schema, self._cache)
            self.problems = exc.problems
            log.error("content is broken; serving the last good version %s kept in %s", content.version, copy)
            for problem in exc.problems:
                log.error("content not loaded: %s", problem)
            return self._warmed(content)
        if self._last_good:
            self._last_good.keep(content.version)
        return self._warmed(content)

    def _warmed(self, content: Content) -> Content:
        for warning in content.warnings:
            log.warning("content: %s", warning)
        if self._warm is not None:
            self._warm(content)
        return content

    def current(self) -> Content:
        if self.reload_seconds > 0 and self._clock() - self._checked_at >= self.reload_seconds:
            self.reload_if_changed()
        return self._content

    def reload_if_changed(self) -> bool:
        """True when a new snapshot was taken into use."""
        if not self._lock.acquire(blocking=False):
            return False  # another thread is already looking
        try:
            self._checked_at = self._clock()
            current = fingerprint(self.root) if self.root.is_dir() else ""
            if current == self._fingerprint:
                return False
            self._fingerprint = current
            try:
                content = load_content(self.root, self.schema, self._cache)
            except ContentError as exc:
                self.problems = exc.problems
                for problem in exc.problems:
                    log.error("content not reloaded: %s", problem)
                return False
            self._content, self.problems = self._warmed(content), []
            self.loaded_at = datetime.now(timezone.utc)
            if self._last_good:
                self._last_good.keep(content.version)
            log.info("content reloaded, version %s", content.version)
            return True
        finally:
            self._lock.release()

    def status(self) -> dict[str, Any]:
        return {
            "version": self._content.version,
            "loaded_at": self.loaded_at.isoformat(),
            "ok": not self.problems,
            "serving": "last good copy" if self._content.root != self.root else "content folder",
            "errors": [str(p) for p in self.problems],
        }
