"""City-hall questions nobody here wrote, through the front door: how many reach their answer.

Each line of a question file (tests/data/faq_heldout.txt by default: question<TAB>expected
FAQ id) is asked with `citybot ask --each-new -` — the router first, then whichever
handler it picks, each question a resident's first — on the sample content, and the
answer is read as a resident would:

  answered   the prepared answer of the expected question, at once (with or without
             「こちらですか」 chips of its close neighbours under it)
  offered    the expected question among the choices (one more tap)
  others     choices, but not the expected question among them
  wrong      another prepared answer, given with confidence — also when the expected
             question is among the neighbours' chips under it (shown after the answer
             given, with --show-misses)
  elsewhere  a service answered instead (garbage, contact …)
  none       no prepared answer: the city's contact (the question goes on the staff list)

and which questions ended on the staff's list of unanswered questions (read from the
database `citybot ask` used). "reached" is "answered" plus "offered": the prepared answer
at once or by one tap, which is how this project reads the issue's bar ("reach a prepared
answer"); "answered" alone is the stricter aim. A wrong answer counts as not reached even
when the expected question is among its chips.

    python bench/faq.py [FILE] [--show-misses]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: python bench/...

from bench.asking import ask_lines  # noqa: E402

HELDOUT = ROOT / "tests" / "data" / "faq_heldout.txt"


@dataclass(frozen=True)
class Outcome:
    question: str
    expected: str
    kind: str           # answered | offered | others | wrong | elsewhere | none
    got: tuple[str, ...]


def read_questions(path: Path) -> list[tuple[str, str]]:
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        question, sep, expected = line.partition("\t")
        if not sep or not question.strip() or not expected.strip():
            raise SystemExit(f"{path}:{number}: expected question<TAB>id")
        out.append((question.strip(), expected.strip()))
    return out


def classify(question: str, expected: str, messages: list[dict]) -> Outcome:
    data = [item["action"].get("data", "") for m in messages for item in m.get("quickReply", {}).get("items", [])]
    answered = [d.split("id=", 1)[1] for d in data if d.startswith("action=faq.feedback.yes&id=")]
    offered = [d.split("id=", 1)[1] for d in data if d.startswith("action=faq.show&id=")]
    texts = " ".join(m.get("text") or m.get("altText", "") for m in messages)
    if answered:  # an answer: right or wrong by the answer alone, whatever chips come with it
        kind = "answered" if answered[0] == expected else "wrong"
        return Outcome(question, expected, kind, (answered[0], *(f"+{o}" for o in offered)))
    if expected in offered:
        return Outcome(question, expected, "offered", tuple(offered))
    if offered:
        return Outcome(question, expected, "others", tuple(offered))
    if "市役所へお問い合わせ" in texts or "contact City Hall" in texts or "しやくしょに きいて" in texts:
        return Outcome(question, expected, "none", ())
    return Outcome(question, expected, "elsewhere", (texts[:40],))


def ask(questions: list[tuple[str, str]], instance: Path) -> list[list[dict]]:
    run = ask_lines([q for q, _ in questions], instance, "--each-new")
    answers = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
    if len(answers) != len(questions):
        raise SystemExit(f"{len(questions)} questions but {len(answers)} answers")
    return answers


def measure(path: Path = HELDOUT) -> tuple[list[Outcome], list[str]]:
    """(outcome per question, the staff's list of unanswered questions afterwards)."""
    questions = read_questions(path)
    with tempfile.TemporaryDirectory(prefix="citybot-faq-bench-") as tmp:
        answers = ask(questions, Path(tmp))
        with sqlite3.connect(Path(tmp) / "citybot.sqlite3") as db:
            listed = [row[0] for row in db.execute("SELECT text FROM faq_unanswered ORDER BY id")]
    return [classify(q, e, a) for (q, e), a in zip(questions, answers)], listed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path, default=HELDOUT)
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args(argv)
    outcomes, listed = measure(args.file)
    counts = Counter(o.kind for o in outcomes)
    total = len(outcomes)
    print(f"{args.file.relative_to(ROOT) if args.file.is_relative_to(ROOT) else args.file}: {total} questions")
    for kind in ("answered", "offered", "others", "wrong", "elsewhere", "none"):
        print(f"  {kind:10} {counts[kind]:3}  {100 * counts[kind] / total:5.1f} %")
    reached = counts["answered"] + counts["offered"]
    print(f"answered at once: {100 * counts['answered'] / total:.1f} %   "
          f"reached (at once or one tap): {100 * reached / total:.1f} %")
    print(f"on the staff's list of unanswered questions: {len(listed)}")
    if args.show_misses:
        for o in outcomes:
            if o.kind != "answered":
                print(f"  {o.kind:9} {o.expected:18} {' '.join(o.got)[:60]:60} {o.question}")
        for text in listed:
            print(f"  listed: {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
