"""Removing a service's folder and its content leaves a bot that starts.

A city that does not book large waste (or has no nursery data, or runs its disaster
information elsewhere) deletes handlers/<service>/ and the service's content files. The
engine must not notice more than that: `citybot content check` passes (warning about the
buttons it leaves out), `citybot routes` runs, residents' other questions are answered
without a traceback, and no menu, rich-menu area, chip or reply offers a button that
nothing answers anymore. A package that needs another declares it (`DEPENDS_ON`), and
removing the other removes it too.

Each case copies the project into a temporary folder, removes the service there and runs
tests/integration/trimmed_bot.py in it (one process: a few seconds), on SQLite.
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HANDLERS = ROOT / "handlers"
SERVICES = ["large_waste", "childcare", "disaster", "garbage"]


def packages() -> list[str]:
    return sorted(p.name for p in HANDLERS.iterdir() if (p / "__init__.py").is_file())


def depends_on(package: str) -> tuple[str, ...]:
    """The package's declared `DEPENDS_ON`, read without importing it."""
    tree = ast.parse((HANDLERS / package / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "DEPENDS_ON" for t in targets):
                return tuple(ast.literal_eval(node.value))
    return ()


def removed_with(service: str) -> list[str]:
    """The service and every package that depends on it, however indirectly."""
    gone = {service}
    while True:
        more = {p for p in packages() if p not in gone and gone & set(depends_on(p))}
        if not more:
            return sorted(gone)
        gone |= more


def content_of(package: str) -> list[str]:
    """The content files a package's intents read: content/<intent>.yaml and the files
    each declares (`files=`), as paths under content/."""
    module = importlib.import_module(f"handlers.{package}")
    intents = [i for i in (getattr(module, "intent", None), *getattr(module, "intents", ())) if i is not None]
    found = []
    for intent in intents:
        if intent.content_model is not None:
            found.append(f"{intent.name}.yaml")
        found += [f"{stem}.yaml" for stem in intent.files]
    return found


def trimmed_copy(folder: Path, service: str) -> list[str]:
    """The project's files copied into `folder`, without the service (and its dependents)
    and their content; what was removed, for the failure messages."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, folder / name)
    removed = []
    for package in removed_with(service):
        shutil.rmtree(folder / "handlers" / package)
        removed.append(f"handlers/{package}/")
        for name in content_of(package):
            (folder / "content" / name).unlink()
            removed.append(f"content/{name}")
            parent = (folder / "content" / name).parent
            if parent != folder / "content" and not any(parent.iterdir()):
                parent.rmdir()
    return removed


@pytest.mark.parametrize("service", SERVICES)
def test_a_bot_without_the_service_starts_and_answers_the_others(tmp_path, service):
    copy = tmp_path / "citybot"
    removed = trimmed_copy(copy, service)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CITYBOT_", "DATABASE_URL", "CONTENT_DIR"))}
    env.update(CITYBOT_ENV="test", CITYBOT_INSTANCE_DIR=str(tmp_path / "instance"), CONTENT_DIR=str(copy / "content"),
               DATABASE_URL=f"sqlite:///{tmp_path / 'instance' / 'citybot.sqlite3'}", PYTHONPATH=str(copy))
    (tmp_path / "instance").mkdir()
    run = subprocess.run([sys.executable, "tests/integration/trimmed_bot.py"], cwd=copy, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, f"without {removed}:\n{run.stderr[-4000:]}"
    report = json.loads(run.stdout.splitlines()[-1])
    why = f"without {', '.join(removed)}"

    check = report["check"]
    assert check["code"] == 0 and check["exception"] is None, f"{why}, content check:\n{check['output']}"
    assert all(": warning: " in line for line in check["output"].splitlines()[:-1]), check["output"]
    assert report["routes"]["code"] == 0 and f" {service} " not in report["routes"]["output"], why

    asked = report["ask"]
    assert asked["code"] == 0 and asked["exception"] is None, f"{why}, ask:\n{asked['output'][-3000:]}"
    assert len(report["replies"]) == 10 and all(report["replies"]), f"{why}: a question went unanswered"
    for tap in report["taps"]:
        assert tap["code"] == 0 and tap["exception"] is None and tap["output"].strip(), f"{why}, {tap}"
    assert report["unanswered"] == [], f"{why}, buttons nothing answers: {report['unanswered']}"
    assert not any(re.match(rf"action={service}(\.|&|$)", data) for data in report["menu"]), why

    troubles = [r for r in report["log"] if r["level"] in ("ERROR", "CRITICAL") or r["traceback"]]
    assert troubles == [], f"{why}: {troubles}"
    assert report["healthz"]["code"] == 200 and report["healthz"]["body"]["status"] == "ok", report["healthz"]


def test_large_waste_goes_with_garbage_it_cannot_work_without():
    assert removed_with("garbage") == ["garbage", "large_waste"]
    assert removed_with("large_waste") == ["large_waste"]


@pytest.mark.parametrize("package", packages())
def test_a_package_imports_only_the_services_it_declares(package):
    """`DEPENDS_ON` is what removal honours, so an import of another service package that
    it does not list would break the bot left after that service is removed."""
    others = set(packages()) - {package}
    imported = {m for path in (HANDLERS / package).rglob("*.py")
                for m in re.findall(r"^\s*(?:from|import) handlers\.(\w+)", path.read_text(encoding="utf-8"), re.M)}
    assert imported & others <= set(depends_on(package)), f"handlers/{package} imports {sorted(imported & others)}"
