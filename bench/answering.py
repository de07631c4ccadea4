"""What answering a resident's message costs, process by process: CPU per answered event.

bench/webhook.py judges the acknowledgement; this one looks behind it. It starts the fake
LINE platform, gunicorn and `citybot worker` processes as bench/webhook.py does, stores a
burst of events with the workers stopped, then lets them answer it and prints, from
/proc, the CPU seconds each kind of process spent per answered event (the workers, the
fake platform checking every reply against LINE's spec, and PostgreSQL's own processes),
the events answered per second, and how many answers LINE accepted per event (exactly one
each). The backlog is read from the inbox, not from the platform's request log, so the
bench itself costs next to nothing meanwhile.

    python bench/answering.py [--events 1500] [--databases sqlite,postgresql] [--answerers 2]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.webhook import (  # noqa: E402
    CITYBOT,
    SECRET,
    TOKEN,
    Platform,
    add_deployment_options,
    free_port,
    fresh_postgres,
    gunicorn,
    post,
    signal_all,
    spawn,
    stop,
    wait_http,
)
from bot.inbox import OPEN  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
OPEN_SQL = ", ".join(f"'{status.value}'" for status in OPEN)


def cpu_seconds(pid: int) -> float:
    """User and system time of one process so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def family(pid: int) -> list[int]:
    """A process and its descendants (`nice` and gunicorn start children)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
    found = [pid]
    for child, parent in sorted(parents.items()):
        if parent in found:
            found.append(child)
    return found


def postgres_seconds() -> float:
    total = 0.0
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().startswith("postgres"):
                total += cpu_seconds(int(entry.name))
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def run(label: str, args, base_env: dict[str, str], platform: Platform, platform_pid: int) -> dict:
    from sqlalchemy import create_engine, text

    tmp = tempfile.mkdtemp(prefix="citybot-bench-")
    url = args.postgres if label == "PostgreSQL" else f"sqlite:///{tmp}/citybot.sqlite3"
    if label == "PostgreSQL":
        fresh_postgres(url)
    env = {**base_env, "DATABASE_URL": url, "CITYBOT_INSTANCE_DIR": tmp,
           "PROCESSING_THREADS": str(args.answer_threads)}
    subprocess.run([CITYBOT, "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port = free_port()
    web = gunicorn("wsgi:app", port, env, 2, 8)
    workers = [spawn([CITYBOT, "worker"], env) for _ in range(args.answerers)]
    engine = create_engine(url)
    try:
        wait_http(f"http://127.0.0.1:{port}/livez")
        warm = platform.events(100)
        post(port, warm, 4)
        platform.wait_answered(warm, timeout=120)
        burst = platform.events(args.events)
        signal_all(workers, signal.SIGSTOP)
        post(port, burst, 16)
        pids = [pid for worker in workers for pid in family(worker.pid)]
        before = sum(cpu_seconds(pid) for pid in pids), cpu_seconds(platform_pid), postgres_seconds()
        started = time.perf_counter()
        signal_all(workers, signal.SIGCONT)
        while True:
            time.sleep(0.25)
            with engine.connect() as conn:
                left = conn.execute(text(f"SELECT count(*) FROM inbox_events WHERE status IN ({OPEN_SQL})")).scalar()
                bodies = conn.execute(text("SELECT count(*) FROM webhook_bodies")).scalar() \
                    if label == "PostgreSQL" else 0
            if not left and not bodies and time.perf_counter() - started > 1:
                break
        elapsed = time.perf_counter() - started
        after = sum(cpu_seconds(pid) for pid in pids), cpu_seconds(platform_pid), postgres_seconds()
    finally:
        stop([web, *workers])
        engine.dispose()
    answers = Counter(platform.answers(burst).values())
    return {"database": label, "events": args.events, "seconds": elapsed,
            "workers_ms": (after[0] - before[0]) / args.events * 1000,
            "platform_ms": (after[1] - before[1]) / args.events * 1000,
            "postgres_ms": (after[2] - before[2]) / args.events * 1000 if label == "PostgreSQL" else None,
            "once": answers.get(1, 0), "never": answers.get(0, 0),
            "more": sum(n for k, n in answers.items() if k > 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1500)
    add_deployment_options(parser)
    args = parser.parse_args()

    fake_port = free_port()
    fake_url = f"http://127.0.0.1:{fake_port}"
    env = {**os.environ, "CITYBOT_ENV": "test", "LINE_CHANNEL_SECRET": SECRET, "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
           "LINE_API_BASE": fake_url, "LOG_LEVEL": "WARNING", "CONTENT_RELOAD_SECONDS": "0"}
    fake = spawn([CITYBOT, "fake-line", "--port", str(fake_port)], env)
    try:
        wait_http(fake_url + "/__fake__/users")
        platform_pid = family(fake.pid)[-1]
        platform = Platform(fake_url)
        print(f"{args.events} events stored with the workers stopped, then answered by {args.answerers} "
              f"`citybot worker` x {args.answer_threads} threads; CPU per answered event")
        print(f"{'':12}{'answered/s':>11}{'workers':>10}{'platform':>10}{'postgres':>10}   answers per event")
        for name in args.databases.split(","):
            label = "PostgreSQL" if name.strip().startswith("postgres") else "SQLite"
            r = run(label, args, env, platform, platform_pid)
            pg = f"{r['postgres_ms']:7.1f} ms" if r["postgres_ms"] is not None else f"{'-':>10}"
            print(f"{label:12}{r['events'] / r['seconds']:11.0f}{r['workers_ms']:7.1f} ms{r['platform_ms']:7.1f} ms"
                  f"{pg}   once {r['once']}, never {r['never']}, more than once {r['more']}")
    finally:
        stop([fake])


if __name__ == "__main__":
    main()
