"""Everyday questions through the front door: does each reach the service it is about?

tests/data/everyday_questions.tsv holds 76 questions residents ask (service<TAB>question),
written before the conversation driver existed. They are asked with `citybot ask -
--explain` twice: said one after another by ONE resident — so a question often arrives
while the previous one's conversation (a booking, a nursery search, a registration, a
report) is waiting for an answer, and must leave it for the service it names — and each by
a NEW resident. A question counts when the handler that answered it belongs to the
expected service (the disaster service answers for its shelters too).

    python bench/everyday.py [FILE] [--show-misses]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: python bench/...

from bench.asking import ask_lines  # noqa: E402

QUESTIONS = ROOT / "tests" / "data" / "everyday_questions.tsv"

#: intents that answer for one service
SERVICE_OF = {"shelters": "disaster"}


def read_questions(path: Path = QUESTIONS) -> list[tuple[str, str]]:
    """(expected service, question) in the order a resident says them."""
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        service, sep, question = line.partition("\t")
        if not sep or not question.strip():
            raise SystemExit(f"{path}:{number}: expected service<TAB>question")
        out.append((service.strip(), question.strip()))
    return out


def service_of(intent: str | None) -> str | None:
    return SERVICE_OF.get(intent or "", intent)


def ask(questions: list[str], instance: Path, each_new: bool) -> list[dict]:
    """How each question was routed (`--explain`): the answering intent, how, the detail."""
    run = ask_lines(questions, instance, "--explain", *(["--each-new"] if each_new else []))
    routes = []
    for line in run.stderr.splitlines():
        try:
            found = json.loads(line)
        except ValueError:
            continue
        if isinstance(found, dict) and "how" in found:
            routes.append(found)
    if len(routes) != len(questions):
        raise SystemExit(f"{len(questions)} questions but {len(routes)} routes")
    return routes


def measure(each_new: bool, path: Path = QUESTIONS) -> list[tuple[str, str, dict]]:
    questions = read_questions(path)
    with tempfile.TemporaryDirectory(prefix="citybot-everyday-") as tmp:
        routes = ask([q for _, q in questions], Path(tmp), each_new)
    return [(service, question, route) for (service, question), route in zip(questions, routes)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path, default=QUESTIONS)
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args(argv)
    for each_new, label in ((False, "one resident, in a row"), (True, "each from a new resident")):
        results = measure(each_new, args.file)
        right = [r for r in results if service_of(r[2].get("intent")) == r[0]]
        print(f"{label:28} {len(right):3}/{len(results)}  {100 * len(right) / len(results):5.1f} %")
        if args.show_misses:
            for service, question, route in results:
                if service_of(route.get("intent")) != service:
                    print(f"    {service:12} <- {route.get('intent', '-'):12} {route.get('how', ''):12} "
                          f"{route.get('detail', '')[:30]:30} {question}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
