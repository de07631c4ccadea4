"""Fixtures shared by every test: a fake LINE platform, a database, the bot, a resident.

Tests read like a conversation:

    def test_help(chat):
        taro = chat.resident()
        assert "使い方" in taro.says("ヘルプ")[0]["text"]

`taro.says(...)` signs a real webhook body, posts it to /callback, waits for the event
to be processed and returns what the fake LINE platform delivered to Taro. After every
test, each request the bot sent through line-bot-sdk must have passed the platform's
validation against LINE's OpenAPI spec.
"""

from __future__ import annotations

import os
import shutil
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text

from bot import create_app, migrate
from bot.bootstrap import bootstrap
from bot.config import PROJECT_ROOT, Config
from bot.fakeline import FakeLineSettings
from bot.fakeline import webhook_events as ev
from bot.fakeline.server import start_fake_line

SECRET = "test-channel-secret-0123456789ab"
TOKEN = "test-channel-access-token"
OPENAPI_DIR = os.environ.get("LINE_OPENAPI_DIR") or str(PROJECT_ROOT / "bot" / "fakeline" / "openapi")
SDK_AGENT = "line-bot-sdk-python"


# -- CI guards: contract tests may not be skipped ---------------------------------------------
def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    required = (item.get_closest_marker("contract") and os.environ.get("CITYBOT_REQUIRE_CONTRACT")) or \
               (item.get_closest_marker("browser") and os.environ.get("CITYBOT_REQUIRE_BROWSER"))
    if required and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"required test was skipped: {report.longrepr}"


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives Chromium with Playwright")
    config.addinivalue_line("markers", "sends_invalid_request_on_purpose: the spec check after the test is off")


# -- time ---------------------------------------------------------------------------------------
class Clock:
    """The bot's `now`, movable by tests (reply tokens expire, conversations lapse)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(timezone.utc) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


# -- the fake LINE platform ------------------------------------------------------------------
@pytest.fixture(scope="session")
def fake_line():
    running = start_fake_line(FakeLineSettings(access_token=TOKEN, openapi_dir=OPENAPI_DIR))
    yield running
    running.stop()


@pytest.fixture
def line(fake_line, request):
    """The platform's state, fresh for each test; checks the bot's requests afterwards
    (a test that makes the bot send a bad request on purpose says so with a marker)."""
    state = fake_line.state
    state.reset()
    yield state
    if request.node.get_closest_marker("sends_invalid_request_on_purpose"):
        return
    refused = [r for r in state.requests if str(r.get("userAgent", "")).startswith(SDK_AGENT) and r.get("valid") is False]
    assert not refused, f"the bot sent requests LINE would refuse: {refused}"


# -- the database -----------------------------------------------------------------------------
_pg_migrated = False
_pg_lock = threading.Lock()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    """One SQLite file migrated to head per test session; each test gets a copy (the
    migrations are still run from nothing, once, and checked by test_migrations)."""
    folder = tmp_path_factory.mktemp("migrated")
    path = folder / "citybot.sqlite3"
    migrate.upgrade(Config(env="test", database_url=f"sqlite:///{path}", instance_dir=str(folder)))
    return path


@pytest.fixture
def database_url(tmp_path: Path, request) -> str:
    """SQLite in a temporary folder, or the PostgreSQL at DATABASE_URL, emptied per test."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        path = tmp_path / "citybot.sqlite3"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), path)
        return f"sqlite:///{path}"
    global _pg_migrated
    with _pg_lock:
        if not _pg_migrated:
            engine = create_engine(url)
            with engine.begin() as conn:  # start from nothing: the migrations are under test too
                for table in inspect(conn).get_table_names():
                    conn.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
            engine.dispose()
            migrate.upgrade(Config(env="test", database_url=url))
            _pg_migrated = True
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = [t for t in inspect(conn).get_table_names() if t != "alembic_version"]
        if tables:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


# -- the bot ----------------------------------------------------------------------------------
@pytest.fixture
def config(database_url: str, fake_line, line, tmp_path: Path) -> Config:
    return Config(env="test", database_url=database_url, channel_secret=SECRET, access_token=TOKEN,
                  line_api_base=fake_line.url, instance_dir=str(tmp_path), content_reload_seconds=0,
                  inbox_sweep_seconds=0, processing_threads=2, openapi_dir=OPENAPI_DIR, line_timeout=5)


@pytest.fixture
def services(config: Config, clock: Clock):
    svc = bootstrap(config, now=clock)
    yield svc
    svc.close()


