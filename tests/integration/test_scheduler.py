"""The clock: notices become pushes on time, once, also after downtime and with two clocks."""

import shutil
import threading
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.bootstrap import bootstrap
from bot.models import Push, Resident
from bot.notices import cron_trigger
from bot.scheduler import Clock, latest_occurrence

CONTENT = Path(__file__).resolve().parents[2] / "content"
TOKYO = ZoneInfo("Asia/Tokyo")


def write_notice(content_dir: Path, name: str, body: str) -> None:
    (content_dir / "notices" / f"{name}.yaml").write_text(body, encoding="utf-8")


NOTICE = """title: 防災訓練のお知らせ
at: {at}
segment: {{everyone: true}}
text:
  ja: "12月6日は防災訓練です。"
  en: "Disaster drill on December 6."
  easy_ja: "12がつ6にちは ぼうさいくんれん です。"
"""


@pytest.fixture
def content_dir(tmp_path):
    target = tmp_path / "content"
    shutil.copytree(CONTENT, target)
    return target


@pytest.fixture
def clock_for(config, clock, content_dir):
    made = []

    def make():
        svc = bootstrap(config.with_(content_dir=str(content_dir), scheduler_grace_seconds=3600), now=clock)
        made.append(svc)
        return Clock(svc)
    yield make
    for svc in made:
        svc.close()


def pushes(clock_obj):
    with clock_obj.services.sessions() as s:
        return s.scalars(select(Push.source_key).order_by(Push.id)).all()


def at(clock, **delta):
    return (clock() + timedelta(**delta)).astimezone(TOKYO).isoformat()


def test_a_due_notice_becomes_one_push_to_its_segment(clock_for, clock, content_dir):
    write_notice(content_dir, "drill", NOTICE.format(at=at(clock, minutes=-1)))
    scheduler = clock_for()
    with scheduler.services.sessions() as s:
        s.add(Resident(line_user_id="U" + "1" * 32, created_at=clock(), last_seen_at=clock()))
        s.commit()
    assert scheduler.run_notice("drill", clock()) is not None
    assert scheduler.run_notice("drill", clock()) is None
    [key] = pushes(scheduler)
    assert key.startswith("notice:drill@")
    with scheduler.services.sessions() as s:
        assert s.scalar(select(Push.recipients_total)) == 1


def test_missed_while_down_runs_at_start_if_within_grace_and_never_twice(clock_for, clock, content_dir):
    write_notice(content_dir, "recent", NOTICE.format(at=at(clock, minutes=-30)))
    write_notice(content_dir, "stale", NOTICE.format(at=at(clock, hours=-3)))
    write_notice(content_dir, "future", NOTICE.format(at=at(clock, hours=2)))
    first = clock_for()
    first.catch_up(clock())
    assert [k.split("@")[0] for k in pushes(first)] == ["notice:recent"]
    second = clock_for()  # restarted again: the same occurrence is not sent twice
    second.catch_up(clock())
    assert len(pushes(second)) == 1


def test_two_clocks_at_once_make_one_push(clock_for, clock, content_dir):
    write_notice(content_dir, "drill", NOTICE.format(at=at(clock, seconds=-5)))
    clocks = [clock_for(), clock_for()]
    barrier = threading.Barrier(2)
    results = []

    def run(c):
        barrier.wait()
        results.append(c.run_notice("drill", clock()))
    threads = [threading.Thread(target=run, args=(c,)) for c in clocks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r is None for r in results) == [False, True]
    assert len(pushes(clocks[0])) == 1


def test_jobs_follow_content_changes(clock_for, clock, content_dir):
    scheduler = clock_for()
    scheduler.sync()
    ids = {job.id for job in scheduler.scheduler.get_jobs()}
    assert {"notice:year-end-garbage", "notice:weekly-city-news"} <= ids
    (content_dir / "notices" / "year-end-garbage.yaml").unlink()
    write_notice(content_dir, "drill", NOTICE.format(at=at(clock, days=1)))
    scheduler.services.content.reload_if_changed()
    scheduler.sync()
    ids = {job.id for job in scheduler.scheduler.get_jobs()}
    assert "notice:drill" in ids and "notice:year-end-garbage" not in ids


def test_every_occurrence_missed_within_the_grace_is_caught_up_once(clock_for, clock, content_dir):
    write_notice(content_dir, "hourly", """title: 毎時
cron: "*/20 * * * *"
segment: {everyone: true}
text: {ja: 定時, en: On the hour, easy_ja: じかん}
""")
    scheduler = clock_for()
    scheduler.catch_up(clock())
    assert len(pushes(scheduler)) == 3  # the last hour held three occurrences
    scheduler.catch_up(clock())
    assert len(pushes(scheduler)) == 3


@pytest.mark.parametrize("line, days", [
    ("0 18 * * */2", "sun,tue,thu,sat"), ("0 18 * * 0-4", "sun,mon,tue,wed,thu"), ("0 9 * * 7", "sun"),
    ("0 9 * * 1-5,0", "mon,tue,wed,thu,fri,sun"), ("0 9 * * mon-fri", "mon-fri"),
])
def test_crontab_weekday_numbers_steps_and_ranges(line, days):
    assert str(cron_trigger(line, TOKYO).fields[4]) == days


def test_cron_lines_mean_what_crontab_means():
    trigger = cron_trigger("0 18 * * 5", TOKYO)  # Friday, as in crontab (APScheduler alone says Saturday)
    now = datetime(2026, 12, 5, 12, 0, tzinfo=TOKYO)  # a Saturday
    assert latest_occurrence(trigger, now, timedelta(days=2)) == datetime(2026, 12, 4, 18, 0, tzinfo=TOKYO)
    assert latest_occurrence(trigger, now, timedelta(hours=1)) is None


def _days(trigger, first: datetime, last: datetime) -> list[int]:
    from bot.scheduler import occurrences

    return [fire.day for fire in occurrences(trigger, first, last)]


def test_cron_day_of_month_and_weekday_both_restricted_mean_either():
    """crontab(5): "if both fields are restricted, the command runs when either matches"."""
    december = datetime(2026, 11, 30, 12, 0, tzinfo=TOKYO), datetime(2026, 12, 31, 23, 0, tzinfo=TOKYO)
    fridays = [4, 11, 18, 25]
    assert _days(cron_trigger("0 9 13 * 5", TOKYO), *december) == sorted(fridays + [13])
    assert _days(cron_trigger("0 9 1,15 * 1-2", TOKYO), *december) == [1, 7, 8, 14, 15, 21, 22, 28, 29]
    # a field starting with * counts as unrestricted (cron's DOM_STAR/DOW_STAR): both must match
    assert _days(cron_trigger("0 9 * * 5", TOKYO), *december) == fridays
    assert _days(cron_trigger("0 9 13 * *", TOKYO), *december) == [13]
    assert _days(cron_trigger("0 9 */10 * 5", TOKYO), *december) == [11]  # 1, 11, 21, 31 that are Fridays
    assert _days(cron_trigger("0 9 13 * */3", TOKYO), *december) == [13]  # the 13th is a Sunday (0, 3, 6)
    # the window of a notice (start/until) bounds both halves
    window = cron_trigger("0 9 13 * 5", TOKYO, start=datetime(2026, 12, 10, tzinfo=TOKYO),
                          end=datetime(2026, 12, 20, tzinfo=TOKYO))
    assert _days(window, *december) == [11, 13, 18]
