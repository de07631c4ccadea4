"""Garbage answers through the front door, on real cities' data nobody here wrote.

For every real 5374 dataset (tests/data/5374/*, and ../shared/data/5374/* when present)
the bench does what a city adopting citybot does: copies the sample content, runs
`citybot import 5374 SRC --out DIR/garbage`, points the large-waste rules at the new areas
(the one edit the import asks for) and checks the folder with `citybot content check`.
Then it asks `citybot ask --each-new -` — the router first, then the garbage handler, each
question a resident's first — the questions residents type for each item:

  as written      the item's name as the city published it
  no brackets     the name without its bracketed qualifier (「印鑑(象牙製・木製)」 -> 「印鑑」)
  hiragana        the reading, from an independent dictionary (janome's IPADIC, not the
  katakana        bot's SudachiPy), in hiragana, katakana and half-width katakana
  half-width
  dropped char    the name (without brackets) with one character left out
  listed name     one of several names the item lists (「IHクッキングヒーター・IH調理器」)

and reads the answer as a resident would: the item named in the answer ("answered"), or
offered among the buttons ("offered"), or another item named with confidence ("wrong").
Beside it, in the same run, plain difflib over the item names answers the same questions.
Lookup time is the item dictionary's own p50/p99 on the largest dataset.

    python bench/garbage.py [--only matsudo | --source DATA_DIR] [--per-kind 400] [--seed 5374]
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import jaconv
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CITYBOT = str(Path(sys.executable).parent / "citybot")
BRACKETED = re.compile(r"[（(][^（）()]*[）)]")
ANSWER = re.compile(r"^「(.+?)」は【")  # content/garbage.yaml texts.item.ja: 「{item}」は【{category}】です。


@dataclass
class Question:
    text: str
    right: set[str]  # item names that answer it correctly


@dataclass
class Tally:
    asked: int = 0
    answered: int = 0
    offered: int = 0
    wrong: int = 0
    routed: int = 0
    difflib: int = 0
    misses: list[str] = field(default_factory=list)


def datasets(only: str | None, source: str | None = None) -> list[tuple[str, Path]]:
    if source:
        return [(Path(source).name, Path(source))]
    shared = Path(os.environ.get("CITYBOT_SHARED_DATA", ROOT.parent / "shared" / "data")) / "5374"
    found = sorted(p for p in (ROOT / "tests" / "data" / "5374").glob("*") if p.is_dir())
    found += sorted(p for p in shared.glob("*") if p.is_dir())
    return [(p.name, p) for p in found if only in (None, p.name)]


def onboard(source: Path, folder: Path) -> Path:
    """A content folder for the city, made the way the README tells a city to make it."""
    content = folder / "content"
    shutil.copytree(ROOT / "content", content)
    run([CITYBOT, "import", "5374", str(source), "--out", str(content / "garbage"), "--force"])
    areas = [a["id"] for a in yaml.safe_load((content / "garbage" / "areas.yaml").read_text("utf-8"))["areas"]]
    rules_path = content / "large_waste" / "rules.yaml"
    rules = yaml.safe_load(rules_path.read_text("utf-8"))
    rules["days"] = {area: ["mon"] for area in areas}
    rules["capacity"]["areas"] = {}
    rules["capacity"]["dates"] = []
    rules_path.write_text(yaml.safe_dump(rules, allow_unicode=True, sort_keys=False), encoding="utf-8")
    items = yaml.safe_load((content / "garbage" / "items.yaml").read_text("utf-8"))["items"]
    garbage_path = content / "garbage.yaml"  # the examples the texts offer: the city's own items
    garbage = garbage_path.read_text("utf-8")
    names = [item["name"] for item in items if "(" not in item["name"] and "（" not in item["name"]][:3]
    for lang in ("ja", "en", "easy_ja"):
        garbage = re.sub(rf"(?m)^(examples:\n(?:  \w+: .*\n)*?)  {lang}: \[.*\]$",
                         lambda m: f"{m.group(1)}  {lang}: [{', '.join(names)}]", garbage)
    garbage_path.write_text(garbage, encoding="utf-8")
    run([CITYBOT, "content", "check", str(content)])
    return content


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[:4])} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return done


# -- the questions -----------------------------------------------------------------------------------
def base_of(name: str) -> str:
    return " ".join(BRACKETED.sub(" ", name).split())


def listed(name: str) -> list[str]:
    parts = [p.strip() for p in re.split(r"[・／/]", base_of(name)) if p.strip()]
    return parts if len(parts) > 1 else []


class Readings:
    """Readings from janome's IPADIC: a dictionary the bot does not use."""

    def __init__(self) -> None:
        from janome.tokenizer import Tokenizer

        self.tokenizer = Tokenizer()

    def __call__(self, text: str) -> str:
        parts = []
        for token in self.tokenizer.tokenize(text):
            reading = token.reading if token.reading and token.reading != "*" else token.surface
            parts.append(reading)
        return jaconv.kata2hira("".join(parts))


