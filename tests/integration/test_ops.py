"""Operating the bot: liveness and readiness, Prometheus metrics, heartbeats of the worker
and the clock on /admin, JSON logs without personal data, the client behind a proxy."""

from __future__ import annotations

import io
import json
import logging
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from bot import create_app, delivery, inbox, logs, migrate
from bot.bootstrap import bootstrap
from bot.config import Config
from bot.dispatch import logging_context, mask_user
from bot.fakeline import webhook_events as ev
from bot.heartbeat import Heartbeat, ProcessHeartbeat
from bot.models import Resident
from tests.integration.test_admin_auth import PASSWORD, csrf, login, staff  # noqa: F401 - staff is a fixture


def scrape(client) -> dict[str, float]:
    """/metrics as {'name{labels}': value}."""
    response = client.get("/metrics")
    assert response.status_code == 200 and response.content_type.startswith("text/plain")
    values = {}
    for line in response.get_data(as_text=True).splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


def sample(values: dict[str, float], name: str, **labels: str) -> float:
    """One sample by name and (some of) its labels; 0 when absent (a counter not yet touched)."""
    wanted = [f'{k}="{v}"' for k, v in labels.items()]
    found = [v for key, v in values.items() if key.split("{")[0] == name and all(w in key for w in wanted)]
    assert len(found) <= 1, (name, labels, found)
    return found[0] if found else 0.0


# -- liveness and readiness ---------------------------------------------------------------------
def test_livez_readyz_and_healthz_when_all_is_well(client):
    assert client.get("/livez").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json() == {"status": "ready", "checks": {"database": "ok", "schema": "ok", "content": "ok"}}
    assert client.get("/healthz").get_json()["status"] == "ok"


def test_a_schema_behind_the_code_is_not_ready(config, tmp_path):
    """A release whose `citybot db upgrade` has not run: alive, but not ready (SQLite file of
    its own, one migration behind, whatever DATABASE_URL the suite runs on)."""
    url = f"sqlite:///{tmp_path / 'behind.sqlite3'}"
    behind = config.with_(database_url=url)
    migrate.upgrade(behind)
    migrate.downgrade(behind, "-1")
    app = create_app(behind)
    try:
        client = app.test_client()
        assert client.get("/livez").status_code == 200
        ready = client.get("/readyz")
        assert ready.status_code == 503
        checks = ready.get_json()["checks"]
        assert checks["database"] == "ok" and checks["content"] == "ok"
        head = app.config["CITYBOT_ALEMBIC_HEAD"]
        assert checks["schema"].startswith("at ") and f"this code needs {head}: run `citybot db upgrade`" in checks["schema"]
    finally:
        app.extensions["citybot"].close()


def test_an_unreachable_database_is_not_ready_but_the_process_is_alive(config):
    down = config.with_(database_url="postgresql+psycopg://postgres@127.0.0.1:9/nowhere?connect_timeout=2")
    app = create_app(down)
    try:
        client = app.test_client()
        assert client.get("/livez").status_code == 200
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.get_json()["checks"]["database"].startswith("unreachable: ")
        assert client.get("/healthz").status_code == 503  # as before
        values = scrape(client)  # a scrape still answers, saying the database is down
        assert sample(values, "citybot_database_up") == 0
    finally:
        app.extensions["citybot"].close()


# -- metrics -------------------------------------------------------------------------------------
def test_metrics_count_acks_line_calls_and_deliveries(chat, client):
    before = scrape(client)
    taro = chat.resident()
    assert taro.says("ヘルプ")
    after = scrape(client)
    grew = lambda name, **labels: sample(after, name, **labels) - sample(before, name, **labels)  # noqa: E731
    assert grew("citybot_webhook_ack_seconds_count", status="200") == 1
    assert grew("citybot_webhook_ack_seconds_bucket", status="200", le="+Inf") == 1
    assert grew("citybot_line_api_requests_total", endpoint="reply_message", status="200") == 1
    assert grew("citybot_deliveries_total", kind="reply") == 1
    assert "citybot_line_api_seconds_bucket" in client.get("/metrics").get_data(as_text=True)


