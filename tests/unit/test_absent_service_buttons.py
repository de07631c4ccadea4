"""A button naming a service this city has not installed is left out with a warning; a
button naming a step that an installed service lacks, or a misspelt service, stays an error."""

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.bootstrap import build_router, content_schema
from bot.cli import main
from bot.config import Config
from bot.content.store import ContentError, load_content

CONTENT = Path(__file__).resolve().parents[2] / "content"


@pytest.fixture
def content_dir(tmp_path):
    target = tmp_path / "content"
    shutil.copytree(CONTENT, target)
    return target


def add_button(path: Path, after: str, action: str) -> int:
    """A menu item (or area) for `action` inserted after the line holding `after`; its line."""
    lines = path.read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if after in line) + 1
    indent = lines[at - 1][: len(lines[at - 1]) - len(lines[at - 1].lstrip())]
    lines[at:at] = [f"{indent[:-2]}- label: {{ja: 駐輪場, en: Bike parking, easy_ja: ちゅうりんじょう}}",
                    f"{indent}postback: action={action}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return at + 2


def test_a_menu_item_of_a_service_not_installed_is_left_out_with_a_warning(content_dir):
    line = add_button(content_dir / "menu.yaml", "postback: action=help", "bicycles.parking&area=north")
    content = load_content(content_dir, content_schema(build_router(Config(env="test"))))
    assert [str(w) for w in content.warnings] == [
        f"menu.yaml:{line}: button for action 'bicycles.parking' left out: no service here answers it "
        f"(its service is not installed)"]
    assert [item.postback for item in content["menu"].items][:2] == ["action=help", "action=large_waste"]
    result = CliRunner().invoke(main, ["content", "check", str(content_dir)])
    assert result.exit_code == 0, result.output
    assert f"menu.yaml:{line}: warning: button for action 'bicycles.parking' left out" in result.output
    assert "1 warning(s)" in result.output


def test_the_shipped_content_leaves_nothing_out():
    assert load_content(CONTENT, content_schema(build_router(Config(env="test")))).warnings == ()


@pytest.mark.parametrize("action, why", [
    ("garbage.dya", "a step the installed garbage service does not have"),
    ("large_wastee", "a misspelt installed service"),
])
def test_a_typo_stays_an_error(content_dir, action, why):
    line = add_button(content_dir / "menu.yaml", "postback: action=help", action)
    with pytest.raises(ContentError) as refused:
        load_content(content_dir, content_schema(build_router(Config(env="test"))))
    assert [str(p) for p in refused.value.problems] == [
        f"menu.yaml:{line}: postback action {action!r} is not answered by any handler"], why
