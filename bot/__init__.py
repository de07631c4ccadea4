"""citybot: a city's services on its LINE official account.

`create_app(config)` builds the web process: webhook, health check, and (outside
production) the simulator. Everything else is wired by `bot.bootstrap`.
"""

from __future__ import annotations

import logging
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
    from . import webhook

    app.wsgi_app = webhook.in_front_of(app.wsgi_app, webhook.make_app(svc))  # type: ignore[method-assign,assignment]
    if config.proxy_hops:  # request.remote_addr (the login limit's client address), scheme and host
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = config.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    if config.serve_simulator:
        from . import simulator

        app.register_blueprint(simulator.bp)
    from . import admin

    admin.init_app(app, svc)  # the staff web UI at /admin: login, roles, CSRF, audit log
    from . import ops

    ops.init_app(app, svc)  # /livez, /readyz, /metrics

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

    return app


__all__ = ["create_app", "bootstrap", "Config"]
