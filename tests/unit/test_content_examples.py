"""An example the content offers residents (「例：ペットボトル、電池、ソファ」) is one the bot
answers: 「ソファ」 once led to "did you mean ごみの出し方?" and back to the same intro."""

import shutil
from pathlib import Path

import pytest

from bot.bootstrap import build_router, content_schema
from bot.config import Config
from bot.content.store import ContentError, load_content

CONTENT = Path(__file__).resolve().parents[2] / "content"


def load(folder: Path):
    return load_content(folder, content_schema(build_router(Config(env="test"))))


def test_the_intro_lists_the_examples_in_each_language():
    content = load(CONTENT)
    assert "例：ペットボトル、電池、ソファ" in content.text("garbage.intro", "ja")
    assert "e.g. PET bottle, battery, sofa" in content.text("garbage.intro", "en")


def test_an_example_nobody_answers_is_refused_with_its_line(tmp_path):
    folder = tmp_path / "content"
    shutil.copytree(CONTENT, folder)
    garbage = folder / "garbage.yaml"
    garbage.write_text(garbage.read_text("utf-8").replace("  ja: [ペットボトル, 電池, ソファ]",
                                                          "  ja: [ペットボトル, 電池, ほげほげ]"), encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        load(folder)
    [problem] = caught.value.problems
    assert problem.file == "garbage.yaml" and "example 'ほげほげ' is answered by fallback" in problem.message
