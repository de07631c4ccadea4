"""`citybot import faq`: a city's FAQ export, however it was saved, into questions.yaml."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml
from click.testing import CliRunner

from bot.cli import main
from bot.importers.safety import Limits
from handlers.faq.importer import convert, import_faq

ROOT = Path(__file__).resolve().parents[2]
CSV = """番号,分類,質問,回答,別の聞き方,担当課,関連URL,質問_英語,回答_英語
Q001,証明書,住民票の写しはどこで取れますか,"市民課の窓口で取れます。
手数料は300円です。",住民票がほしい｜住民票の取り方,市民課,https://www.example.jp/juminhyo.html,Where do I get a residence certificate?,At the Citizens Division.
Q002,税,住民税の納期はいつですか,"6月、8月、10月、1月です。",,市民税課,ホームページ参照,,
Q003,税,,回答だけがある行,,,,,
Q001,証明書,同じ番号の行,回答,,,,,
,ごみ,粗大ごみの出し方,予約してください,,,,,
"""


def test_columns_are_found_by_name_and_bad_rows_reported_by_line():
    imported = convert(CSV.encode("utf-8"), "faq.csv")
    assert [e["id"] for e in imported.entries][:2] == ["q001", "q002"]
    first = imported.entries[0]
    assert first["question"] == {"ja": "住民票の写しはどこで取れますか", "en": "Where do I get a residence certificate?"}
    assert first["answer"]["ja"] == "市民課の窓口で取れます。\n手数料は300円です。"
    assert first["phrasings"] == {"ja": ["住民票がほしい", "住民票の取り方"]}
    assert (first["department"], first["url"], first["category"]) == ("市民課", "https://www.example.jp/juminhyo.html",
                                                                      "証明書")
    assert imported.entries[2]["id"].startswith("faq-")  # a row without an id gets one from its question
    lines = [str(p) for p in imported.report]
    assert "faq.csv:4: 'ホームページ参照' is not a web address (http:// or https://): link left out" in lines
    assert "faq.csv:5: no question: row left out" in lines
    assert "faq.csv:6: id 'q001' is given twice: row left out" in lines
    assert imported.skipped == 2


def test_shift_jis_and_a_bom_read_the_same():
    plain = convert(CSV.encode("utf-8"), "faq.csv").entries
    assert convert(b"\xef\xbb\xbf" + CSV.encode("utf-8"), "faq.csv").entries == plain
    assert convert(CSV.encode("cp932"), "faq.csv").entries == plain


def test_a_file_without_an_answer_column_is_not_written(tmp_path):
    source = tmp_path / "faq.csv"
    source.write_text("質問,担当課\n住民票は,市民課\n", encoding="utf-8")
    out = tmp_path / "questions.yaml"
    try:
        import_faq(source, out, Limits())
    except Exception as exc:  # noqa: BLE001 - either refusal is right; what matters is below
        assert "answer" in str(exc) or "no question" in str(exc)
    assert not out.exists()


def test_the_command_writes_a_content_folder_that_loads(tmp_path, monkeypatch):
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    source = tmp_path / "faq.csv"
    source.write_bytes(CSV.encode("cp932"))
    monkeypatch.setenv("CONTENT_DIR", str(content))
    monkeypatch.setenv("CITYBOT_INSTANCE_DIR", str(tmp_path / "instance"))
    runner = CliRunner()
    refused = runner.invoke(main, ["import", "faq", str(source)])  # 65 questions would become 3
    assert refused.exit_code == 1 and "questions.yaml would go from" in refused.output
    done = runner.invoke(main, ["import", "faq", str(source), "--force"])
    assert done.exit_code == 0, done.output
    assert "3 questions imported (1 with English), 2 rows left out: written to" in done.output
    written = yaml.safe_load((content / "faq" / "questions.yaml").read_text(encoding="utf-8"))
    assert [q["id"] for q in written["questions"]][:2] == ["q001", "q002"]
    check = runner.invoke(main, ["content", "check", str(content)])
    # the sample city's keywords name its procedures: the check says which no longer lead anywhere
    assert check.exit_code == 1
    assert "faq.yaml:8: keyword '戸籍' is in no prepared question or answer" in check.output
    assert "keyword '住民票' is" not in check.output  # still asked about in the imported file
