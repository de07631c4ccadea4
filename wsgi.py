"""The web process for gunicorn (`gunicorn -c gunicorn.conf.py wsgi:app`).

Configuration comes from the environment when gunicorn imports this module, once per
worker process (no preloading: each worker owns its threads and connections).
"""

from bot import create_app

app = create_app()
