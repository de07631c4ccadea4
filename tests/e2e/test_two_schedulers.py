"""Two `citybot scheduler` processes started by mistake: a due notice is sent once."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select

from bot.bootstrap import bootstrap
from bot.models import Push, Resident
from tests.conftest import TOKEN

ROOT = Path(__file__).resolve().parents[2]


def test_two_schedulers_send_a_due_notice_once(config, clock, line, fake_line, tmp_path):
    content_dir = tmp_path / "content"
    shutil.copytree(ROOT / "content", content_dir)
    due = (clock() - timedelta(seconds=20)).astimezone(ZoneInfo("Asia/Tokyo")).isoformat()
    (content_dir / "notices" / "drill.yaml").write_text(f"""title: 訓練
at: {due}
segment: {{everyone: true}}
urgent: true
text: {{ja: 訓練です, en: This is a drill, easy_ja: くんれん です}}
""", encoding="utf-8")
    users = [line.add_user(f"r{i}") for i in range(30)]
    svc = bootstrap(config.with_(content_dir=str(content_dir)), now=clock)
    with svc.sessions() as session:
        session.execute(insert(Resident), [{"line_user_id": u, "following": True, "language": "ja",
                                            "created_at": clock(), "last_seen_at": clock()} for u in users])
        session.commit()
    env = {**os.environ, "CITYBOT_ENV": "test", "DATABASE_URL": config.database_url, "CONTENT_DIR": str(content_dir),
           "LINE_CHANNEL_ACCESS_TOKEN": TOKEN, "LINE_API_BASE": fake_line.url, "LOG_LEVEL": "WARNING",
           "CITYBOT_INSTANCE_DIR": config.instance_dir}
    citybot = str(Path(sys.executable).parent / "citybot")
    clocks = [subprocess.Popen([citybot, "scheduler"], cwd=ROOT, env=env, start_new_session=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    try:
        for proc in clocks:  # both have started (and caught up) once they say so
            assert "scheduler running" in proc.stdout.readline()
        time.sleep(1)
    finally:
        for proc in clocks:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
    with svc.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Push)) == 1
    subprocess.run([citybot, "worker", "--once"], cwd=ROOT, env=env, check=True, capture_output=True)
    assert sorted(len(line.messages_for(u)) for u in users) == [1] * 30
    svc.close()
