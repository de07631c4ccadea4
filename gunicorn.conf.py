"""gunicorn settings for the web process; each can be overridden on the command line.

Threads, not extra processes, serve the webhook: it only verifies, stores and answers
200; the `citybot worker` processes answer the residents (bot/webhook.py, bot/worker.py).

Metrics: the worker processes take turns answering /metrics, so prometheus_client runs in
multiprocess mode: each process writes its counters to files in PROMETHEUS_MULTIPROC_DIR
and a scrape adds them up (bot/metrics.py). The directory must be set before any worker
imports prometheus_client, hence here, in the master, at load; it is emptied when gunicorn
starts (old files would add a previous run's counts) and a dead worker's live gauges are
dropped (`child_exit`). Set PROMETHEUS_MULTIPROC_DIR yourself to keep the files on a
tmpfs; otherwise a fresh temporary directory is used and removed at exit.
"""

import os
import shutil
import tempfile
from pathlib import Path

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
preload_app = False  # each worker opens its own database connections
timeout = 30
graceful_timeout = 20
keepalive = 5
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(L)ss'

_made_metrics_dir = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _made_metrics_dir:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="citybot-metrics-")


def on_starting(server):
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _made_metrics_dir:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
