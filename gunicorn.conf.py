"""gunicorn settings for the web process; each can be overridden on the command line.

Threads, not extra processes, serve the webhook: it only verifies, stores and answers,
and the event processing runs in each worker's own thread pool afterwards.
"""

import os

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
preload_app = False  # the app starts threads; they must be born in the worker, not the master
timeout = 30
graceful_timeout = 20
keepalive = 5
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(L)ss'
