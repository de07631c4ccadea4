"""A faithful fake of the LINE platform for development, tests and benchmarks.

- `FakeLine` / `FakeLineSettings` (state.py): the platform's memory and behaviour;
- `create_fake_app` (app.py): Flask app serving LINE's Messaging API paths + `/__fake__/`;
- `start_fake_line` (server.py): the app over real HTTP in a background thread;
- `SpecValidator` / `WebhookSpec` (spec.py): validation against LINE's OpenAPI specs;
- `webhook_events`: builders for webhook bodies and their signature.
"""

from bot.fakeline.app import create_fake_app
from bot.fakeline.server import RunningFakeLine, serve_forever, start_fake_line
from bot.fakeline.spec import ErrorDetail, SpecValidator, WebhookSpec, error_body
from bot.fakeline.state import FakeLine, FakeLineSettings, LineError

__all__ = [
    "ErrorDetail",
    "FakeLine",
    "FakeLineSettings",
    "LineError",
    "RunningFakeLine",
    "SpecValidator",
    "WebhookSpec",
    "create_fake_app",
    "error_body",
    "serve_forever",
    "start_fake_line",
]
