"""Importers refuse to write what would silently lose content (issue 18, finding 1).

A file that cannot be read whole (a stray quote swallowing the rest, a missing column,
a field or file too large) or that would leave far fewer entries than the current
content is refused: exit 1, the loss named, nothing written, unless --force. Every test
goes through the real `citybot` entry point into a copy of the content folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from bot.cli import main

REPO = Path(__file__).resolve().parents[2]
CONTENT = REPO / "content"
CHILDCARE = REPO / "tests" / "data" / "childcare"
SHELTERS = REPO / "tests" / "data" / "shelters"


@pytest.fixture
def content(tmp_path) -> Path:
    """The files the importers read and write, copied (the rest of the content is not needed)."""
    folder = tmp_path / "content"
    for name in ("settings.yaml", "childcare/facilities.yaml", "childcare/vacancies.yaml",
                 "disaster/shelters.yaml"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(CONTENT / name, folder / name)
    return folder


@pytest.fixture
def told(monkeypatch):
    """handlers.childcare.sync stood in for: the vacancies command tells nobody from a unit test."""
    calls = []
    module = types.ModuleType("handlers.childcare.sync")
    module.sync_vacancies_now = lambda config, **kw: calls.append(kw) or "nobody to tell"
    monkeypatch.setitem(sys.modules, "handlers.childcare.sync", module)
    return calls


def citybot(content: Path, *args: str, **env: str):
    environ = {"CONTENT_DIR": str(content), "CITYBOT_ENV": "test",
               "CITYBOT_INSTANCE_DIR": str(content.parent / "instance"), **env}
    return CliRunner().invoke(main, list(args), env=environ)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under folder (temporary files included) with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def with_stray_quote(src: Path, dest: Path, line: int) -> Path:
    """src with a `"` put at the start of its line `line` (1-based), bytes otherwise kept."""
    lines = src.read_bytes().split(b"\n")
    lines[line - 1] = b'"' + lines[line - 1]
    dest.write_bytes(b"\n".join(lines))
    return dest


def first_lines(src: Path, dest: Path, count: int) -> Path:
    dest.write_bytes(b"\n".join(src.read_bytes().split(b"\n")[:count]) + b"\n")
    return dest


# -- the finding ----------------------------------------------------------------------------------
def test_a_stray_quote_in_the_childcare_sample_writes_nothing_and_says_what_would_be_lost(content, tmp_path):
    broken = with_stray_quote(CHILDCARE / "sample_facilities.csv", tmp_path / "facilities.csv", 3)
    before = snapshot(content)
    result = citybot(content, "import", "childcare", str(broken))
    assert result.exit_code == 1, result.output
    assert "facilities.csv:3: a quoted field is never closed" in result.stderr
    assert "facilities.yaml would go from 48 to 1 facilities; 47 would be removed: みなと市立北保育所" in result.stderr
    assert "vacancies.yaml would lose the places of 47 facilities" in result.stderr
    assert "nothing was written" in result.stderr and "--force" in result.stderr
    assert "written to" not in result.stdout
    assert snapshot(content) == before   # facilities.yaml, vacancies.yaml byte-identical, no temporary file


def test_forced_the_broken_file_is_written_with_the_vacancies_pruned_together(content, tmp_path):
    broken = with_stray_quote(CHILDCARE / "sample_facilities.csv", tmp_path / "facilities.csv", 3)
    result = citybot(content, "import", "childcare", str(broken), "--force")
    assert result.exit_code == 0, result.output
    facilities = yaml.safe_load((content / "childcare" / "facilities.yaml").read_text("utf-8"))["facilities"]
    places = yaml.safe_load((content / "childcare" / "vacancies.yaml").read_text("utf-8"))["places"]
    assert [f["id"] for f in facilities] == ["271009001"] and list(places) == ["271009001"]
    assert not [p for p in (content / "childcare").iterdir() if p.name.startswith(".")]


def test_the_dry_run_of_a_broken_file_says_it_would_be_refused(content, tmp_path):
    broken = with_stray_quote(CHILDCARE / "sample_facilities.csv", tmp_path / "facilities.csv", 3)
    before = snapshot(content)
    result = citybot(content, "import", "childcare", str(broken), "--dry-run")
    assert result.exit_code == 1 and "would go from 48 to 1" in result.stderr
    assert snapshot(content) == before


def test_a_quote_that_closes_lines_later_is_caught_too(content, tmp_path):
    """The stray quote pairs with a later quote: no CSV error, but the field swallowed whole rows."""
    lines = (CHILDCARE / "sample_facilities.csv").read_bytes().split(b"\n")
    lines[2] = b'"' + lines[2]
    lines[6] = lines[6].replace(b",", b'",', 1)   # the swallowing field ends on line 7
    broken = tmp_path / "facilities.csv"
    broken.write_bytes(b"\n".join(lines))
    before = snapshot(content)
    result = citybot(content, "import", "childcare", str(broken), IMPORT_MIN_SHARE="0")   # 44 of 48: no shrink
    assert result.exit_code == 1, result.output
    assert "facilities.csv:3: a quoted field runs over lines 3-7" in result.stderr
    assert snapshot(content) == before


# -- shrinking --------------------------------------------------------------------------------------
def test_a_file_with_far_fewer_facilities_is_refused_unless_forced(content, tmp_path):
    short = first_lines(CHILDCARE / "sample_facilities.csv", tmp_path / "short.csv", 21)   # 20 rows, 18 nurseries
    before = snapshot(content)
    result = citybot(content, "import", "childcare", str(short))
    assert result.exit_code == 1, result.output
    assert "facilities.yaml would go from 48 to 18 facilities; 30 would be removed:" in result.stderr
    assert "less than half (IMPORT_MIN_SHARE 0.5)" in result.stderr
    assert snapshot(content) == before
    result = citybot(content, "import", "childcare", str(short), "--force")
    assert result.exit_code == 0, result.output
    assert len(yaml.safe_load((content / "childcare" / "facilities.yaml").read_text("utf-8"))["facilities"]) == 18


def test_the_share_is_a_setting(content, tmp_path):
    short = first_lines(CHILDCARE / "sample_facilities.csv", tmp_path / "short.csv", 21)
    assert citybot(content, "import", "childcare", str(short), IMPORT_MIN_SHARE="0.3").exit_code == 0
    assert citybot(content, "import", "childcare", str(CHILDCARE / "sample_facilities.csv"),
                   IMPORT_MIN_SHARE="1").exit_code == 0   # 18 -> 48 grows


def test_a_smaller_file_above_the_share_is_written(content, tmp_path):
    most = first_lines(CHILDCARE / "sample_facilities.csv", tmp_path / "most.csv", 45)
    result = citybot(content, "import", "childcare", str(most))
    assert result.exit_code == 0, result.output
    assert "vacancies.yaml" in result.stderr and "no longer a facility: removed" in result.stderr


# -- vacancy tables ---------------------------------------------------------------------------------
def without_column(src: Path, dest: Path, header: str) -> Path:
    text = src.read_bytes().decode("cp932")
    lines = text.split("\r\n")
    index = lines[1].split(",").index(header)
    out = [lines[0]] + [",".join(c for i, c in enumerate(line.split(",")) if i != index) if line else line
                        for line in lines[1:]]
    dest.write_bytes("\r\n".join(out).encode("cp932"))
    return dest


def test_a_vacancy_table_without_the_five_year_class_is_refused(content, tmp_path, told):
    table = without_column(CHILDCARE / "sample_vacancies.csv", tmp_path / "vacancies.csv", "５歳児")
    before = snapshot(content)
    result = citybot(content, "import", "vacancies", str(table))
    assert result.exit_code == 1, result.output
    assert "no ５歳児 column" in result.stderr and "nothing was written" in result.stderr
    assert snapshot(content) == before
    result = citybot(content, "import", "vacancies", str(table), "--force")
    assert result.exit_code == 0, result.output


def test_a_vacancy_table_with_a_stray_quote_is_refused(content, tmp_path, told):
    table = with_stray_quote(CHILDCARE / "sample_vacancies.csv", tmp_path / "vacancies.csv", 10)
    before = snapshot(content)
    result = citybot(content, "import", "vacancies", str(table), "--partial")
    assert result.exit_code == 1, result.output
    assert "vacancies.csv:10:" in result.stderr and "nothing was written" in result.stderr
    assert snapshot(content) == before


# -- shelters and 5374 --------------------------------------------------------------------------------
def test_shelters_with_a_stray_quote_are_refused(content, tmp_path):
    broken = with_stray_quote(SHELTERS / "minato_standard.csv", tmp_path / "sites.csv", 3)
    before = snapshot(content)
    result = citybot(content, "import", "shelters", str(broken))
    assert result.exit_code == 1, result.output
    assert "sites.csv:3:" in result.stderr and "nothing was written" in result.stderr
    assert snapshot(content) == before


def test_far_fewer_shelters_are_refused_unless_forced(content, tmp_path):
    short = first_lines(SHELTERS / "minato_standard.csv", tmp_path / "sites.csv", 11)
    before = snapshot(content)
    result = citybot(content, "import", "shelters", str(short))
    assert result.exit_code == 1, result.output
    assert "shelters.yaml would go from 120 to 9 shelters; 111 would be removed:" in result.stderr
    assert snapshot(content) == before
    assert citybot(content, "import", "shelters", str(short), "--force").exit_code == 0


def test_a_shelter_file_without_a_hazard_column_is_refused(content, tmp_path):
    text = (SHELTERS / "minato_standard.csv").read_text("utf-8-sig")
    broken = tmp_path / "sites.csv"
    broken.write_text(text.replace("災害種別_津波", "津波警報", 1), encoding="utf-8")
    before = snapshot(content)
    result = citybot(content, "import", "shelters", str(broken))
    assert result.exit_code == 1, result.output
    assert "津波" in result.stderr and "nothing was written" in result.stderr
    assert snapshot(content) == before


SMALL = {
    "area_days.csv": "地名,センター,燃やすごみ,燃やさないごみ\n本町,北センター,月 木,水2\n新町,北センター,火 金,水4\n"
                     "旧町,北センター,月 木,金3\n",
    "target.csv": "type,name,notice,furigana\n燃やすごみ,生ごみ,水を切って,なまごみ\n燃やさないごみ,なべ,,な\n"
                  "燃やさないごみ,やかん,,や\n燃やすごみ,紙くず,,か\n",
    "description.csv": "label,sublabel,description,styles,bgcolor\n燃やすごみ,Burnable,,,#ea3b13\n"
                       "燃やさないごみ,Incombustible,,,#3b7bea\n",
}


def five374_folder(folder: Path, **changes: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in {**SMALL, **changes}.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_5374_with_a_stray_quote_keeps_the_garbage_files(tmp_path):
    out = tmp_path / "garbage"
    assert CliRunner().invoke(main, ["import", "5374", str(five374_folder(tmp_path / "good")),
                                     "--out", str(out)]).exit_code == 0
    before = snapshot(out)
    target = SMALL["target.csv"].replace("燃やさないごみ,やかん", '"燃やさないごみ,やかん')
    result = CliRunner().invoke(main, ["import", "5374", str(five374_folder(tmp_path / "bad", **{"target.csv": target})),
                                       "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert "target.csv:4: a quoted field is never closed" in result.stderr
    assert "items.yaml would go from 4 to 2 items" not in result.stderr   # 2 of 4 is not below half
    assert "nothing was written" in result.stderr
    assert snapshot(out) == before


def test_5374_losing_most_areas_or_a_column_is_refused(tmp_path):
    out = tmp_path / "garbage"
    CliRunner().invoke(main, ["import", "5374", str(five374_folder(tmp_path / "good")), "--out", str(out)])
    before = snapshot(out)
    one_area = "地名,センター,燃やすごみ,燃やさないごみ\n本町,北センター,月 木,水2\n"
    result = CliRunner().invoke(main, ["import", "5374", str(five374_folder(tmp_path / "a", **{"area_days.csv": one_area})),
                                       "--out", str(out)])
    assert result.exit_code == 1 and "areas.yaml would go from 3 to 1 areas; 2 would be removed: 新町, 旧町" \
        in result.stderr
    no_name = SMALL["target.csv"].replace("type,name,", "type,品物,")
    result = CliRunner().invoke(main, ["import", "5374", str(five374_folder(tmp_path / "b", **{"target.csv": no_name})),
                                       "--out", str(out)])
    assert result.exit_code == 1 and "target.csv:1: no item name column" in result.stderr
    assert snapshot(out) == before
    result = CliRunner().invoke(main, ["import", "5374", str(tmp_path / "a"), "--out", str(out), "--force"])
    assert result.exit_code == 0, result.output


# -- size limits ------------------------------------------------------------------------------------
def test_a_field_longer_than_the_limit_fails_clearly(content, tmp_path):
    src = tmp_path / "huge.csv"
    header = (CHILDCARE / "sample_facilities.csv").read_bytes().split(b"\n")[0]
    src.write_bytes(header + b"\n271009,271009099,\xe3\x81\xbf," + b'"' + b"x" * 300_000 + b'"\n')
    before = snapshot(content)
    result = citybot(content, "import", "childcare", str(src))
    assert result.exit_code == 1
    assert "huge.csv:2: cannot be read: a field longer than 131072 characters" in result.stderr
    assert snapshot(content) == before


@pytest.mark.parametrize("command", ["shelters", "5374"])
def test_a_file_larger_than_the_limit_is_not_read(content, tmp_path, command):
    big = tmp_path / ("target.csv" if command == "5374" else "big.csv")
    with big.open("wb") as file:   # sparse: 8 MB on paper, nothing on disk
        file.truncate(8 * 1024 * 1024)
    before = snapshot(content)
    args = [str(big)] if command == "shelters" else [str(tmp_path), "--out", str(content / "garbage")]
    result = citybot(content, "import", command, *args, IMPORT_MAX_MB="1")
    assert result.exit_code == 1, result.output
    assert f"{big.name} is larger than 1 MB" in result.stderr
    assert snapshot(content) == before


@pytest.mark.skipif(not Path("/dev/zero").exists() or not Path("/proc/self/statm").exists(),
                    reason="needs /dev/zero and /proc (Linux)")
@pytest.mark.parametrize("command", ["childcare", "vacancies", "shelters"])
def test_reading_dev_zero_stops_at_the_limit_with_bounded_memory(content, tmp_path, command):
    """In a child process whose address space may grow by 512 MB at most once the code is
    loaded, so that an unbounded read fails the test (MemoryError) instead of eating the
    machine."""
    script = textwrap.dedent(f"""
        import resource, sys
        from bot.cli import main
        import handlers.childcare.importer, handlers.disaster.importer
        loaded = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = loaded + 512 * 1024 ** 2
        resource.setrlimit(resource.RLIMIT_AS, (cap if hard == resource.RLIM_INFINITY else min(cap, hard), hard))
        sys.argv = ["citybot", "import", {command!r}, "/dev/zero"]
        main()
    """)
    env = {**os.environ, "CONTENT_DIR": str(content), "CITYBOT_ENV": "test", "IMPORT_MAX_MB": "2",
           "CITYBOT_INSTANCE_DIR": str(tmp_path / "instance")}
    env.pop("DATABASE_URL", None)
    before = snapshot(content)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120,
                          cwd=REPO)
    assert done.returncode == 1, done.stderr[-2000:]
    assert "zero is larger than 2 MB" in done.stderr, done.stderr[-2000:]
    assert snapshot(content) == before
