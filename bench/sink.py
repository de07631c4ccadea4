"""A Messaging API sink for benchmarks: accepts what citybot sends, as fast as it can, and
remembers when.

The fake LINE platform (bot/fakeline) checks every request against LINE's OpenAPI spec,
keeps every message and enforces LINE's rate limits: right for tests, but at hundreds of
multicasts a second it, not citybot, would be what a fan-out benchmark measures. This sink
only reads the body, counts recipients, notes the reply token and the time, and answers
what the SDK expects. `GET /__sink__/stats` returns what it saw.

    python bench/sink.py --port 8090
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SENT = json.dumps({"sentMessages": [{"id": "1", "quoteToken": "q"}]}).encode()


class Seen:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.multicasts: list[tuple[float, int]] = []  # (time, recipients)
        self.replies: dict[str, float] = {}              # reply token -> time
        self.pushes: dict[str, float] = {}               # retry key -> time

    def stats(self) -> bytes:
        with self.lock:
            return json.dumps({"multicasts": self.multicasts, "replies": self.replies,
                               "pushes": self.pushes}).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go as two writes: no 40 ms delayed-ACK stall
    seen: Seen

    def log_message(self, *args) -> None:  # silence: thousands of requests a second
        pass

    def _answer(self, body: bytes, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        now = time.time()  # before reading 500 ids: requests that came together keep their times
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        with self.seen.lock:
            if self.path.endswith("/message/multicast"):
                self.seen.multicasts.append((now, len(body.get("to", []))))
            elif self.path.endswith("/message/reply"):
                self.seen.replies[body.get("replyToken", "")] = now
            elif self.path.endswith("/message/push"):
                self.seen.pushes[self.headers.get("X-Line-Retry-Key", "")] = now
        self._answer(SENT if self.path.endswith(("/reply", "/push")) else b"{}")

    def do_GET(self) -> None:  # noqa: N802
        if self.path == "/__sink__/stats":
            self._answer(self.seen.stats())
        elif "/profile/" in self.path:
            user = self.path.rsplit("/", 1)[-1]
            self._answer(json.dumps({"userId": user, "displayName": "r", "language": "ja"}).encode())
        else:
            self._answer(b"{}")


def serve(port: int) -> None:
    Handler.seen = Seen()
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    serve(parser.parse_args().port)
