"""やさしい日本語 keeps to one level of brackets, in content and in what is sent."""

import shutil
from pathlib import Path

import pytest

from bot.bootstrap import build_router, content_schema
from bot.config import Config
from bot.content.easy import nested_brackets, unnest
from bot.content.store import ContentError, load_content

CONTENT = Path(__file__).resolve().parents[2] / "content"


@pytest.mark.parametrize("text, nested", [("「ソファ」です", False), ("（れい：「ソファ」）", True),
                                          ("「a」（b）", False), ("「IH調理器（卓上型）」", True)])
def test_nested(text, nested):
    assert nested_brackets(text) is nested


def test_unnest_keeps_the_words():
    assert unnest("「IH調理器（卓上型）」は【もえないごみ】です。") == "「IH調理器 卓上型」は【もえないごみ】です。"


def test_content_with_nested_brackets_in_easy_japanese_is_refused_with_its_line(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    help_file = content / "help.yaml"
    help_file.write_text(help_file.read_text("utf-8").replace("      ・おおきな ごみの もうしこみ",
                                                              "      ・おおきな ごみ（「そふぁ」など）の もうしこみ"),
                         encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        load_content(content, content_schema(build_router(Config(env="test"))))
    [problem] = caught.value.problems
    assert problem.file == "help.yaml" and "bracket inside a bracket" in problem.message