def test_metrics_count_429s_and_multicast_recipients(chat, client, services, line, clock):
    people = [chat.resident(f"市民 {i}") for i in range(3)]
    for person in people:
        person.follows()
    with services.sessions() as session:
        delivery.create_push(session, source_key="ops-test", kind="notice", messages={"*": [{"type": "text",
                             "text": "お知らせ"}]}, recipients=select(Resident.id), now=services.now())
        session.commit()
    clock.advance(minutes=5)
    gauges = scrape(client)
    assert sample(gauges, "citybot_push_batches_pending", urgent="false") == 1
    assert 299 <= sample(gauges, "citybot_push_batch_oldest_age_seconds") <= 330

    before = scrape(client)
    line.inject("multicast", status=429, count=1)
    args = dict(quiet_hours=None, lease=timedelta(seconds=60))
    delivery.deliver_due(services.sessions, services.messenger, services.now, **args)  # 429: deferred
    clock.advance(minutes=1)
    delivery.deliver_due(services.sessions, services.messenger, services.now, **args)
    after = scrape(client)
    grew = lambda name, **labels: sample(after, name, **labels) - sample(before, name, **labels)  # noqa: E731
    assert grew("citybot_line_api_requests_total", endpoint="multicast", status="429") == 1
    assert grew("citybot_line_api_throttled_total", endpoint="multicast") == 1
    assert grew("citybot_line_api_requests_total", endpoint="multicast", status="200") == 1
    assert grew("citybot_deliveries_total", kind="multicast") == 3
    assert sample(after, "citybot_push_batches_pending", urgent="false") == 0
    assert sample(after, "citybot_push_batch_oldest_age_seconds") == 0


def test_inbox_backlog_and_its_oldest_event_come_from_the_database(client, services, clock):
    events = [ev.text_event("U" + "a" * 32, "まだ処理していない", reply_token="r1"),
              ev.text_event("U" + "b" * 32, "これも", reply_token="r2")]
    with services.sessions() as session:  # stored, as the webhook does, but nobody processes them
        inbox.store_events(session, events, services.now())
        session.commit()
    clock.advance(seconds=90)
    values = scrape(client)
    assert sample(values, "citybot_inbox_backlog", status="pending") == 2
    assert 89 <= sample(values, "citybot_inbox_oldest_event_age_seconds") <= 120
    assert "a" * 32 not in client.get("/metrics").get_data(as_text=True)


# -- heartbeats ----------------------------------------------------------------------------------
def admin_home(client) -> str:
    page = client.get("/admin/")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_worker_and_clock_heartbeats_on_the_admin_home_and_stale_ones_warned(client, staff, services, clock):
    staff("sato", "viewer")
    assert login(client, "sato").status_code == 302
    home = admin_home(client)
    assert home.count('data-testid="process-missing"') == 2  # nothing has ever beaten: both warned

    interval = services.config.heartbeat_seconds
    worker = Heartbeat(services.sessions, "worker", interval, services.now)
    ticker = Heartbeat(services.sessions, "clock", interval, services.now)
    worker.beat_once()
    ticker.beat_once()
    home = admin_home(client)
    assert home.count('data-testid="process-ok"') == 2 and "process-missing" not in home
    assert worker.host in home and str(worker.pid) in home
    assert sample(scrape(client), "citybot_heartbeat_age_seconds", kind="worker") < 5

    clock.advance(seconds=interval * 4 + 1)  # the worker went silent; the clock goes on
    ticker.beat_once()
    home = admin_home(client)
    assert home.count('data-testid="process-stale"') == 1 and home.count('data-testid="process-ok"') == 1
    [missing] = re.findall(r'data-testid="process-missing">([^<]+)', home)
    assert missing.startswith("配信ワーカーが動いていません")
    assert sample(scrape(client), "citybot_heartbeat_age_seconds", kind="worker") >= interval * 4

    worker.beat_once()  # back
    assert "process-missing" not in admin_home(client)
    clock.advance(days=1, seconds=1)
    ticker.beat_once()  # a day later, the rows of processes gone that long are forgotten
    with services.sessions() as session:
        assert [row.kind for row in session.scalars(select(ProcessHeartbeat))] == ["clock"]


def test_heartbeat_thread_beats_and_stops(services):
    beating = Heartbeat(services.sessions, "worker", 0.05, services.now).start()
    try:
        with services.sessions() as session:
            for _ in range(100):
                if session.scalars(select(ProcessHeartbeat)).first():
                    break
                import time

                time.sleep(0.05)
            assert session.scalars(select(ProcessHeartbeat.name)).one() == beating.name
    finally:
        beating.stop()
    assert beating._thread is not None and not beating._thread.is_alive()


