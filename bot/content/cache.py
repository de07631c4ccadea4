"""Content that loaded cleanly, kept by fingerprint so the next start need not load it again.

Parsing and checking the whole folder takes a second or more; a `citybot ask`, a worker
restart or a test that starts the bot again would pay it every time for the same files.
An entry is keyed by everything the result depends on: the bytes of every file in the
folder (images too: the rich-menu check reads them), the source of the code that reads
and checks them (the packages of the models and checks), the library versions and what
the schema asks for. Any edit is a new key, so an entry is never stale; only content that
loaded without a problem is kept, so a broken file is always reported by a full load.

Entries live in this process's memory (a few, the newest) and, given a folder, as pickles
under the instance folder, written by this program (owner-only, written whole then
renamed). A pickle runs code when read, so only one in a folder owned by this user and
writable by nobody else is read; the content folder, which others edit, never holds one.
"""

from __future__ import annotations

import gc
import hashlib
import importlib
import logging
import os
import pickle
import sys
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

import pydantic

if TYPE_CHECKING:
    from .store import ContentSchema

log = logging.getLogger(__name__)

#: Bump when what an entry holds changes shape.
FORMAT = 2  # 2: entries keep the warnings
#: Entries kept in memory (the current version, one being edited, a test's other city...).
IN_MEMORY = 4
#: Pickles kept on disk; older ones only cost space.
ON_DISK = 3

_memory: OrderedDict[str, "Entry"] = OrderedDict()
_memory_lock = threading.Lock()
_code_digests: dict[tuple[str, ...], str] = {}


@dataclass(frozen=True)
class Entry:
    key: str
    version: str
    documents: Mapping[str, Any]
    warnings: tuple[Any, ...] = ()  # bot.content.yamlfile.Problem


class ContentCache:
    """Good loads by key, in memory and (with `folder`) on disk."""

    def __init__(self, folder: Path | None = None):
        self.folder = Path(folder) if folder is not None else None

    def key(self, files: Mapping[str, bytes], schema: "ContentSchema") -> str:
        digest = hashlib.sha256(f"citybot content cache {FORMAT}\0".encode())
        digest.update(_environment().encode())
        digest.update(_code_digest(schema).encode())
        digest.update(_schema_signature(schema).encode())
        for name in sorted(files):
            data = files[name]
            digest.update(f"{name}\0{len(data)}\0".encode())
            digest.update(data)
        return digest.hexdigest()

    def get(self, key: str) -> Entry | None:
        with _memory_lock:
            entry = _memory.get(key)
            if entry is not None:
                _memory.move_to_end(key)
                return entry
        entry = self._read(key)
        if entry is not None:
            _remember(entry)
        return entry

    def put(self, entry: Entry) -> None:
        _remember(entry)
        self._write(entry)

    # -- on disk ---------------------------------------------------------------------------
    def _path(self, key: str) -> Path:
        assert self.folder is not None
        return self.folder / f"{key}.pickle"

    def _read(self, key: str) -> Entry | None:
        if self.folder is None:
            return None
        path = self._path(key)
        try:
            with open(path, "rb") as handle:
                if not (_trusted(os.fstat(handle.fileno())) and _trusted(os.stat(self.folder))):
                    log.warning("content cache %s is not this user's alone: not read", path)
                    return None
                data = handle.read()
        except OSError:
            return None
        enabled = gc.isenabled()
        gc.disable()  # thousands of small objects at once: the collector would only slow it down
        try:
            entry = pickle.loads(data)
        except Exception as exc:  # noqa: BLE001 - a damaged or outdated entry is just a miss
            log.info("content cache %s unreadable (%s): loading the folder", path.name, exc)
            return None
        finally:
            if enabled:
                gc.enable()
        if not isinstance(entry, Entry) or entry.key != key:
            return None
        try:
            os.utime(path)  # the newest used is kept longest
        except OSError:
            pass
        return entry

    def _write(self, entry: Entry) -> None:
        if self.folder is None:
            return
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not _trusted(os.stat(self.folder)):
                log.warning("content cache folder %s is writable by others: not used", self.folder)
                return
            handle, scratch = tempfile.mkstemp(prefix=".entry-", dir=self.folder)  # created 0600
            try:
                with os.fdopen(handle, "wb") as out:
                    pickle.dump(entry, out, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(scratch, self._path(entry.key))
            except BaseException:
                Path(scratch).unlink(missing_ok=True)
                raise
            self._prune(entry.key)
        except (OSError, pickle.PicklingError, TypeError, AttributeError) as exc:
            # a read-only instance folder (or content pickle cannot hold) costs speed, not answers
            log.warning("could not keep content version %s in the cache: %s", entry.version, exc)

    def _prune(self, current: str) -> None:
        assert self.folder is not None
        entries = sorted(self.folder.glob("*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in [p for p in entries if p.stem != current][ON_DISK - 1:]:
            old.unlink(missing_ok=True)


def _remember(entry: Entry) -> None:
    with _memory_lock:
        _memory[entry.key] = entry
        _memory.move_to_end(entry.key)
        while len(_memory) > IN_MEMORY:
            _memory.popitem(last=False)


def _trusted(stat: os.stat_result) -> bool:
    """Owned by the user this process runs as, and writable by no one else."""
    owner = getattr(os, "geteuid", None)
    return (owner is None or stat.st_uid == owner()) and not stat.st_mode & 0o022


def _environment() -> str:
    return f"{sys.version}\0{sys.implementation.cache_tag}\0{pydantic.VERSION}\0{_yaml_version()}\0"


def _yaml_version() -> str:
    """PyYAML's version as its installation records it: importing PyYAML would take longer than
    a start that finds its content here needs (it parses nothing)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("PyYAML")
    except PackageNotFoundError:  # not installed as a distribution (vendored, say): ask the module
        import yaml

        return yaml.__version__


def _name(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', type(obj).__qualname__)}"


def _schema_signature(schema: "ContentSchema") -> str:
    """What the schema asks of each file, and which checks run.

    A check bound to an object (the router's) depends on that object too: its routing
    table (what answers which action, from which score) is part of the signature."""
    parts = [f"file {stem} {_name(model)} {sorted(schema.required_texts.get(stem, ()))}"
             for stem, model in sorted(schema.files.items())]
    parts += [f"folder {folder} {_name(model)}" for folder, model in sorted(schema.folders.items())]
    for prune in schema.prunes:
        parts.append(f"prune {_name(prune)}")
    for check in schema.checks:
        parts.append(f"check {_name(check)}")
        table = getattr(getattr(check, "__self__", None), "table", None)
        if callable(table):
            parts.append(repr(table()))
    return "\n".join(parts)


def _code_digest(schema: "ContentSchema") -> str:
    """The source of every package a model or check of the schema comes from (and of bot)."""
    owners = [*schema.files.values(), *schema.folders.values(), *schema.checks]
    packages = tuple(sorted({"bot", *(_name(obj).partition(".")[0] for obj in owners)} - {"?"}))
    if packages not in _code_digests:  # the code does not change under a running process
        digest = hashlib.sha256()
        for package in packages:
            for path in _source_files(package):
                digest.update(f"{path}\0".encode())
                digest.update(path.read_bytes())
        _code_digests[packages] = digest.hexdigest()
    return _code_digests[packages]


def _source_files(package: str) -> list[Path]:
    module = sys.modules.get(package) or importlib.import_module(package)
    folders = [Path(p) for p in getattr(module, "__path__", [])]
    if not folders:
        origin = getattr(module, "__file__", None)
        return [Path(origin)] if origin else []
    return sorted(path for folder in folders for path in folder.rglob("*.py"))
