"""The whole path on one PostgreSQL with 1,000,000 residents: two web processes, four
workers, a district push and residents writing, all at once.

Fills a fresh database (bench/fanout.py's synthetic residents, ~30 % in district kita),
starts a Messaging API sink (bench/sink.py: fast enough that citybot's configured rate, not
the platform, is the limit), gunicorn with two web processes and four `citybot worker`
processes sharing DELIVERY_RATE_PER_SECOND (190 multicast requests/s in all, under LINE's 200),
then:

  fan-out    a push to district kita: batches per second from the first claim to the last
             send, as a share of the configured rate (the bar: >= 90 %)
  whole path while a second district push is delivering, residents write (signed
             webhooks at --rate per second for --seconds): acknowledgement p50/p99, and
             from each post to its reply reaching the sink (webhook -> worker -> reply)
             p50/p99, replies per second, and the push's rate meanwhile

    python bench/wholepath.py [--residents 1000000] [--rate 100] [--seconds 20]
"""

from __future__ import annotations

import argparse
import http.client
import os
import secrets
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fanout import CONFIGURED_RATE, create_push, fill, fresh_postgres, wait_sent  # noqa: E402
from bench.webhook import CITYBOT, SECRET, TOKEN, free_port, gunicorn, percentile, spawn, stop, wait_http  # noqa: E402
from bot import migrate  # noqa: E402
from bot.config import Config  # noqa: E402
from bot.db import make_engine  # noqa: E402
from bot.fakeline import webhook_events as ev  # noqa: E402
from bot.models import PushBatch  # noqa: E402

WORKERS = 4


def push_rate(url: str, push_id: int) -> tuple[float, int]:
    """(batches per second from the first claim to the last send, batches), once all are sent."""
    wait_sent(url, push_id, timeout=600)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            first, last, batches = conn.execute(select(func.min(PushBatch.claimed_at), func.max(PushBatch.sent_at),
                                                       func.count()).where(PushBatch.push_id == push_id)).one()
    finally:
        engine.dispose()
    return batches / max((last - first).total_seconds(), 1e-6), batches


def residents_write(port: int, rate: float, seconds: float, residents: int) -> tuple[dict[str, float], list[float]]:
    """Signed text events from existing residents at `rate`/s; (reply token -> post time, ack ms)."""
    count = int(rate * seconds)
    bodies = []
    for i in range(count):
        user = "U" + format(1 + (i * 104729) % residents, "032x")
        token = secrets.token_hex(16)
        bodies.append((token, ev.callback_body([ev.text_event(user, "ヘルプ", reply_token=token)])))
    sent_at: dict[str, float] = {}
    acks: list[float] = []
    lock = threading.Lock()
    queue = iter(range(count))
    began = time.perf_counter()
    wall = time.time() - began  # perf_counter -> wall clock, for the sink's times

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                index = next(queue, None)
            if index is None:
                break
            delay = began + index / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            token, body = bodies[index]
            started = time.perf_counter()
            conn.request("POST", "/callback", body=body, headers={
                "Content-Type": "application/json", "X-Line-Signature": ev.signature(SECRET, body)})
            conn.getresponse().read()
            with lock:
                sent_at[token] = started + wall
                acks.append((time.perf_counter() - started) * 1000)
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sent_at, acks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--share", type=float, default=0.3)
    parser.add_argument("--rate", type=float, default=50.0, help="webhook events per second in the whole-path run")
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()

    url = fresh_postgres()
    if url is None:
        sys.exit("this bench needs PostgreSQL")
    tmp = tempfile.mkdtemp(prefix="citybot-wholepath-")
    migrate.upgrade(Config(env="test", database_url=url, instance_dir=tmp))
    filled = fill(url, args.residents, args.share)
    sink_port, web_port = free_port(), free_port()
    sink = f"http://127.0.0.1:{sink_port}"
    env = {**os.environ, "CITYBOT_ENV": "test", "DATABASE_URL": url, "LINE_CHANNEL_SECRET": SECRET,
           "LINE_CHANNEL_ACCESS_TOKEN": TOKEN, "LINE_API_BASE": sink, "LINE_DATA_API_BASE": sink,
           "CITYBOT_INSTANCE_DIR": tmp, "QUIET_HOURS": "off", "LOG_LEVEL": "ERROR", "CONTENT_RELOAD_SECONDS": "0",
           "DELIVERY_RATE_PER_SECOND": str(CONFIGURED_RATE / WORKERS), "WORKER_IDLE_SECONDS": "0.05"}
    procs = [spawn([sys.executable, str(ROOT / "bench" / "sink.py"), "--port", str(sink_port)], env),
             gunicorn("wsgi:app", web_port, env, 2, 8)]
    procs += [spawn([CITYBOT, "worker"], env) for _ in range(WORKERS)]
    try:
        wait_http(sink + "/__sink__/stats")
        wait_http(f"http://127.0.0.1:{web_port}/livez")
        push_id, fanout_s, batches, recipients = create_push(url, f"bench:alone:{time.time()}")
        alone_rate, _ = push_rate(url, push_id)

        push_id, _, _, _ = create_push(url, f"bench:busy:{time.time()}")
        sent_at, acks = residents_write(web_port, args.rate, args.seconds, args.residents)
        busy_rate, _ = push_rate(url, push_id)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            replies = requests.get(sink + "/__sink__/stats", timeout=30).json()["replies"]
            if all(token in replies for token in sent_at):
                break
            time.sleep(0.5)
    finally:
        stop(procs)

    latencies = [(replies[token] - at) * 1000 for token, at in sent_at.items() if token in replies]
    answered = [replies[token] for token in sent_at if token in replies]
    span = max(answered) - min(answered) if len(answered) > 1 else 0
    print(f"whole path on PostgreSQL: {args.residents:,} residents (filled in {filled:.0f} s), gunicorn 2 web "
          f"processes x 8 threads, {WORKERS} `citybot worker`, configured rate {CONFIGURED_RATE} multicasts/s")
    print(f"fan-out alone: {recipients:,} recipients in {batches} batches (created in {fanout_s:.1f} s); "
          f"{alone_rate:.1f} batches/s = {alone_rate / CONFIGURED_RATE:.0%} of the configured rate"
          f"   {'ok' if alone_rate >= 0.9 * CONFIGURED_RATE else 'BELOW 90 %'}")
    print(f"whole path: {len(sent_at)} webhooks at {args.rate:.0f}/s while a {batches}-batch district push "
          f"delivers at {busy_rate:.1f} batches/s ({busy_rate / CONFIGURED_RATE:.0%})")
    print(f"  ack p50 / p99: {statistics.median(acks):.1f} / {percentile(acks, 99):.1f} ms")
    if latencies:
        print(f"  webhook -> reply p50 / p99: {statistics.median(latencies):.0f} / {percentile(latencies, 99):.0f} ms; "
              f"{len(latencies)}/{len(sent_at)} replied, {len(latencies) / span if span else 0:.0f} replies/s")
    else:
        print("  no replies reached the sink")


if __name__ == "__main__":
    main()
