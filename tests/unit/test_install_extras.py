"""What a production install (no `demo` extra, so no jsonschema) can still run: `citybot
ask` and anything else that builds webhook events; the fake platform says which extra
it needs instead of a traceback. Run in a child process where jsonschema cannot import."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WITHOUT_JSONSCHEMA = "import sys; sys.modules['jsonschema'] = None\n"


def run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", WITHOUT_JSONSCHEMA + code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_webhook_events_import_without_jsonschema():
    done = run("from bot.fakeline import webhook_events as ev\n"
               "print(ev.text_event('U' + '0' * 32, 'x', reply_token='r')['type'])\n"
               "import bot.cli, bot.simulator.views\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "message"


def test_fake_platform_names_the_extra_it_needs(tmp_path):
    done = run("from bot.cli import main\n"
               "main(['fake-line', '--port', '0'], standalone_mode=True)\n")
    assert done.returncode == 1
    assert "pip install 'citybot[demo]'" in done.stderr and "Traceback" not in done.stderr