# -- JSON logs -----------------------------------------------------------------------------------
@pytest.fixture
def json_log(services):
    """The citybot log handler in JSON at DEBUG, writing into a buffer for the test."""
    create_app(services.config.with_(log_format="json", log_level="DEBUG"), services=services)
    [handler] = [h for h in logging.getLogger().handlers if getattr(h, "_citybot", False)]
    buffer = io.StringIO()
    old = handler.setStream(buffer)
    yield buffer
    handler.setStream(old)
    logs.configure("INFO", "text")


def test_json_logs_one_object_per_line_with_pseudonyms_never_ids_or_text(chat, services, line, json_log):
    secret = "わたしの住所は港区1-2-3です"
    taro = chat.resident()
    taro.follows()
    taro.says(secret)
    taro.says("ヘルプ")
    line.inject("reply", status=500, count=1)  # a failed answer is logged, with its event id
    taro.says("メニュー")
    taro.sends_sticker()
    taro.blocks()
    # a line a handler writes while an event is handled, through the dispatcher's own middleware
    context = SimpleNamespace(raw={"webhookEventId": "01EVENT"}, user_id=taro.user_id,
                              incoming=SimpleNamespace(kind="text"))
    logging_context(context, lambda: logging.getLogger("handlers.test").warning("looked up %d item(s)", 2))

    output = json_log.getvalue()
    lines = output.splitlines()
    assert len(lines) >= 2
    records = [json.loads(line_) for line_ in lines]  # every line is one JSON object
    assert all({"time", "level", "logger", "event", "user", "message"} <= set(r) for r in records)
    assert taro.user_id not in output and secret not in output and "港区1-2-3" not in output
    mine = [r for r in records if r["logger"] == "handlers.test"]
    assert mine == [{**mine[0], "event": "01EVENT", "user": mask_user(taro.user_id), "message": "looked up 2 item(s)"}]
    assert any(r["level"] == "WARNING" and "not delivered yet" in r["message"] for r in records)


def test_json_formatter_keeps_a_traceback_in_one_line():
    record = logging.LogRecord("bot.x", logging.ERROR, __file__, 1, "failed %s", ("twice",), None)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        import sys

        record.exc_info = sys.exc_info()
    rendered = logs.JsonFormatter().format(record)
    assert "\n" not in rendered
    parsed = json.loads(rendered)
    assert parsed["message"] == "failed twice" and "RuntimeError: boom" in parsed["exception"]
    assert (parsed["event"], parsed["user"]) == ("-", "-")
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        Config.from_env({"LOG_FORMAT": "xml"})


# -- behind a reverse proxy -------------------------------------------------------------------------
def _proxied_login(client, name: str, password: str, client_ip: str):
    headers = {"X-Forwarded-For": client_ip}
    page = client.get("/admin/login", environ_base={"REMOTE_ADDR": "10.0.0.2"}, headers=headers)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.get_data(as_text=True)).group(1)
    return client.post("/admin/login", data={"name": name, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": "10.0.0.2"}, headers=headers)


@pytest.mark.parametrize("hops", [1, 0])
def test_login_limit_counts_the_client_behind_one_proxy_only_when_told(config, clock, hops):
    from bot.admin.auth import hash_password
    from bot.admin.models import AuditEntry, StaffUser

    svc = bootstrap(config.with_(proxy_hops=hops, admin_login_ip_limit=3), now=clock)
    try:
        with svc.sessions() as session:
            session.add(StaffUser(name="sato", role="admin", password_hash=hash_password(PASSWORD), disabled=False,
                                  created_at=svc.now()))
            session.commit()
        client = create_app(services=svc).test_client()
        for i in range(3):  # one client guessing names through the proxy (10.0.0.2)
            assert _proxied_login(client, f"guess{i}", "wrong-password-1", "198.51.100.7").status_code == 401
        assert _proxied_login(client, "sato", PASSWORD, "198.51.100.7").status_code == 429
        other = _proxied_login(client, "sato", PASSWORD, "198.51.100.8")  # another resident of the same proxy
        with svc.sessions() as session:
            addresses = {e.remote_addr for e in session.scalars(select(AuditEntry))}
        if hops:  # the proxy's X-Forwarded-For names the client: only the guesser is locked out
            assert other.status_code == 302
            assert {"198.51.100.7", "198.51.100.8"} <= addresses and "10.0.0.2" not in addresses
        else:  # no proxy trusted: the header could be forged, so everyone counts as the proxy
            assert other.status_code == 429
            assert addresses == {"10.0.0.2"}
    finally:
        svc.close()
