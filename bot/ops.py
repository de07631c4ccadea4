"""What the platform around the web process asks: is it alive, is it ready, how is it doing.

- `GET /livez`: 200 while the process answers at all. It checks nothing else on purpose:
  a liveness probe that failed on a database outage would have the orchestrator restart
  every web process at once, which cures nothing.
- `GET /readyz`: 200 when this process can do its work: the database answers, its schema
  is at the Alembic head this code was written for (a release whose `citybot db
  upgrade` has not run yet is not ready), and content is loaded (the last good copy
  counts: residents are answered). 503 with the failing checks otherwise, so a load
  balancer sends webhooks elsewhere.
- `GET /healthz` (bot/__init__.py) stays as it was: one summary for people and old probes.
- `GET /metrics`: Prometheus text (bot/metrics.py). It shows counts and ages, never a user;
  a deployment that does not want it public keeps it off the proxy's routes.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify
from sqlalchemy import text

from . import metrics

bp = Blueprint("ops", __name__)


def _services() -> Any:
    return current_app.extensions["citybot"]


def alembic_head(config: Any) -> str | None:
    """The newest migration this code ships (read once per process: files do not change)."""
    from alembic.script import ScriptDirectory

    from .migrate import alembic_config

    return ScriptDirectory.from_config(alembic_config(config)).get_current_head()


@bp.get("/livez")
def livez() -> Any:
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> Any:
    svc = _services()
    checks: dict[str, str] = {}
    try:
        with svc.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            current = _schema_revision(conn)
        checks["database"] = "ok"
        head = current_app.config["CITYBOT_ALEMBIC_HEAD"]
        checks["schema"] = "ok" if current == head else \
            f"at {current or 'nothing'}, this code needs {head}: run `citybot db upgrade`"
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        checks["database"] = f"unreachable: {exc.__class__.__name__}"
        checks["schema"] = "unknown"
    try:
        svc.content.current()
        status = svc.content.status()
        checks["content"] = "ok" if status.get("version") else "not loaded"
    except Exception as exc:  # noqa: BLE001
        checks["content"] = f"not loaded: {exc.__class__.__name__}"
    ready = all(value == "ok" for value in checks.values())
    return jsonify(status="ready" if ready else "not ready", checks=checks), 200 if ready else 503


def _schema_revision(conn: Any) -> str | None:
    """The revision in alembic_version (read directly: Alembic's MigrationContext would log
    two lines for every probe), None for a database never migrated."""
    from sqlalchemy.exc import DBAPIError

    try:
        with conn.begin_nested() if conn.in_transaction() else conn.begin():
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError:  # no such table: nothing was ever migrated here
        return None


@bp.get("/metrics")
def metrics_view() -> Response:
    body, content_type = metrics.exposition(current_app.extensions["citybot_metrics"])
    return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})


def init_app(app: Flask, svc: Any) -> None:
    """Routes, the schema head to compare with and the database gauges (the webhook's
    acknowledgement latency is measured by the webhook's own app, bot/webhook.py)."""
    app.config["CITYBOT_ALEMBIC_HEAD"] = alembic_head(svc.config)
    app.extensions["citybot_metrics"] = metrics.DatabaseCollector(svc.sessions, svc.now, svc.spool)
    app.register_blueprint(bp)
