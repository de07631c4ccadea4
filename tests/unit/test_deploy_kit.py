"""The deployment kit holds together: Procfile, Dockerfile and compose.yaml run the same
three processes and the release step, and the lock files pin what pyproject.toml asks for.

Docker itself cannot run here; `make lint-docker` (hadolint) checks the Dockerfile's
form, and these tests what it must do. `make lock-check` (CI) re-resolves the locks
against the index; the lock test below needs no network and runs in `make test`."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
CITYBOT_SERVICES = ("migrate", "web", "worker", "clock")


def test_procfile_releases_then_runs_three_processes():
    lines = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    assert lines == {"release": "citybot db upgrade", "web": "gunicorn -c gunicorn.conf.py wsgi:app",
                     "worker": "citybot worker", "clock": "citybot scheduler"}


def test_dockerfile_runs_locked_dependencies_as_a_non_root_user():
    text = (ROOT / "Dockerfile").read_text()
    instructions = [line for line in text.splitlines() if line and not line.startswith((" ", "#"))]
    froms = [line for line in instructions if line.startswith("FROM ")]
    assert froms and all(line.split()[1].startswith("python:3.11-slim") for line in froms)
    assert "pip install --require-hashes --no-deps -r requirements.lock" in text
    assert re.search(r"pip install --no-deps \.$", text, re.M)
    users = [line.split()[1] for line in instructions if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    last_stage = instructions[instructions.index(froms[-1]):]
    assert [i for i in last_stage if i.startswith("USER ")], "the final stage must switch user"
    assert instructions[-1] == 'CMD ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]'
    assert "COPY content ./content" in text and "WORKDIR /srv/citybot" in text  # ./content, ./instance
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "instance"} <= set(ignored)


def test_compose_runs_postgres_two_webs_two_workers_one_clock_after_the_migration():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())  # `<<:` merges resolved here
    services = compose["services"]
    assert set(services) == {"db", *CITYBOT_SERVICES}
    assert services["db"]["image"].startswith("postgres:")
    assert services["migrate"]["command"] == ["citybot", "db", "upgrade"]
    assert services["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    replicas = {name: services[name].get("deploy", {}).get("replicas", 1) for name in ("web", "worker", "clock")}
    assert replicas == {"web": 2, "worker": 2, "clock": 1}
    assert services["web"]["command"] == ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
    assert services["worker"]["command"] == ["citybot", "worker"]
    assert services["clock"]["command"] == ["citybot", "scheduler"]
    for name in ("web", "worker", "clock"):
        service = services[name]
        assert service["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
        assert service["image"] == services["migrate"]["image"]
        env = service["environment"]
        assert env["CITYBOT_ENV"] == "production" and "@db:5432/" in env["DATABASE_URL"]
    rates = float(services["worker"]["environment"]["DELIVERY_RATE_PER_SECOND"]) * replicas["worker"]
    assert rates <= 200  # LINE's multicast limit per channel, shared by the workers
    assert "/readyz" in " ".join(services["web"]["healthcheck"]["test"])


def _pins(lock: str) -> dict[str, str]:
    pins = {}
    for line in (ROOT / lock).read_text().splitlines():
        found = re.match(r"^([A-Za-z0-9_.\-]+)==([^ ;\\]+)", line)
        if found:
            pins.setdefault(canonicalize_name(found.group(1)), found.group(2))
    return pins


def _requirements(extra: str | None) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [Requirement(r) for r in project["dependencies"]]
    if extra:
        for item in project["optional-dependencies"][extra]:
            requirement = Requirement(item)
            if canonicalize_name(requirement.name) == "citybot":  # citybot[demo] inside dev
                wanted += [Requirement(r) for x in requirement.extras for r in project["optional-dependencies"][x]]
            else:
                wanted.append(requirement)
    return wanted


@pytest.mark.parametrize("lock, extra", [("requirements.lock", None), ("requirements-demo.lock", "demo"),
                                         ("requirements-dev.lock", "dev")])
def test_every_lock_pins_what_pyproject_asks_for(lock, extra):
    pins = _pins(lock)
    text = (ROOT / lock).read_text()
    entries = [line for line in text.splitlines() if line and not line.startswith((" ", "#"))]
    assert entries and all(re.match(r"^[A-Za-z0-9_.\-]+==\S+( ;.*)? \\$", line) for line in entries), \
        "every entry is an exact pin followed by its hashes"
    assert text.count("--hash=sha256:") >= len(entries)
    for requirement in _requirements(extra):
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} is in pyproject.toml but not in {lock}: run `make lock`"
        assert requirement.specifier.contains(pins[name], prereleases=True), \
            f"{lock} pins {name}=={pins[name]}, pyproject.toml wants {requirement}: run `make lock`"
        for extra_name in requirement.extras:  # psycopg[binary] -> psycopg-binary
            if name == "psycopg":
                assert f"psycopg-{extra_name}" in pins


def test_runtime_lock_has_no_test_or_demo_tools():
    runtime, demo, dev = _pins("requirements.lock"), _pins("requirements-demo.lock"), _pins("requirements-dev.lock")
    assert not {"pytest", "jsonschema", "playwright", "ruff", "mypy", "hypothesis"} & set(runtime)
    assert "jsonschema" in demo and "pytest" not in demo
    assert {"pytest", "jsonschema", "ruff", "mypy", "uv"} <= set(dev)
    shared = set(runtime) & set(dev)
    assert {name: (runtime[name], dev[name]) for name in shared if runtime[name] != dev[name]} == {}


def test_license_is_mit():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "Copyright (c) 2026 citybot contributors" in text
