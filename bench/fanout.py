"""Fan-out of one push to ~30 % of 1,000,000 residents, and its delivery.

For each database (SQLite, and PostgreSQL when reachable) the script fills a fresh
database with synthetic residents, then measures, in this process:
  - the time to create the push: segment query, recipients numbered per language and
    grouped into batches of 500, all inside the database;
  - this process's peak RSS before and after (recipients must never be loaded here);
with `citybot worker` processes already running (1, and 4 on PostgreSQL, sharing the queue
with SKIP LOCKED and 190 multicasts/s, a little under LINE's limit of 200) and sending to bench/sink.py,
a Messaging API sink fast enough that the configured rate, not the platform, is the limit.
Reports delivery throughput as a share of that rate (the bar: >= 90 %), and the busiest
second the sink saw (LINE answers 429 past 200).

    python bench/fanout.py [--residents 1000000] [--share 0.3] [--workers 1,4]
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import requests
from sqlalchemy import create_engine, func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import delivery, migrate, segments  # noqa: E402
from bot.config import Config  # noqa: E402
from bot.db import make_engine, make_session_factory  # noqa: E402
from bot.heartbeat import ProcessHeartbeat  # noqa: E402
from bot.models import Push, PushBatch  # noqa: E402

PG_ADMIN = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PG_BENCH = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/citybot_bench")
TOKEN = "bench-access-token"
LINE_LIMIT = 200      # multicast requests/s per channel (line-facts.md); LINE answers 429 past it
CONFIGURED_RATE = 190  # what the workers share: a little under the limit, as the README advises, since a
                       # request leaves its worker a moment after its slot and two can fall in one second


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fresh_postgres() -> str | None:
    try:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS citybot_bench"))
            conn.execute(text("CREATE DATABASE citybot_bench"))
        admin.dispose()
        return PG_BENCH
    except Exception as exc:  # noqa: BLE001 - no PostgreSQL here: bench SQLite only
        print(f"(PostgreSQL not reachable, skipped: {exc.__class__.__name__})")
        return None


def fill(url: str, residents: int, share: float) -> float:
    """Synthetic residents, `share` of them in district 'kita'; returns seconds taken."""
    cut = round(share * 1000)
    started = time.perf_counter()
    engine = make_engine(url)
    with engine.begin() as conn:
        if url.startswith("sqlite"):
            conn.execute(text("""
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count)
                INSERT INTO residents (line_user_id, language, following, created_at, last_seen_at, district)
                SELECT 'U' || printf('%032x', i),
                       CASE i % 20 WHEN 0 THEN 'en' WHEN 1 THEN 'easy_ja' ELSE 'ja' END, 1,
                       '2026-11-01 00:00:00', '2026-11-01 00:00:00',
                       CASE WHEN (i * 7919) % 1000 < :cut THEN 'kita' ELSE 'minami' END
                FROM n"""), {"count": residents, "cut": cut})
        else:
            conn.execute(text("""
                INSERT INTO residents (line_user_id, language, following, created_at, last_seen_at, district)
                SELECT 'U' || lpad(to_hex(i), 32, '0'),
                       CASE i % 20 WHEN 0 THEN 'en' WHEN 1 THEN 'easy_ja' ELSE 'ja' END, true,
                       now(), now(),
                       CASE WHEN (i::bigint * 7919) % 1000 < :cut THEN 'kita' ELSE 'minami' END
                FROM generate_series(1, :count) AS i"""), {"count": residents, "cut": cut})
            conn.execute(text("ANALYZE residents"))
    engine.dispose()
    return time.perf_counter() - started


def create_push(url: str, key: str) -> tuple[int, float, int, int]:
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    now = datetime.now(timezone.utc)
    started = time.perf_counter()
    with sessions() as session:
        push_id = delivery.create_push(
            session, source_key=key, kind="notice", now=now,
            messages={"ja": [{"type": "text", "text": "北区のお知らせ"}], "en": [{"type": "text", "text": "Kita"}],
                      "easy_ja": [{"type": "text", "text": "きたくの おしらせ"}]},
            recipients=segments.recipients(segments.Segment(districts=["kita"]), now.date()))
        session.commit()
        seconds = time.perf_counter() - started
        batches = session.scalar(select(func.count()).select_from(PushBatch).where(PushBatch.push_id == push_id))
        recipients = session.scalar(select(func.sum(PushBatch.recipient_count)).where(PushBatch.push_id == push_id))
    engine.dispose()
    return push_id, seconds, batches, recipients


def start_workers(url: str, workers: int, sink_url: str, tmp: str) -> list[subprocess.Popen]:
    """`workers` worker processes, each with its share of the rate, once all are running
    (their heartbeats are written): a city's workers are up before a push is made."""
    env = {**os.environ, "CITYBOT_ENV": "test", "DATABASE_URL": url, "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
           "LINE_API_BASE": sink_url, "CITYBOT_INSTANCE_DIR": tmp, "QUIET_HOURS": "off",
           "DELIVERY_RATE_PER_SECOND": str(CONFIGURED_RATE / workers), "WORKER_IDLE_SECONDS": "0.05",
           "LOG_LEVEL": "ERROR", "CONTENT_RELOAD_SECONDS": "0", "INBOX_SWEEP_SECONDS": "3600"}
    procs = [subprocess.Popen([str(Path(sys.executable).parent / "citybot"), "worker"], cwd=ROOT, env=env,
                              start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for _ in range(workers)]
    engine = make_engine(url)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                if conn.execute(select(func.count()).select_from(ProcessHeartbeat)
                                .where(ProcessHeartbeat.pid.in_([p.pid for p in procs]))).scalar() == workers:
                    break
            time.sleep(0.2)
        else:
            raise RuntimeError("the workers did not start")
    finally:
        engine.dispose()
    time.sleep(1)  # past the heartbeat: the sending loop is running
    return procs


def stop_workers(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        proc.wait(timeout=30)


def delivery_figures(url: str, push_id: int, sink_url: str, since: float) -> tuple[float, float, int]:
    """(seconds from the push's creation to its last send, seconds from the first claim
    to the last send, the most multicasts the sink saw in any one second)."""
    wait_sent(url, push_id)
    engine = make_engine(url)
    with engine.connect() as conn:
        created, first, last = conn.execute(
            select(func.min(Push.created_at), func.min(PushBatch.claimed_at), func.max(PushBatch.sent_at))
            .join(Push, Push.id == PushBatch.push_id).where(PushBatch.push_id == push_id)).one()
    engine.dispose()
    times = sorted(round(t * 1000) for t, _ in requests.get(sink_url + "/__sink__/stats", timeout=30)
                   .json()["multicasts"] if t >= since)
    busiest, start = 0, 0
    for end, t in enumerate(times):  # a sliding one-second window over the send times (ms)
        while times[start] <= t - 1000:
            start += 1
        busiest = max(busiest, end - start + 1)
    return _seconds_between(created, last), _seconds_between(first, last), busiest


def wait_sent(url: str, push_id: int, timeout: float = 3600) -> None:
    """Until no batch of the push is waiting or being sent."""
    engine = make_engine(url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                left = conn.execute(select(func.count()).select_from(PushBatch).where(
                    PushBatch.push_id == push_id, PushBatch.status.in_(delivery.IN_FLIGHT))).scalar()
            if not left:
                return
            time.sleep(0.1)
    finally:
        engine.dispose()


def _seconds_between(first, last) -> float:
    if first.tzinfo is None:
        first, last = first.replace(tzinfo=timezone.utc), last.replace(tzinfo=timezone.utc)
    return max((last - first).total_seconds(), 1e-6)


def verdict(database: str, share: float, busiest: int) -> str:
    if busiest > LINE_LIMIT:
        return "OVER LINE'S LIMIT"
    if database != "PostgreSQL":
        return "(the bar is PostgreSQL's)"
    return "ok" if share >= 0.9 else "BELOW 90 %"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--share", type=float, default=0.3)
    parser.add_argument("--workers", default="1,4", help="worker counts to try on PostgreSQL (SQLite runs 1)")
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="citybot-fanout-")
    sink_port = free_port()
    sink_url = f"http://127.0.0.1:{sink_port}"
    sink = subprocess.Popen([sys.executable, str(ROOT / "bench" / "sink.py"), "--port", str(sink_port)], cwd=ROOT,
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rows = []
    try:
        for _ in range(100):
            try:
                requests.get(sink_url + "/__sink__/stats", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.1)
        databases = [("SQLite", f"sqlite:///{tmp}/fanout.sqlite3", [1])]
        pg = fresh_postgres()
        if pg:
            databases.append(("PostgreSQL", pg, [int(w) for w in args.workers.split(",")]))
        for name, url, worker_counts in databases:
            migrate.upgrade(Config(env="test", database_url=url, instance_dir=tmp))
            filled = fill(url, args.residents, args.share)
            for workers in worker_counts:
                procs = start_workers(url, workers, sink_url, tmp)
                try:
                    since = time.time()
                    rss_before = rss_mb()
                    push_id, seconds, batches, recipients = create_push(url, f"bench:{name}:{workers}:{since}")
                    rss_after = rss_mb()
                    delivered_in, steady, busiest = delivery_figures(url, push_id, sink_url, since)
                finally:
                    stop_workers(procs)
                rate = batches / steady
                rows.append((name, workers, filled, recipients, batches, seconds, rss_before, rss_after,
                             delivered_in, rate, rate / CONFIGURED_RATE, busiest))
    finally:
        os.killpg(sink.pid, signal.SIGTERM)
        sink.wait(timeout=10)

    print(f"fan-out bench: {args.residents:,} residents, segment 'districts: [kita]' (~{args.share:.0%}), "
          f"configured rate {CONFIGURED_RATE} multicasts/s shared by the workers (LINE's limit {LINE_LIMIT}), "
          "sent to bench/sink.py")
    print(f"{'database':11}{'workers':>8}{'fill s':>8}{'recipients':>11}{'batches':>8}{'fan-out s':>10}"
          f"{'RSS MB before/after':>21}{'deliver s':>10}{'req/s':>8}{'of rate':>8}{'busiest s':>10}")
    print("(deliver s: from creating the push until its last batch was sent; req/s: batches per second from "
          "the first claim to the last send; busiest s: most multicasts in any one second, LINE answers 429 "
          f"past {LINE_LIMIT})")
    for (name, workers, filled, recipients, batches, seconds, before, after, delivered_in, rate, share,
         busiest) in rows:
        print(f"{name:11}{workers:>8}{filled:>8.1f}{recipients:>11,}{batches:>8}{seconds:>10.2f}"
              f"{before:>12.0f}/{after:<8.0f}{delivered_in:>10.1f}{rate:>8.1f}{share:>8.0%}{busiest:>10}"
              f"   {verdict(name, share, busiest)}")


if __name__ == "__main__":
    main()