def questions(names: list[str], readings: Readings, rng: random.Random, per_kind: int) -> dict[str, list[Question]]:
    by_base: dict[str, set[str]] = defaultdict(set)
    by_part: dict[str, set[str]] = defaultdict(set)
    for name in names:
        by_base[base_of(name)].add(name)
        for part in listed(name):
            by_part[part].add(name)
    kinds: dict[str, list[Question]] = defaultdict(list)
    for name in names:
        base = base_of(name)
        same = by_base[base] | {name}
        kinds["as written"].append(Question(name, {name}))
        if base != name and len(base) >= 2:
            kinds["no brackets"].append(Question(base, same))
        kana = readings(base)
        if kana and kana != base:
            kinds["hiragana"].append(Question(kana, same))
        katakana = jaconv.hira2kata(kana)
        if katakana != base:
            kinds["katakana"].append(Question(katakana, same))
        kinds["half-width"].append(Question(jaconv.z2h(katakana, kana=True, ascii=True, digit=True), same))
        if len(base) >= 3:
            i = rng.randrange(len(base))
            kinds["dropped char"].append(Question(base[:i] + base[i + 1:], same))
        for part in listed(name):
            if len(part) >= 2:
                kinds["listed name"].append(Question(part, by_part[part] | by_base[part]))
    return {kind: (rng.sample(qs, per_kind) if per_kind and len(qs) > per_kind else qs) for kind, qs in kinds.items()}


# -- asking ------------------------------------------------------------------------------------------
def ask_all(content: Path, texts: list[str], instance: Path) -> list[tuple[list[dict], dict]]:
    env = {**os.environ, "CITYBOT_ENV": "development", "CITYBOT_INSTANCE_DIR": str(instance),
           "DATABASE_URL": f"sqlite:///{instance / 'bench.sqlite3'}"}
    done = run([CITYBOT, "ask", "--content", str(content), "--explain", "--each-new", "-"],
               input="\n".join(texts) + "\n", env=env)
    answers = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("[")]
    routes = [json.loads(line) for line in done.stderr.splitlines() if line.startswith('{"handler"')]
    if len(answers) != len(texts) or len(routes) != len(texts):
        raise SystemExit(f"citybot ask answered {len(answers)}/{len(routes)} of {len(texts)} questions")
    return list(zip(answers, routes))


def judge(messages: list[dict], question: Question) -> str:
    named = [m.group(1) for m in (ANSWER.match(msg.get("text", "")) for msg in messages) if m]
    if named:
        return "answered" if named[0] in question.right else "wrong"
    for message in messages:
        for item in message.get("quickReply", {}).get("items", []):
            data = item["action"].get("data", "")
            if data.startswith("action=garbage.item&"):
                name = dict(p.split("=", 1) for p in data.split("&")).get("name", "")
                from urllib.parse import unquote_plus

                if unquote_plus(name) in question.right:
                    return "offered"
    return "missed"