@pytest.fixture
def app(services):
    return create_app(services=services)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def city(config, clock, line, tmp_path):
    """The sample city in a folder the test may change: (content dir, services, chat)."""
    content_dir = tmp_path / "content"
    shutil.copytree(Path(config.content_dir), content_dir)
    svc = bootstrap(config.with_(content_dir=str(content_dir)), now=clock)
    yield content_dir, svc, Chat(create_app(services=svc).test_client(), svc, line)
    svc.close()


@pytest.fixture
def chat(client, services, line):
    return Chat(client, services, line)


def signed_post(client, body: bytes, secret: str = SECRET, **headers: str):
    return client.post("/callback", data=body, headers={"Content-Type": "application/json",
                                                          "X-Line-Signature": ev.signature(secret, body), **headers})


class Chat:
    """Residents talking to the bot through the real webhook and the fake platform."""

    def __init__(self, client, services, line):
        self.client, self.services, self.line = client, services, line

    def resident(self, name: str = "市民 太郎", language: str = "ja") -> "Person":
        user_id = self.line.add_user(name, language=language) if _takes_language(self.line) else self.line.add_user(name)
        if not isinstance(user_id, str):
            user_id = user_id["userId"] if isinstance(user_id, dict) else user_id.user_id
        return Person(self, user_id)

    def post(self, *events: dict[str, Any], expect: int = 200):
        response = signed_post(self.client, ev.callback_body(list(events)))
        assert response.status_code == expect, response.get_data(as_text=True)
        self.services.dispatcher.drain()
        return response


def _takes_language(line) -> bool:
    import inspect as _inspect

    return "language" in _inspect.signature(line.add_user).parameters


class Person:
    def __init__(self, chat: Chat, user_id: str):
        self.chat, self.user_id = chat, user_id
        self.seen = 0
        self.transcript: list[tuple[str, Any]] = []

    def _exchange(self, event: dict[str, Any], said: Any) -> list[dict[str, Any]]:
        self.transcript.append(("resident", said))
        self.chat.post(event)
        return self.received()

    def received(self) -> list[dict[str, Any]]:
        """Messages delivered to this resident since last asked."""
        records = self.chat.line.messages_for(self.user_id, after=self.seen)
        if records:
            self.seen = max(r["seq"] for r in records)
        messages = [r["message"] for r in records]
        self.transcript.extend(("bot", m) for m in messages)
        return messages

    def token(self) -> str:
        return self.chat.line.mint_reply_token(self.user_id)

    def at(self) -> int:
        """Events carry the bot's clock, so a test that moves time moves the phone too."""
        return int(self.chat.services.now().timestamp() * 1000)

    def says(self, text_: str) -> list[dict[str, Any]]:
        return self._exchange(ev.text_event(self.user_id, text_, reply_token=self.token(), timestamp=self.at()), text_)

    def taps(self, data: str, params: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """A postback; `params` is what LINE adds for a picker, e.g. {"date": "2021-04-15"}."""
        return self._exchange(ev.postback_event(self.user_id, data, params=params, reply_token=self.token(), timestamp=self.at()),
                              {"postback": data, **({"params": params} if params else {})})

    def sends_location(self, lat: float, lon: float) -> list[dict[str, Any]]:
        return self._exchange(ev.location_event(self.user_id, lat, lon, reply_token=self.token(), timestamp=self.at()), {"location": (lat, lon)})

    def sends_image(self, data: bytes, content_type: str = "image/jpeg") -> list[dict[str, Any]]:
        """A photo: its bytes are kept by the fake platform, which the bot downloads them from."""
        message_id = self.chat.line.put_content(data, content_type)
        return self._exchange(ev.image_event(self.user_id, message_id=message_id, reply_token=self.token(),
                                             timestamp=self.at()), "(photo)")

    def sends_sticker(self) -> list[dict[str, Any]]:
        return self._exchange(ev.sticker_event(self.user_id, reply_token=self.token(), timestamp=self.at()), "(sticker)")

    def follows(self) -> list[dict[str, Any]]:
        self.chat.line.follow(self.user_id)
        return self._exchange(ev.follow_event(self.user_id, reply_token=self.token(), timestamp=self.at()), "(follow)")

    def blocks(self) -> list[dict[str, Any]]:
        self.chat.line.unfollow(self.user_id)
        return self._exchange(ev.unfollow_event(self.user_id, timestamp=self.at()), "(block)")


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [m.get("text") or m.get("altText", "") for m in messages]


def quick_labels(message: dict[str, Any]) -> list[str]:
    return [item["action"]["label"] for item in message.get("quickReply", {}).get("items", [])]


def quick_data(message: dict[str, Any]) -> list[str]:
    return [item["action"].get("data", "") for item in message.get("quickReply", {}).get("items", [])]
