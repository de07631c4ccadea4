"""A faithful fake of the LINE platform for development, tests and benchmarks.

- `FakeLine` / `FakeLineSettings` (state.py): the platform's memory and behaviour (what it
  keeps: records.py; its rich menus: richmenus.py);
- `create_fake_app` (app.py): Flask app serving LINE's Messaging API paths + `/__fake__/`;
- `start_fake_line` (server.py): the app over real HTTP in a background thread;
- `SpecValidator` / `WebhookSpec` (spec.py): validation against LINE's OpenAPI specs;
- `webhook_events`: builders for webhook bodies and their signature.

Imported lazily (PEP 562): `webhook_events` alone is what `citybot ask` and the simulator
need, and it must import without jsonschema, which only the platform's request
validation uses and which is an extra (`pip install 'citybot[demo]'`), not a dependency
of a production install.
"""

import importlib
from typing import Any

_WHERE = {
    "create_fake_app": "app",
    "RunningFakeLine": "server", "serve_forever": "server", "start_fake_line": "server",
    "ErrorDetail": "spec", "SpecValidator": "spec", "WebhookSpec": "spec", "error_body": "spec",
    "FakeLine": "state", "FakeLineSettings": "state", "LineError": "state",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)


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
