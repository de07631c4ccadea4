"""A copy on disk of the last content folder that loaded, so a restart survives a bad edit.

A running server keeps its last good snapshot in memory; a process that starts while a
file is broken has none. Without this copy, one stray bracket in a YAML file plus a
restart (a deploy, a crash, gunicorn replacing a worker) leaves the city with no bot at
all. Each content folder gets its own shelf (keyed by its path), each good version its own
folder, written whole before it is named, so two processes starting at once, or a process
killed while copying, never leave a half copy behind.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

log = logging.getLogger(__name__)

#: Versions kept per content folder: the newest is used, older ones only cost disk.
KEEP_VERSIONS = 3
LATEST = "LATEST"


class LastGood:
    """The shelf of good copies for one content folder, under the instance folder."""

    def __init__(self, shelf_root: Path, content_root: Path):
        key = hashlib.sha1(str(Path(content_root).resolve()).encode()).hexdigest()[:12]
        self.shelf = Path(shelf_root) / key
        self.content_root = Path(content_root)

    def keep(self, version: str) -> None:
        """Copy the folder as loaded; a version already kept is not copied again."""
        target = self.shelf / version
        try:
            if not target.is_dir():
                self.shelf.mkdir(parents=True, exist_ok=True)
                scratch = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=self.shelf))
                shutil.copytree(self.content_root, scratch / "content")
                try:
                    os.rename(scratch / "content", target)
                except OSError:  # another process kept the same version first
                    pass
                shutil.rmtree(scratch, ignore_errors=True)
            self._write_latest(version)
            self._prune(version)
        except OSError as exc:  # a read-only instance folder costs the safety net, not the bot
            log.warning("could not keep a copy of good content version %s: %s", version, exc)

    def latest(self) -> Path | None:
        try:
            version = (self.shelf / LATEST).read_text(encoding="utf-8").strip()
        except OSError:
            return None
        folder = self.shelf / version
        return folder if version and folder.is_dir() else None

    def _write_latest(self, version: str) -> None:
        handle, scratch = tempfile.mkstemp(prefix=".latest-", dir=self.shelf)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(version + "\n")
        os.replace(scratch, self.shelf / LATEST)

    def _prune(self, current: str) -> None:
        folders = [p for p in self.shelf.iterdir() if p.is_dir()]
        versions = sorted((p for p in folders if not p.name.startswith(".")), key=lambda p: p.stat().st_mtime,
                          reverse=True)
        stale_scratch = [p for p in folders if p.name.startswith(".") and time.time() - p.stat().st_mtime > 3600]
        for old in [v for v in versions if v.name != current][KEEP_VERSIONS - 1:] + stale_scratch:
            shutil.rmtree(old, ignore_errors=True)
