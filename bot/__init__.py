"""citybot: a city's services on its LINE official account.

`create_app(config)` builds the web process: webhook, health check, and (outside
production) the simulator. Everything else is wired by `bot.bootstrap`.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .gcpause import paused

with paused():  # every `citybot` command and process imports this first, and most of the rest with it
    from sqlalchemy import text

    from .bootstrap import Services, bootstrap
    from .config import Config

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger(__name__)


def create_app(config: Config | None = None, *, services: Services | None = None, **bootstrap_args: Any) -> Flask:
    from flask import Flask, jsonify  # here: every `citybot` command imports this package, few run a web app

    from . import logs

    config = config or (services.config if services else Config.from_env())
    logs.configure(config.log_level, config.log_format)
    app = Flask(__name__, instance_path=str(Path(config.instance_dir).resolve()))
    app.config["CITYBOT_CONFIG"] = config
    app.config["MAX_CONTENT_LENGTH"] = config.webhook_max_bytes
    app.config["JSON_AS_ASCII"] = False
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    svc = services or bootstrap(config, **bootstrap_args)
    svc.messenger.prepare()  # line-bot-sdk is imported lazily (`citybot ask` never needs it); a web process does
    app.extensions["citybot"] = svc
    if config.proxy_hops:  # request.remote_addr (the login limit's client address), scheme and host
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = config.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    from . import webhook

    app.register_blueprint(webhook.bp)
    if config.serve_simulator:
        from . import simulator

        app.register_blueprint(simulator.bp)
    from . import admin

    admin.init_app(app, svc)  # the staff web UI at /admin: login, roles, CSRF, audit log
    from . import ops

    ops.init_app(app, svc)  # /livez, /readyz, /metrics and the webhook's acknowledgement latency

    @app.get("/healthz")
    def healthz():
        """200 while the bot can answer; broken content degrades it (last good keeps serving)."""
        svc.content.current()
        content = svc.content.status()
        try:
            with svc.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            database = "ok"
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            database = f"unreachable: {exc.__class__.__name__}"
        status = "down" if database != "ok" else ("ok" if content["ok"] else "degraded")
        return jsonify(status=status, database=database, content=content), 503 if status == "down" else 200

    if config.inbox_sweep_seconds > 0:
        start_sweeper(svc)
    return app


def start_sweeper(svc: Services) -> threading.Thread:
    """Process events a crashed process left behind (at start, then periodically)."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                svc.dispatcher.sweep()
            except Exception:  # noqa: BLE001 - the next round tries again
                log.exception("sweep failed")
            stop.wait(svc.config.inbox_sweep_seconds)

    thread = threading.Thread(target=loop, name="citybot-sweeper", daemon=True)
    thread.start()
    svc.stop_sweeper = stop.set  # type: ignore[attr-defined]
    return thread


__all__ = ["create_app", "bootstrap", "Config"]
