"""Segments select residents in SQL; `citybot segment count` and `push status` report."""

from datetime import date, datetime, timezone

import pytest
from click.testing import CliRunner

from bot import delivery, segments
from bot.cli import main
from bot.models import Resident, ResidentChild, ResidentTopic

ON = date(2026, 12, 1)


@pytest.fixture
def town(services):
    """Six residents with known attributes."""
    now = datetime.now(timezone.utc)
    people = [
        # district, area, language, topics, children born (year, month)
        ("kita", "kita-1", "ja", ["garbage"], [(2024, 12)]),   # child turns 2 on ON's month
        ("kita", "kita-2", "en", ["disaster"], [(2023, 11)]),  # child is 3
        ("chuo", "chuo-1", "ja", ["garbage", "childcare"], [(2026, 1)]),
        ("chuo", "chuo-1", "easy_ja", [], []),
        (None, None, "ja", [], []),
    ]
    with services.sessions() as s:
        for i, (district, area, lang, topics, kids) in enumerate(people):
            r = Resident(line_user_id=f"U{i:032x}", language=lang, district=district, garbage_area=area,
                         created_at=now, last_seen_at=now, following=True)
            r.topics = [ResidentTopic(topic=t) for t in topics]
            r.children = [ResidentChild(birth_month=y * 12 + m - 1) for y, m in kids]
            s.add(r)
        s.add(Resident(line_user_id="U" + "f" * 32, language="ja", district="kita", created_at=now,
                       last_seen_at=now, following=False))  # blocked: never counted
        s.commit()
    return services


@pytest.mark.parametrize("spec, expected", [
    ({"everyone": True}, 5),
    ({"districts": ["kita"]}, 2),
    ({"districts": ["kita", "chuo"], "languages": ["ja"]}, 2),
    ({"garbage_areas": ["chuo-1"]}, 2),
    ({"topics": ["garbage"]}, 2),
    ({"topics": ["garbage"], "districts": ["chuo"]}, 1),
    ({"child_age": {"min": 0, "max": 2}}, 2),
    ({"child_age": {"min": 3, "max": 5}}, 1),
    ({"child_age": {"min": 0, "max": 0}}, 1),
])
def test_segment_counts(town, spec, expected):
    with town.sessions() as s:
        assert segments.count(s, segments.Segment.model_validate(spec), ON) == expected


def test_a_segment_must_say_something():
    for bad in ({}, {"districts": []}, {"languages": ["fr"]}, {"child_age": {"min": 3, "max": 1}}, {"ward": ["x"]}):
        with pytest.raises(ValueError):
            segments.Segment.model_validate(bad)


def test_cli_segment_count_and_push_status(town, config, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", config.database_url)
    monkeypatch.setenv("CITYBOT_ENV", "test")
    runner = CliRunner()
    result = runner.invoke(main, ["segment", "count", "{districts: [kita]}", "--on", "2026-12-01"])
    assert (result.exit_code, result.output.strip()) == (0, "2"), result.output
    assert runner.invoke(main, ["segment", "count", "everyone"]).output.strip() == "5"
    bad = runner.invoke(main, ["segment", "count", "{wards: [kita]}"])
    assert bad.exit_code == 2 and "neither a named segment" in bad.output

    with town.sessions() as s:
        push_id = delivery.create_push(s, source_key="notice:test@1", kind="notice", now=datetime.now(timezone.utc),
                                       messages={"*": [{"type": "text", "text": "x"}]},
                                       recipients=segments.recipients(segments.Segment(districts=["kita"]), ON))
        s.commit()
    status = runner.invoke(main, ["push", "status", str(push_id)])
    assert status.exit_code == 0
    assert "notice:test@1" in status.output and "         2" in status.output
    assert runner.invoke(main, ["push", "status", "999"]).exit_code == 1
