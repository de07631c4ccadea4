"""How long `citybot ask` takes from the shell, against what Python itself costs on this machine.

Each figure is a new process (subprocess, like a developer's shell or an e2e test),
timed N times; the median and the best are shown, wall clock and CPU (user + system: on a
shared machine the wall clock also counts the others' work, the CPU time much less so):

  python -c pass          the interpreter alone
  import bot.cli          everything `citybot` imports before it runs a command
  ask, cold               a new instance folder each time: migrations from nothing,
                          every content file parsed and checked
  ask, no content cache   the database ready, instance/content-cache emptied each time
  ask, warm               the second start on the same files: what a developer (and
                          `citybot ask` in a loop) sees
  ask, warm, no .pyc      the same with PYTHONDONTWRITEBYTECODE=1, as some containers and
                          sandboxes set it: the __pycache__ folders already there are read
                          (the libraries' are), none is written, so citybot's own modules,
                          which a checkout has none for, compile again at every start

Every figure but the last runs with bytecode caching on, in a cache folder of the bench's
own (PYTHONPYCACHEPREFIX) filled before timing starts: an installed citybot has its .pyc
files, whether or not the shell running the bench sets PYTHONDONTWRITEBYTECODE.

The goal (issue 13) is a warm `citybot ask` well under a second; 0.6 s is the mark.

    python bench/startup.py [-n 5] [TEXT]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
CITYBOT = "import sys; from bot.cli import main; sys.exit(main())"  # what the `citybot` script runs
GOAL_SECONDS = 0.6


def timed(args: list[str], env: dict[str, str], before: Callable[[], None] = lambda: None) -> tuple[float, float]:
    """(wall, cpu) seconds of one process; `before` runs first, untimed."""
    before()
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    run = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if run.returncode != 0:
        raise SystemExit(f"{' '.join(args[:3])}... failed:\n{run.stderr[-2000:]}")
    return wall, (after.ru_utime - used.ru_utime) + (after.ru_stime - used.ru_stime)


def series(n: int, args: list[str], env: dict[str, str],
           before: Callable[[], None] = lambda: None) -> list[tuple[float, float]]:
    return [timed(args, env, before) for _ in range(n)]


def line(label: str, runs: list[tuple[float, float]]) -> str:
    walls, cpus = [w for w, _ in runs], [c for _, c in runs]
    return (f"  {label:24} wall median {statistics.median(walls):6.3f} s  best {min(walls):6.3f} s   "
            f"cpu median {statistics.median(cpus):6.3f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("text", nargs="?", default="ペットボトル")
    parser.add_argument("-n", type=int, default=5, help="runs per figure (default 5)")
    args = parser.parse_args(argv)
    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="citybot-startup-bench-") as tmp:
        instance = Path(tmp) / "instance"
        base = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
        base.update(CITYBOT_ENV="test", DATABASE_URL="", CONTENT_DIR=str(ROOT / "content"),
                    CITYBOT_INSTANCE_DIR=str(instance))
        env = {**base, "PYTHONPYCACHEPREFIX": str(Path(tmp) / "pycache")}
        no_pyc = {**base, "PYTHONDONTWRITEBYTECODE": "1"}
        ask = [python, "-c", CITYBOT, "ask", args.text]
        timed(ask, env)  # untimed: compiles every module into the bench's bytecode cache

        def new_instance() -> None:
            shutil.rmtree(instance, ignore_errors=True)

        def no_cache() -> None:
            shutil.rmtree(instance / "content-cache", ignore_errors=True)

        figures = [
            ("python -c pass", series(args.n, [python, "-c", "pass"], env)),
            ("import bot.cli", series(args.n, [python, "-c", "import bot.cli"], env)),
            ("ask, cold", series(args.n, ask, env, new_instance)),
            ("ask, no content cache", series(args.n, ask, env, no_cache)),
        ]
        timed(ask, env)  # the first start on these files writes the cache
        figures.append(("ask, warm", series(args.n, ask, env)))
        figures.append(("ask, warm, no .pyc", series(args.n, ask, no_pyc)))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"citybot ask {args.text!r}: {args.n} runs each, {os.cpu_count()} CPUs, load average {load:.1f}")
    for label, runs in figures:
        print(line(label, runs))
    if (ROOT / "bot" / "__pycache__").is_dir():
        print("  note: bot/__pycache__ exists, so the last figure read citybot's bytecode too")
    warm = statistics.median(w for w, _ in figures[-2][1])
    python_alone = statistics.median(w for w, _ in figures[0][1])
    print(f"warm ask: {warm:.3f} s ({warm - python_alone:.3f} s above the interpreter alone); "
          f"goal < {GOAL_SECONDS:g} s: {'met' if warm < GOAL_SECONDS else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
