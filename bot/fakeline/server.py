"""Run the fake LINE platform over real HTTP: in a background thread for tests and the
simulator, or in the foreground for the CLI.

Real HTTP (not Flask's test client) matters: the bot talks to LINE through line-bot-sdk,
whose timeouts, retries and headers are only exercised over a socket.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from bot.fakeline.app import create_fake_app
from bot.fakeline.state import FakeLine, FakeLineSettings

log = logging.getLogger(__name__)


class _Handler(WSGIRequestHandler):
    """TCP_NODELAY: the server writes a response's headers and its body separately, and
    on a kept-alive connection Nagle's algorithm then held the body until the client's
    delayed ACK, 40 ms later, on every request (LINE answers in milliseconds)."""

    disable_nagle_algorithm = True


class _QuietHandler(_Handler):
    """No access log line per request: the request log lives in FakeLine.requests."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@dataclass
class RunningFakeLine:
    """A fake platform serving in a daemon thread; `url` is its base URL."""

    url: str
    state: FakeLine
    server: BaseWSGIServer = field(repr=False)
    thread: threading.Thread = field(repr=False)

    @property
    def port(self) -> int:
        return self.server.server_port

    def stop(self) -> None:
        """Stop accepting requests and release the port (requests still sleeping in an
        injected timeout are daemon threads and do not hold this up)."""
        self.server.shutdown()
        self.thread.join(timeout=5)
        self.server.server_close()

    def __enter__(self) -> "RunningFakeLine":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def start_fake_line(settings: FakeLineSettings | None = None, port: int = 0,
                    host: str = "127.0.0.1", state: FakeLine | None = None,
                    quiet: bool = True) -> RunningFakeLine:
    """Serve a fake platform in the background; port 0 picks a free port."""
    line = state or FakeLine(settings)
    server = make_server(host, port, create_fake_app(line), threaded=True,
                         request_handler=_QuietHandler if quiet else None)
    thread = threading.Thread(target=server.serve_forever, name="fake-line", daemon=True)
    thread.start()
    url = f"http://{host}:{server.server_port}"
    log.debug("fake LINE platform at %s", url)
    return RunningFakeLine(url=url, state=line, server=server, thread=thread)


def serve_forever(host: str = "127.0.0.1", port: int = 8081,
                  settings: FakeLineSettings | None = None) -> None:
    """Foreground server for `citybot fake-line` (Ctrl-C stops it)."""
    server = make_server(host, port, create_fake_app(FakeLine(settings)), threaded=True, request_handler=_Handler)
    print(f"fake LINE platform listening on http://{host}:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
