"""The cyclic garbage collector paused while citybot's modules import, and what they built
set aside for good.

Importing citybot (SQLAlchemy, pydantic, every service's tables, content models and
intents) creates a few hundred thousand objects that all live as long as the process.
The collector, triggered by allocations, walks them again and again and finds nothing to
free: about a fifth of a `citybot ask` start, its full pass at exit included. Paused
while they import and then frozen (gc.freeze: never examined again, still freed by
reference counting like any object), they cost nothing more. Only import time uses this:
a module is imported once per process, so the few garbage cycles frozen with it are
bounded, where freezing in something that runs again (a test's bootstrap) would keep
each run's cycles for good.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
