"""What a service builds from one content version (an index, groups of items), built once.

Building takes a moment (readings, tokenising), so it happens when content loads (the
intents' `warm`) and is kept until the next version replaces it; only the newest version
is kept, as only it is served.
"""

from __future__ import annotations

import functools
import threading
from typing import Callable, Generic, TypeVar

from .store import Content

T = TypeVar("T")


class PerVersion(Generic[T]):
    """`build(content)`, called once per content version; thread-safe."""

    def __init__(self, build: Callable[[Content], T]):
        self._build = build
        self._lock = threading.Lock()
        self._held: dict[str, T] = {}
        functools.update_wrapper(self, build)

    def __call__(self, content: Content) -> T:
        with self._lock:
            if content.version not in self._held:
                self._held.clear()
                self._held[content.version] = self._build(content)
            return self._held[content.version]

    def clear(self) -> None:
        with self._lock:
            self._held.clear()


def per_version(build: Callable[[Content], T]) -> PerVersion[T]:
    return PerVersion(build)
