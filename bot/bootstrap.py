"""One wiring for every entry point: web, CLI (and later the clock and the worker).

`bootstrap(config)` builds the database engine, the content store, the router with every
handler module registered, the messenger and the dispatcher. Entry points differ only in
what they do with the result; tests pass their own config (and clock) the same way.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from .config import Config
from .content.models import MessagesContent, RichMenuContent
from .content.store import ContentSchema, ContentStore
from .db import make_engine, make_session_factory
from .dispatch import Dispatcher
from .lookup.dictionary import remember_readings
from .messenger import Messenger
from .router import Intent, Router

if TYPE_CHECKING:
    from .spool import Spool


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Services:
    config: Config
    engine: Engine
    sessions: sessionmaker
    router: Router
    content: ContentStore
    messenger: Messenger
    now: Callable[[], datetime] = utcnow
    dispatcher: Dispatcher = field(init=False)
    _spool: Spool | None = field(default=None, init=False, repr=False)
    _spool_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        self.dispatcher = Dispatcher(self)

    @property
    def spool(self) -> Spool:
        """Webhook bodies not yet split into events (made on first use: `citybot ask` has none)."""
        with self._spool_lock:
            if self._spool is None:
                from .spool import Spool

                self._spool = Spool.beside(self.config.sqlalchemy_url, self.engine, self.config.db_pool_size)
            return self._spool

    def close(self) -> None:
        if self._spool is not None:
            self._spool.dispose()
        self.engine.dispose()


def handler_intents(package: str = "handlers") -> list[Intent]:
    """Every `intent` defined by a module of the handlers package, in name order; a
    service package with more than one lists the others in `intents`, after `intent`."""
    pkg = importlib.import_module(package)
    intents = []
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{package}.{info.name}")
        for intent in (getattr(module, "intent", None), *getattr(module, "intents", ())):
            if isinstance(intent, Intent):
                intents.append(intent)
    return intents


def build_router(config: Config, intents: list[Intent] | None = None) -> Router:
    router = Router(fuzzy_accept=config.fuzzy_accept, fuzzy_suggest=config.fuzzy_suggest)
    for intent in intents if intents is not None else handler_intents():
        router.include(intent)
    router.verify()
    return router


def content_schema(router: Router) -> ContentSchema:
    from .notices import Notice, SegmentsContent, check_notices
    from .richmenu import check_rich_menu_images

    schema = ContentSchema()
    schema.add("messages", MessagesContent)
    schema.add("richmenu", RichMenuContent)
    schema.add("segments", SegmentsContent)
    schema.folders["notices"] = Notice
    schema.checks.append(check_rich_menu_images)
    schema.checks.append(check_notices)
    router.register_content(schema)
    schema.prunes.append(router.unoffered_buttons)
    return schema


def bootstrap(config: Config | None = None, *, now: Callable[[], datetime] = utcnow,
              intents: list[Intent] | None = None, warm: bool = True) -> Services:
    """`warm`: build what the intents derive from the content (indexes) as it loads, as a
    process that answers residents must; a one-shot `citybot ask` passes False and builds
    only what its question needs, when it needs it (the same objects, a second sooner)."""
    config = config or Config.from_env()
    remember_readings(Path(config.instance_dir) / "content-cache" / "readings.json")
    router = build_router(config, intents)
    store = ContentStore(Path(config.content_dir), content_schema(router), config.content_reload_seconds,
                         shelf=Path(config.instance_dir) / "content-good", warm=router.warm if warm else None,
                         cache=Path(config.instance_dir) / "content-cache")
    engine = make_engine(config.sqlalchemy_url, config.db_pool_size)
    messenger = Messenger(config.line_api_base, config.data_api_base, config.access_token, config.line_timeout)
    return Services(config=config, engine=engine, sessions=make_session_factory(engine), router=router,
                    content=store, messenger=messenger, now=now)
