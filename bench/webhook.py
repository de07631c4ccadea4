"""Webhook acknowledgement under gunicorn, against a bare Flask "ok" run the same way.

Starts the fake LINE platform, then for each app (citybot's wsgi:app and bench/bare_app)
a gunicorn with the project's gunicorn.conf.py on a free port, posts the same signed
webhook bodies at it from N client threads, and prints throughput and p50/p99 latency of
the 200s, side by side, with citybot's figures as a ratio of the bare endpoint's. It also
reports how long citybot took to answer every event on the fake platform (the work done
after the acknowledgement).

    python bench/webhook.py [--requests 3000] [--concurrency 16] [--database-url URL]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.fakeline import webhook_events as ev  # noqa: E402

SECRET = "bench-channel-secret"
TOKEN = "bench-access-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def start_gunicorn(app: str, port: int, env: dict[str, str], workers: int, threads: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}",
           "--workers", str(workers), "--threads", str(threads), "--access-logfile", "/dev/null",
           "--log-level", "warning", app]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)


def post_all(port: int, bodies: list[bytes], concurrency: int) -> tuple[float, list[float], int]:
    """Post every body once; (wall seconds, latencies in ms, non-200 count)."""
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()
    queue = iter(range(len(bodies)))

    def worker() -> None:
        nonlocal failures
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        bad = 0
        while True:
            with lock:
                index = next(queue, None)
            if index is None:
                break
            body = bodies[index]
            started = time.perf_counter()
            try:
                conn.request("POST", "/callback", body=body, headers={
                    "Content-Type": "application/json", "X-Line-Signature": ev.signature(SECRET, body)})
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                ok = False
            mine.append((time.perf_counter() - started) * 1000)
            bad += not ok
        conn.close()
        with lock:
            latencies.extend(mine)
            failures += bad

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started, latencies, failures


def wait_delivered(fake_url: str, count: int, timeout: float) -> int:
    """Messages the fake platform recorded, once there are `count` (or the time is up)."""
    deadline = time.monotonic() + timeout
    while True:
        delivered = len(requests.get(fake_url + "/__fake__/messages", timeout=30).json()["messages"])
        if delivered >= count or time.monotonic() > deadline:
            return delivered
        time.sleep(0.2)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="citybot-bench-")
    fake_port, bot_port, bare_port = free_port(), free_port(), free_port()
    fake_url = f"http://127.0.0.1:{fake_port}"
    env = {**os.environ, "CITYBOT_ENV": "test", "LINE_CHANNEL_SECRET": SECRET, "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
           "LINE_API_BASE": fake_url, "CITYBOT_INSTANCE_DIR": tmp, "LOG_LEVEL": "WARNING",
           "DATABASE_URL": args.database_url, "CONTENT_RELOAD_SECONDS": "0"}
    procs: list[subprocess.Popen] = []
    try:
        citybot = str(Path(sys.executable).parent / "citybot")
        procs.append(subprocess.Popen([citybot, "fake-line", "--port", str(fake_port)],
                                      cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                      start_new_session=True))
        subprocess.run([str(Path(sys.executable).parent / "citybot"), "db", "upgrade"], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_http(fake_url + "/__fake__/users")
        procs.append(start_gunicorn("wsgi:app", bot_port, env, args.workers, args.threads))
        procs.append(start_gunicorn("bench.bare_app:app", bare_port, env, args.workers, args.threads))
        wait_http(f"http://127.0.0.1:{bot_port}/healthz")
        wait_http(f"http://127.0.0.1:{bare_port}/")

        users = [requests.post(fake_url + "/__fake__/users", json={"displayName": f"r{i}"}, timeout=5).json()["userId"]
                 for i in range(50)]

        def bodies() -> list[bytes]:
            out = []
            for i in range(args.requests):
                user = users[i % len(users)]
                token = requests.post(fake_url + "/__fake__/reply-tokens", json={"userId": user}, timeout=5).json()
                out.append(ev.callback_body([ev.text_event(user, "ヘルプ" if i % 2 else "メニュー",
                                                           reply_token=token["replyToken"])]))
            return out

        # warm up both (imports, connections, first requests)
        post_all(bare_port, bodies()[:100], 4)
        post_all(bot_port, bodies()[:100], 4)
        before = wait_delivered(fake_url, 100, timeout=60)

        bare_bodies, bot_bodies = bodies(), bodies()
        bare = post_all(bare_port, bare_bodies, args.concurrency)
        bot = post_all(bot_port, bot_bodies, args.concurrency)
        acked_at = time.perf_counter()
        delivered = wait_delivered(fake_url, before + args.requests, timeout=300)
        drained = time.perf_counter() - acked_at

        print(f"webhook bench: {args.requests} signed events, {args.concurrency} clients, gunicorn "
              f"{args.workers} workers x {args.threads} threads, database "
              f"{'PostgreSQL' if args.database_url.startswith('postgresql') else 'SQLite'}")
        print(f"{'':24}{'bare Flask ok':>16}{'citybot':>14}{'ratio':>10}")
        rows = []
        for label, fn in (("throughput (req/s)", lambda r: args.requests / r[0]),
                          ("ack p50 (ms)", lambda r: statistics.median(r[1])),
                          ("ack p99 (ms)", lambda r: percentile(r[1], 99)),
                          ("non-200 answers", lambda r: r[2])):
            a, b = fn(bare), fn(bot)
            ratio = f"{b / a:.2f}x" if a else "-"
            print(f"{label:24}{a:16.1f}{b:14.1f}{ratio:>10}")
            rows.append((label, a, b))
        print(f"citybot answered {delivered - before}/{args.requests} events on the fake platform "
              f"{drained:.1f} s after the last acknowledgement")
        print(json.dumps({"bare": {k: v for k, v, _ in rows}, "citybot": {k: v for k, _, v in rows}}))
    finally:
        for proc in procs:
            try:
                os.killpg(proc.pid, 15)
            except ProcessLookupError:
                pass
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)


if __name__ == "__main__":
    main()
