"""Run in a copy of citybot whose service folder was removed (test_service_removal.py):
start the bot the ways staff and residents do, in one process, and print what happened
as JSON on stdout. Not a test module: the copy runs it with its own code on sys.path.

    python tests/integration/trimmed_bot.py   (cwd: the copy; CITYBOT_* set by the test)
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any, Iterable

ROOT = Path(__file__).resolve().parents[2]
# the venv's editable install of the original tree would quietly find the removed package
# there: only the copy's code may answer
sys.meta_path[:] = [f for f in sys.meta_path if not type(f).__module__.startswith("__editable__")]
sys.path.insert(0, str(ROOT))

from click.testing import CliRunner  # noqa: E402

from bot import create_app  # noqa: E402
from bot.bootstrap import build_router, content_schema  # noqa: E402
from bot.cli import main  # noqa: E402
from bot.config import Config  # noqa: E402
from bot.content.store import load_content  # noqa: E402
from bot.router import parse_postback  # noqa: E402
from bot.routes import answered  # noqa: E402

QUESTIONS = ["こんにちは", "メニュー", "住民票", "使い方", "粗大ごみ", "保育園の空き", "避難所", "ソファ", "設定", "ありがとう"]


class Kept(logging.Handler):
    """Every warning and error logged, with whether it carried a traceback."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append({"level": record.levelname, "logger": record.name, "message": record.getMessage(),
                             "traceback": bool(record.exc_info)})


def command(*args: str, stdin: str | None = None) -> dict[str, Any]:
    result = CliRunner().invoke(main, list(args), input=stdin)
    crashed = result.exception if not isinstance(result.exception, SystemExit) else None
    return {"args": list(args), "code": result.exit_code, "output": result.output,
            "exception": repr(crashed) if crashed else None}


def postbacks(data: Any) -> Iterable[str]:
    """The postback data of every button in a content document or a reply message."""
    if isinstance(data, dict):
        if isinstance(data.get("postback"), str):
            yield data["postback"]
        if data.get("type") == "postback" and isinstance(data.get("data"), str):
            yield data["data"]
        for value in data.values():
            yield from postbacks(value)
    elif isinstance(data, list):
        for value in data:
            yield from postbacks(value)


def main_() -> None:
    kept = Kept()
    logging.getLogger().addHandler(kept)
    config = Config.from_env()
    report: dict[str, Any] = {"check": command("content", "check"), "routes": command("routes")}
    asked = command("ask", "-", stdin="\n".join(QUESTIONS) + "\n")
    report["ask"] = asked
    replies = [json.loads(line) for line in asked["output"].splitlines() if line.startswith("[")]
    router = build_router(config)
    content = load_content(Path(config.content_dir), content_schema(router))
    offered = {stem: sorted(set(postbacks(doc.model_dump()))) for stem, doc in content.documents.items()}
    taps = sorted({data for stem in ("menu", "richmenu", "fallback") for data in offered.get(stem, [])})
    report["taps"] = [command("ask", "--postback", data) for data in taps]
    replied = [*replies, *([json.loads(line) for line in tap["output"].splitlines() if line.startswith("{")]
                           for tap in report["taps"])]
    report["replies"] = replies
    report["unanswered"] = sorted(
        {f"{stem}: {data}" for stem, found in offered.items() for data in found
         if not answered(router, parse_postback(data)[0])}
        | {f"reply: {data}" for data in postbacks(replied) if not answered(router, parse_postback(data)[0])})
    report["menu"] = offered.get("menu", [])
    app = create_app(config)
    try:
        health = app.test_client().get("/healthz")
        report["healthz"] = {"code": health.status_code, "body": health.get_json()}
    finally:
        app.extensions["citybot"].close()
    report["log"] = kept.records
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main_()
