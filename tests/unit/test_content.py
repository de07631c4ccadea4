"""Content staff edit: every problem with its file and line; broken content never serves."""

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.bootstrap import build_router, content_schema
from bot.cli import main
from bot.config import Config
from bot.content.store import ContentError, ContentStore, load_content

CONTENT = Path(__file__).resolve().parents[2] / "content"


@pytest.fixture
def content_dir(tmp_path):
    target = tmp_path / "content"
    shutil.copytree(CONTENT, target)
    return target


def schema():
    return content_schema(build_router(Config(env="test")))


def problems_for(content_dir):
    with pytest.raises(ContentError) as exc:
        load_content(content_dir, schema())
    return [str(p) for p in exc.value.problems]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line)


def test_shipped_content_is_clean():
    content = load_content(CONTENT, schema())
    assert {"messages", "richmenu", "menu", "help", "fallback"} <= set(content.documents)


def test_yaml_syntax_error_has_its_line(content_dir):
    edit(content_dir / "help.yaml", "  en: [help,", "  en: [help,, ]]\n  oops: [")
    [problem] = problems_for(content_dir)
    assert problem.startswith("help.yaml:") and "YAML syntax" in problem


def test_duplicate_key_is_refused_with_its_line(content_dir):
    """PyYAML would keep the second `en:` and drop the first without a word."""
    help_yaml = content_dir / "help.yaml"
    edit(help_yaml, "  easy_ja: つかいかた\n", "  easy_ja: つかいかた\n  en: Usage\n")
    first, second = line_of(help_yaml, "  en: How to use"), line_of(help_yaml, "  en: Usage")
    [problem] = problems_for(content_dir)
    assert problem == f"help.yaml:{second}: duplicate key 'en' (first on line {first}): YAML keeps only one of " \
                      f"them; remove or rename the other"
    result = CliRunner().invoke(main, ["content", "check", str(content_dir)])
    assert result.exit_code == 1 and f"help.yaml:{second}: duplicate key 'en'" in result.output


def test_duplicate_keys_deep_inside_and_the_same_key_in_two_mappings(tmp_path):
    from bot.content.yamlfile import YamlError, load_yaml

    ok = tmp_path / "ok.yaml"
    ok.write_text("a: {ja: x, en: y}\nb: {ja: x, en: y}\n'1': one\n1: int one\nbase: &b {k: 1}\nuse: *b\n",
                  encoding="utf-8")
    assert load_yaml(ok, "ok.yaml").data["use"] == {"k": 1}  # same keys in different mappings, 1 and '1' differ
    deep = tmp_path / "deep.yaml"
    deep.write_text("items:\n  - id: a\n    names:\n      ja: x\n      ja: y\n  - id: b\n    id: c\n", encoding="utf-8")
    with pytest.raises(YamlError) as exc:
        load_yaml(deep, "deep.yaml")
    assert str(exc.value) == "deep.yaml:5: duplicate key 'ja' (first on line 4): YAML keeps only one of them; " \
                             "remove or rename the other"


def test_missing_language_points_at_the_text(content_dir):
    path = content_dir / "messages.yaml"
    edit(path, '    easy_ja: "ごめんなさい。うまく', '    easy_jp: "ごめんなさい。うまく')
    line = line_of(path, "easy_jp")
    found = problems_for(content_dir)
    assert f"messages.yaml:{line}: texts.error.easy_jp: is not a known field (typo?)" in found
    assert any(p.startswith("messages.yaml:") and "texts.error.easy_ja: is required" in p for p in found)


def test_button_to_nowhere_and_duplicate_keyword_are_caught(content_dir):
    help_yaml = content_dir / "help.yaml"
    edit(help_yaml, "postback: action=contact", "postback: action=contactt")
    edit(content_dir / "contact.yaml", "  en: [contact,", "  en: [help, contact,")
    found = problems_for(content_dir)
    assert f"help.yaml:{line_of(help_yaml, 'action=contactt')}: postback action 'contactt' is not answered by any handler" in found
    assert f"help.yaml:{line_of(help_yaml, '  en: [help,')}: keyword 'help' is already a keyword of contact" in found


def test_too_long_label_and_broken_placeholder(content_dir):
    edit(content_dir / "menu.yaml", "{ja: 使い方,", "{ja: とてもとてもとてもとてもとても長い使い方のボタン,")
    edit(content_dir / "help.yaml", "{city}のLINE窓口です。", "{city のLINE窓口です。")
    found = problems_for(content_dir)
    assert any("LINE allows 20" in p for p in found)
    assert any(p.startswith("help.yaml:") and "broken {placeholder}" in p for p in found)


def test_unknown_file_and_missing_file(content_dir):
    (content_dir / "halp.yaml").write_text("label: x\n", encoding="utf-8")
    (content_dir / "contact.yaml").unlink()
    found = problems_for(content_dir)
    assert any(p.startswith("halp.yaml:1: no intent") for p in found)
    assert "contact.yaml:1: file is missing" in found


def test_cli_content_check_exit_codes(content_dir):
    runner = CliRunner()
    ok = runner.invoke(main, ["content", "check", str(content_dir)])
    assert ok.exit_code == 0, ok.output
    edit(content_dir / "help.yaml", "postback: action=menu", "postback: action=menuu")
    bad = runner.invoke(main, ["content", "check", str(content_dir)])
    assert bad.exit_code == 1
    assert "help.yaml:" in bad.output and "'menuu' is not answered" in bad.output


def test_running_store_keeps_last_good_content_and_reports_the_break(content_dir):
    store = ContentStore(content_dir, schema(), reload_seconds=0)
    good = store.current()
    edit(content_dir / "contact.yaml", 'phone: "06-0000-0000"', "phone: [")
    assert store.reload_if_changed() is False
    assert store.current() is good
    assert store.status()["ok"] is False
    assert store.status()["errors"][0].startswith("contact.yaml:")
    edit(content_dir / "contact.yaml", "phone: [", 'phone: "06-1111-1111"')
    assert store.reload_if_changed() is True
    assert store.current()["contact"].phone == "06-1111-1111"
    assert store.status()["ok"] is True
