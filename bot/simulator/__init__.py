"""The resident simulator: a LINE-like chat page for talking to the bot in a browser.

Development and demo only. The app factory registers `bp` when `config.serve_simulator`
is true, which is never the case in production. The page talks to JSON endpoints under
/simulator/api/, which proxy to the fake LINE platform (`config.fake_line_base`) and post
signed webhooks to the bot (`config.webhook_url`, or this server's own /callback).
"""

from flask import Blueprint

bp = Blueprint(
    "simulator",
    __name__,
    url_prefix="/simulator",
    template_folder="templates",
    static_folder="static",
)

from bot.simulator import views  # noqa: E402,F401  (registers the routes on bp)

__all__ = ["bp"]
