"""Every setting citybot reads, in one place.

Settings come from environment variables, read only when `Config.from_env()` is called
(never at import time), so tests and the CLI can build a config explicitly. Each field
carries its environment variable name and a one-line description; `citybot config`
prints the table and the README's configuration table is checked against it by a test.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping

PROJECT_ROOT = Path(__file__).resolve().parent.parent  # the checkout; an installed package is in site-packages
PACKAGE_DIR = Path(__file__).resolve().parent       # files shipped inside the package (the OpenAPI specs)
ENVIRONMENTS = ("development", "demo", "test", "production")
DEV_CHANNEL_SECRET = "citybot-dev-channel-secret"
DEV_ACCESS_TOKEN = "citybot-dev-access-token"


def setting(env: str, default: Any, doc: str) -> Any:
    return field(default=default, metadata={"env": env, "doc": doc})


def _bool(value: str) -> bool:
    if value.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if value.strip().lower() in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {value!r}")


@dataclass(frozen=True)
class Config:
    env: str = setting("CITYBOT_ENV", "development",
                       "development, demo, test or production; production refuses dev secrets "
                       "and never serves the simulator")
    database_url: str = setting("DATABASE_URL", "",
                                "SQLAlchemy URL; empty means SQLite at instance/citybot.sqlite3. "
                                "PostgreSQL: postgresql+psycopg://user@host/db")
    channel_secret: str = setting("LINE_CHANNEL_SECRET", DEV_CHANNEL_SECRET,
                                  "channel secret, verifies X-Line-Signature")
    access_token: str = setting("LINE_CHANNEL_ACCESS_TOKEN", DEV_ACCESS_TOKEN,
                                "long-lived channel access token for the Messaging API")
    line_api_base: str = setting("LINE_API_BASE", "https://api.line.me",
                                 "Messaging API host (the fake platform in development)")
    line_data_api_base: str = setting("LINE_DATA_API_BASE", "",
                                      "host for content uploads; empty means api-data.line.me "
                                      "for the real API, else LINE_API_BASE")
    content_dir: str = setting("CONTENT_DIR", "./content",
                               "folder of the YAML content staff edit (relative: to the working directory)")
    content_reload_seconds: float = setting("CONTENT_RELOAD_SECONDS", 2.0,
                                            "how often the running server looks for changed "
                                            "content; 0 turns reloading off")
    instance_dir: str = setting("CITYBOT_INSTANCE_DIR", "./instance",
                                "folder for the embedded SQLite database and other local state (relative: to "
                                "the working directory)")
    simulator_enabled: bool | None = setting("SIMULATOR_ENABLED", None,
                                             "serve /simulator; default on except in production")
    fake_line_url: str = setting("FAKE_LINE_URL", "",
                                 "base URL of the fake LINE platform the simulator reads "
                                 "(default LINE_API_BASE)")
    webhook_url: str = setting("SIMULATOR_WEBHOOK_URL", "",
                               "where the simulator posts webhooks (default this server's "
                               "/callback)")
    webhook_max_bytes: int = setting("WEBHOOK_MAX_BYTES", 1024 * 1024,
                                     "largest webhook body accepted (413 above)")
    reply_token_ttl: float = setting("REPLY_TOKEN_TTL_SECONDS", 50.0,
                                     "after this many seconds from the event an answer is "
                                     "pushed instead of replied")
    processing_threads: int = setting("PROCESSING_THREADS", 4,
                                      "threads per worker process that answer webhook events")
    inbox_poll_seconds: float = setting("INBOX_POLL_SECONDS", 0.05,
                                        "how long an idle answering thread waits before looking for "
                                        "new webhook bodies and events again")
    inbox_lease_seconds: float = setting("INBOX_LEASE_SECONDS", 120.0,
                                         "an event claimed longer ago than this by a process "
                                         "that died is processed again")
    inbox_sweep_seconds: float = setting("INBOX_SWEEP_SECONDS", 5.0,
                                         "how often a worker retries answers LINE deferred "
                                         "(429, 5xx) and prunes old event ids")
    inbox_retention_hours: float = setting("INBOX_RETENTION_HOURS", 48.0,
                                           "event ids are kept this long to drop redeliveries "
                                           "(LINE asks for at least 24 h)")
    queue_vacuum_dead_rows: int = setting("QUEUE_VACUUM_DEAD_ROWS", 2000,
                                          "PostgreSQL: a worker's sweep vacuums the inbox and webhook-body "
                                          "tables once either holds this many dead row versions "
                                          "(0: leave it to autovacuum)")
    fuzzy_accept: float = setting("FUZZY_ACCEPT_SCORE", 88.0,
                                  "fuzzy keyword score from which the bot acts without asking")
    fuzzy_suggest: float = setting("FUZZY_SUGGEST_SCORE", 60.0,
                                   "fuzzy score from which a keyword is offered as "
                                   "'did you mean'")
    line_timeout: float = setting("LINE_TIMEOUT_SECONDS", 10.0,
                                  "timeout of one Messaging API request")
    timezone: str = setting("CITY_TIMEZONE", "Asia/Tokyo", "the city's time zone: schedules, quiet hours, dates")
    quiet_hours: str = setting("QUIET_HOURS", "21:00-07:00",
                               "routine pushes wait out this local time range ('off' to disable); "
                               "urgent ones do not")
    delivery_rate: float = setting("DELIVERY_RATE_PER_SECOND", 150.0,
                                   "multicast requests per second per worker process, evenly spaced "
                                   "(LINE allows 200/s per channel: divide among workers, keeping a "
                                   "few percent under it)")
    worker_threads: int = setting("WORKER_THREADS", 4,
                                  "batches one worker process sends at the same time (each waits on LINE "
                                  "most of the time)")
    batch_lease_seconds: float = setting("BATCH_LEASE_SECONDS", 60.0,
                                         "a batch claimed longer ago than this by a worker that died is "
                                         "sent again (same retry key)")
    worker_idle_seconds: float = setting("WORKER_IDLE_SECONDS", 1.0,
                                         "how long an idle worker waits before looking for work again")
    wakeup_fallback_seconds: float = setting("WAKEUP_FALLBACK_SECONDS", 2.0,
                                             "on PostgreSQL, where new work is notified: how often idle "
                                             "worker threads look anyway (retries due, quiet hours ending)")
    scheduler_grace_seconds: float = setting("SCHEDULER_GRACE_SECONDS", 3600.0,
                                             "a scheduled send missed while the scheduler was down still "
                                             "goes out if it is at most this late")
    unfollow_grace_hours: float = setting("UNFOLLOW_GRACE_HOURS", 0.0,
                                          "keep a blocking resident's data this long in case they come "
                                          "back; 0 deletes at once")
    tester_code: str = setting("TESTER_CODE", "",
                               "staff phones become testers (they get training broadcasts, 【訓練】) by "
                               "sending 「訓練登録 CODE」 in the chat; empty turns this off")
    log_level: str = setting("LOG_LEVEL", "INFO", "logging level")
    log_format: str = setting("LOG_FORMAT", "text",
                              "text (one readable line per event) or json (one JSON object per line, for a log "
                              "collector); both carry only pseudonyms, never user ids or message text")
    db_pool_size: int = setting("DB_POOL_SIZE", 10,
                                "PostgreSQL connections each process keeps (and as many again in a burst); mind "
                                "max_connections across web, worker and clock processes")
    proxy_hops: int = setting("PROXY_HOPS", 0,
                              "reverse proxies in front of the web process whose X-Forwarded-For/-Proto/-Host "
                              "are trusted (werkzeug ProxyFix); 0 ignores those headers")
    heartbeat_seconds: float = setting("HEARTBEAT_SECONDS", 15.0,
                                       "how often the worker and the clock note in the database that they are "
                                       "alive; /admin warns about one silent for 4 times this")
    metrics_port: int = setting("METRICS_PORT", 0,
                                "the worker and the clock serve Prometheus /metrics on this port (the web "
                                "process serves /metrics itself); 0 turns it off")
    openapi_dir: str = setting("LINE_OPENAPI_DIR", str(PACKAGE_DIR / "fakeline" / "openapi"),
                               "LINE's OpenAPI specs the fake platform validates against")
    admin_secret_key: str = setting("ADMIN_SECRET_KEY", "",
                                    "signs the session cookies of the staff web UI (/admin); production needs "
                                    "at least 32 random characters, elsewhere empty means a development key")
    admin_session_minutes: int = setting("ADMIN_SESSION_MINUTES", 30,
                                         "staff are logged out of /admin after this many minutes without a "
                                         "request")
    admin_session_max_hours: int = setting("ADMIN_SESSION_MAX_HOURS", 12,
                                           "staff are logged out of /admin this many hours after their login, "
                                           "however busy (a copied session cookie dies with it)")
    admin_login_limit: int = setting("ADMIN_LOGIN_LIMIT", 5,
                                     "failed /admin logins per staff name within ADMIN_LOGIN_WINDOW_MINUTES; "
                                     "then that name is refused (429) until the oldest one is old enough")
    admin_login_ip_limit: int = setting("ADMIN_LOGIN_IP_LIMIT", 20,
                                        "failed /admin logins per client address within "
                                        "ADMIN_LOGIN_WINDOW_MINUTES, whatever the names")
    admin_login_window_minutes: int = setting("ADMIN_LOGIN_WINDOW_MINUTES", 15,
                                              "the window the /admin login limits count failures in")
    import_max_mb: float = setting("IMPORT_MAX_MB", 50.0,
                                   "`citybot import` refuses a source file larger than this many MB (before "
                                   "reading it)")
    import_min_share: float = setting("IMPORT_MIN_SHARE", 0.5,
                                      "`citybot import` writes nothing (unless --force) when the new file would keep "
                                      "fewer entries than this share of the current one's; 0 turns the check off")
    # -- reports (handlers/reports) ----------------------------------------------------
    media_max_mb: float = setting("MEDIA_MAX_MB", 10.0,
                                  "largest photo taken from a resident (LINE's data endpoint); a larger one is "
                                  "refused, and what is kept is re-encoded without its metadata (EXIF, GPS)")
    map_tile_url: str = setting("MAP_TILE_URL", "",
                                "the city's map tiles for /admin maps, e.g. https://tile.example.jp/{z}/{x}/{y}.png "
                                "(only https or http); empty: pins on a plain background, nothing fetched")
    map_tile_attribution: str = setting("MAP_TILE_ATTRIBUTION", "",
                                        "the credit line the tile provider asks for (shown under the map)")

    # -- construction -----------------------------------------------------------------
    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> "Config":
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(f.metadata["env"])
            if not raw:  # unset or empty: the default
                continue
            values[f.name] = _coerce(f, raw)
        values.update(overrides)
        return cls(**values).checked()

    def with_(self, **changes: Any) -> "Config":
        return replace(self, **changes).checked()

    def checked(self) -> "Config":
        if self.env not in ENVIRONMENTS:
            raise ValueError(f"CITYBOT_ENV must be one of {', '.join(ENVIRONMENTS)}, not {self.env!r}")
        if self.is_production:
            if self.channel_secret == DEV_CHANNEL_SECRET or self.access_token == DEV_ACCESS_TOKEN:
                raise ValueError("production needs LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN")
            if self.simulator_enabled:
                raise ValueError("the simulator is never served in production")
            if len(self.admin_secret_key) < 32:
                raise ValueError("production needs ADMIN_SECRET_KEY of at least 32 random characters "
                                 "(python -c 'import secrets; print(secrets.token_hex(32))')")
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"CITY_TIMEZONE: unknown time zone {self.timezone!r}") from None
        from .delivery import QuietHours

        QuietHours.parse(self.quiet_hours, self.timezone)
        if not 0 <= self.fuzzy_suggest <= self.fuzzy_accept <= 100:
            raise ValueError("need 0 <= FUZZY_SUGGEST_SCORE <= FUZZY_ACCEPT_SCORE <= 100")
        if not 0 <= self.import_min_share <= 1:
            raise ValueError("IMPORT_MIN_SHARE must be between 0 and 1")
        if not self.import_max_mb > 0:
            raise ValueError("IMPORT_MAX_MB must be more than 0")
        if not self.media_max_mb > 0:
            raise ValueError("MEDIA_MAX_MB must be more than 0")
        if self.map_tile_url and not self.map_tile_url.startswith(("https://", "http://")):
            raise ValueError("MAP_TILE_URL must start with https:// or http://")
        if self.log_format not in ("text", "json"):
            raise ValueError(f"LOG_FORMAT must be text or json, not {self.log_format!r}")
        if self.db_pool_size < 1:
            raise ValueError("DB_POOL_SIZE must be at least 1")
        if self.queue_vacuum_dead_rows < 0:
            raise ValueError("QUEUE_VACUUM_DEAD_ROWS must be 0 (autovacuum alone) or more")
        if not 0 <= self.proxy_hops <= 10:
            raise ValueError("PROXY_HOPS must be between 0 and 10")
        if not self.heartbeat_seconds > 0:
            raise ValueError("HEARTBEAT_SECONDS must be more than 0")
        if not 0 <= self.metrics_port <= 65535:
            raise ValueError("METRICS_PORT must be a port number (0 for none)")
        for name in ("admin_session_minutes", "admin_session_max_hours", "admin_login_limit", "admin_login_ip_limit",
                     "admin_login_window_minutes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name.upper()} must be at least 1")
        return self

    # -- derived values ---------------------------------------------------------------
    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def serve_simulator(self) -> bool:
        return (not self.is_production) if self.simulator_enabled is None else self.simulator_enabled

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{Path(self.instance_dir) / 'citybot.sqlite3'}"

    @property
    def data_api_base(self) -> str:
        if self.line_data_api_base:
            return self.line_data_api_base
        if self.line_api_base.rstrip("/") == "https://api.line.me":
            return "https://api-data.line.me"
        return self.line_api_base

    @property
    def fake_line_base(self) -> str:
        return (self.fake_line_url or self.line_api_base).rstrip("/")


def _coerce(f: Any, raw: str) -> Any:
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    try:
        if kind.startswith("bool"):
            return _bool(raw)
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
    except ValueError as exc:
        raise ValueError(f"{f.metadata['env']}: {exc}") from None
    return raw


def documented_settings() -> list[tuple[str, str, str]]:
    """(variable, default, description) for every setting, in declaration order."""
    rows = []
    for f in fields(Config):
        default = f.default
        if isinstance(default, str) and default.startswith(str(PACKAGE_DIR)):
            default = default.replace(str(PACKAGE_DIR), "(package)/bot")
        rows.append((f.metadata["env"], "" if default is None else str(default), f.metadata["doc"]))
    return rows
