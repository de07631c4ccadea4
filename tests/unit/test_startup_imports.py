"""`citybot ask` starts in well under a second (issue 13, bench/startup.py) because the
command line does not import what only other processes use: the SDK's webhook models
(the webhook view parses with them; the dispatcher reads the stored JSON) and Flask (the
web process and the staff web UI, whose `citybot users` commands load it when they run).

Checked by what lands in sys.modules of a fresh interpreter, not by timing: a timing test
on a shared machine would fail for the wrong reasons and pass for the wrong ones.
"""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("linebot.v3.webhooks", "flask", "werkzeug", "flask_login", "bot.admin", "aiohttp")


def modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))"],
                         cwd=ROOT, capture_output=True, text=True, check=True, timeout=120)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def pulled(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_importing_the_command_line_leaves_the_webhook_models_and_flask_alone():
    assert pulled(modules_after("import bot.cli")) == []


def test_the_command_list_still_names_the_lazily_loaded_staff_commands():
    code = ("from click.testing import CliRunner\nfrom bot.cli import main\n"
            "result = CliRunner().invoke(main, ['--help'])\nassert result.exit_code == 0, result.output\n"
            "assert 'users      Staff accounts of the web UI at /admin.' in result.output, result.output")
    assert pulled(modules_after(code)) == []


def test_the_staff_commands_load_the_web_ui_when_asked_for_and_keep_their_help():
    import click
    from click.testing import CliRunner

    from bot.admin.cli import register_user_commands
    from bot.cli import LazyGroup, main

    placeholder = main.commands["users"]
    assert isinstance(placeholder, LazyGroup)
    holder = click.Group()
    register_user_commands(holder)
    assert placeholder.help == holder.commands["users"].help  # what `citybot --help` shows is the real one
    result = CliRunner().invoke(main, ["users", "--help"])
    assert result.exit_code == 0
    assert all(name in result.output for name in ("add", "list", "set-role"))


def test_the_collector_runs_again_after_the_imports_it_sat_out():
    code = "import gc\nimport bot.cli\nassert gc.isenabled()\nassert gc.get_freeze_count() > 0"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)


def test_a_caller_that_switched_the_collector_off_keeps_it_off():
    code = "import gc\ngc.disable()\nimport bot.cli\nassert not gc.isenabled()"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)


def test_importing_the_command_line_leaves_the_libraries_only_some_starts_need_alone():
    # PyYAML parses content the cache does not hold; rapidfuzz scores what no keyword or
    # name matches exactly; the holidays and the cron triggers serve dates and the clock
    modules = modules_after("import bot.cli")
    assert sorted(m for m in modules if m.split(".")[0] in ("yaml", "rapidfuzz", "jpholiday", "apscheduler")) == []
