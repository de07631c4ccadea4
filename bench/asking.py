"""`citybot ask -` on the sample content with a fresh SQLite database: the front door the
accuracy benches (faq.py, everyday.py) measure through."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CITYBOT = str(Path(sys.executable).parent / "citybot")


def ask_lines(lines: list[str], instance: Path, *flags: str) -> subprocess.CompletedProcess:
    """Each line a message, through the router and the handlers; SystemExit if ask failed."""
    env = {**os.environ, "CITYBOT_INSTANCE_DIR": str(instance), "DATABASE_URL": "", "CITYBOT_ENV": "test",
           "CONTENT_DIR": str(ROOT / "content")}
    run = subprocess.run([CITYBOT, "ask", *flags, "-"], input="\n".join(lines) + "\n", capture_output=True,
                         text=True, env=env, cwd=ROOT, check=False)
    if run.returncode != 0:
        raise SystemExit(f"citybot ask failed:\n{run.stderr}")
    return run
