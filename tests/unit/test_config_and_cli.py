"""Configuration in one documented place, and the CLI staff use to ask the bot."""

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.config import Config, documented_settings

ROOT = Path(__file__).resolve().parents[2]


def test_readme_documents_every_setting():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for env, _default, _doc in documented_settings():
        assert re.search(rf"^\| `{env}` \|", readme, re.M), f"{env} is not in the README's configuration table"


def test_environment_is_read_only_when_asked():
    config = Config.from_env({"CITYBOT_ENV": "test", "PROCESSING_THREADS": "7", "SIMULATOR_ENABLED": "no"})
    assert (config.env, config.processing_threads, config.serve_simulator) == ("test", 7, False)
    with pytest.raises(ValueError, match="PROCESSING_THREADS"):
        Config.from_env({"PROCESSING_THREADS": "many"})


def test_production_refuses_dev_secrets_and_the_simulator():
    with pytest.raises(ValueError, match="LINE_CHANNEL_SECRET"):
        Config.from_env({"CITYBOT_ENV": "production"})
    with pytest.raises(ValueError, match="ADMIN_SECRET_KEY"):
        Config.from_env({"CITYBOT_ENV": "production", "LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": "t"})
    real = {"CITYBOT_ENV": "production", "LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": "t",
            "ADMIN_SECRET_KEY": "k" * 32}
    assert Config.from_env(real).serve_simulator is False
    with pytest.raises(ValueError, match="simulator"):
        Config.from_env({**real, "SIMULATOR_ENABLED": "1"})


def test_production_app_has_no_simulator_route(tmp_path, monkeypatch):
    from bot import create_app

    config = Config(env="production", channel_secret="s", access_token="t", instance_dir=str(tmp_path),
                    inbox_sweep_seconds=0, content_reload_seconds=0)
    app = create_app(config)
    assert not [r for r in app.url_map.iter_rules() if r.rule.startswith("/simulator")]
    assert app.test_client().get("/simulator/").status_code == 404
    app.extensions["citybot"].close()


@pytest.fixture
def runner(tmp_path, monkeypatch):
    monkeypatch.setenv("CITYBOT_INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("CITYBOT_ENV", "test")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return CliRunner()


def test_ask_prints_one_line_message_objects_and_explains(runner):
    result = runner.invoke(main, ["ask", "--explain", "ﾍﾙﾌﾟ"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[0]["type"] == "text" and "LINE窓口" in lines[0]["text"]
    why = json.loads(result.stderr.strip().splitlines()[-1])
    assert why == {"handler": "handlers.help.show_help", "intent": "help", "how": "keyword", "keyword": "ヘルプ"}


def test_ask_reads_stdin_one_array_per_line_in_one_process(runner):
    result = runner.invoke(main, ["ask", "--lang", "en", "--explain", "-"], input="menu\nmeny\nzzzz\n")
    assert result.exit_code == 0, result.output
    arrays = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(arrays) == 3 and all(isinstance(a, list) for a in arrays)
    assert arrays[0][0]["altText"] == "Minato City on LINE"
    hows = [json.loads(line)["how"] for line in result.stderr.splitlines() if line.startswith("{")]
    assert hows == ["keyword", "fallback", "fallback"]
    assert "Did you mean" in arrays[1][0]["text"]


def test_ask_postback_and_location_and_remembers_the_resident(runner):
    assert runner.invoke(main, ["ask", "--user", "U" + "9" * 32, "--postback", "action=language.set&lang=en"]).exit_code == 0
    result = runner.invoke(main, ["ask", "--user", "U" + "9" * 32, "--location", "34.695,135.500"])
    first, *cards = [json.loads(line) for line in result.stdout.splitlines()]
    assert first["text"].startswith("No shelter is open right now")  # in English, as chosen before
    assert cards and all(card["type"] == "location" for card in cards)
    bad = runner.invoke(main, ["ask", "--location", "north"])
    assert bad.exit_code == 2 and "LAT,LON" in bad.output


def test_routes_lists_every_handler(runner):
    result = runner.invoke(main, ["routes"])
    assert result.exit_code == 0
    for handler in ("handlers.menu.show_menu", "handlers.help.show_help", "handlers.fallback.did_you_mean"):
        assert handler in result.output


def test_python_dash_m_has_every_command_the_script_has():
    """`python -m bot.cli` runs cli.py as __main__; the commands other modules add must be there too."""
    import subprocess
    import sys

    listed = subprocess.run([sys.executable, "-m", "bot.cli", "--help"], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout
    for command in ("fake-line", "richmenu", "push", "segment", "ask", "worker"):
        assert re.search(rf"^\s+{command}\b", listed, re.M), command