def lookup_times(content: Path, texts: list[str]) -> tuple[float, float]:
    from bot.bootstrap import build_router, content_schema
    from bot.config import Config
    from bot.content.store import load_content
    from handlers.garbage.book import GarbageBook

    loaded = load_content(content, content_schema(build_router(Config(env="test"))))
    book = GarbageBook.from_content(loaded)
    times = []
    for text in texts:
        started = time.perf_counter()
        book.find(text)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(0.99 * len(times)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="one dataset by folder name (e.g. matsudo)")
    parser.add_argument("--source", help="a city's own 5374 data/ folder to measure instead")
    parser.add_argument("--per-kind", type=int, default=0, help="sample this many questions per kind (0: all)")
    parser.add_argument("--seed", type=int, default=5374)
    parser.add_argument("--misses", type=int, default=0, help="print this many missed questions per kind")
    args = parser.parse_args()
    readings = Readings()
    overall: dict[str, Tally] = defaultdict(Tally)
    largest: tuple[int, Path | None, list[str]] = (0, None, [])
    with tempfile.TemporaryDirectory(prefix="bench-garbage-") as scratch:
        for dataset, source in datasets(args.only, args.source):
            folder = Path(scratch) / dataset
            folder.mkdir()
            content = onboard(source, folder)
            items = yaml.safe_load((content / "garbage" / "items.yaml").read_text("utf-8"))["items"]
            names = [item["name"] for item in items]
            asked = questions(names, readings, random.Random(args.seed), args.per_kind)
            flat = [(kind, q) for kind, qs in asked.items() for q in qs]
            started = time.monotonic()
            named: dict[str, set[str]] = defaultdict(set)
            for name in names:
                named[name].add(name)
                named[base_of(name)].add(name)
            for _, question in flat:  # a question that is another item's own name is answered by it
                question.right |= named.get(question.text, set())
            replies = ask_all(content, [q.text for _, q in flat], folder)
            seconds = time.monotonic() - started
            tallies: dict[str, Tally] = defaultdict(Tally)
            for (kind, question), (messages, route) in zip(flat, replies):
                verdict = judge(messages, question)
                plain = difflib.get_close_matches(question.text, names, n=1, cutoff=0.0)
                for tally in (tallies[kind], overall[kind]):
                    tally.asked += 1
                    tally.routed += route.get("intent") == "garbage"
                    tally.difflib += bool(plain) and plain[0] in question.right
                    if verdict in ("answered", "offered", "wrong"):
                        setattr(tally, verdict, getattr(tally, verdict) + 1)
                    else:
                        tally.misses.append(question.text)
            print(f"\n{dataset}: {len(names)} items imported from {source} — {len(flat)} questions through "
                  f"`citybot ask` in {seconds:.0f} s ({1000 * seconds / len(flat):.1f} ms each)")
            report(tallies, args.misses)
            if len(names) > largest[0]:
                largest = (len(names), content, [q.text for _, q in flat])
            if largest[1] is content:
                p50, p99 = lookup_times(content, largest[2])
                print(f"item dictionary lookup on {dataset} ({len(names)} items): p50 {p50:.3f} ms, p99 {p99:.3f} ms")
    if len(datasets(args.only, args.source)) > 1:
        print("\nall datasets")
        report(overall, 0)


def report(tallies: dict[str, Tally], misses: int) -> None:
    print(f"  {'kind':13}{'asked':>6} {'to garbage':>11} {'answered':>9} {'+offered':>9} {'wrong':>7} | {'difflib':>8}")
    for kind, t in tallies.items():
        pct = (lambda n: f"{100 * n / t.asked:.1f}%") if t.asked else (lambda n: "-")
        print(f"  {kind:13}{t.asked:>6} {pct(t.routed):>11} {pct(t.answered):>9} {pct(t.answered + t.offered):>9} "
              f"{pct(t.wrong):>7} | {pct(t.difflib):>8}")
        if misses and t.misses:
            print("      missed: " + " / ".join(t.misses[:misses]))


if __name__ == "__main__":
    main()
