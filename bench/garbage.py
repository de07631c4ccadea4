"""Garbage item lookup: speed and top-1 accuracy on the ways people really type.

Takes the largest item dictionary available (the sample city's content/garbage, and
each real 5374 dataset in ../shared/data/5374 imported on the fly), generates for every
item the variants residents produce — the hiragana reading, katakana, half-width
katakana, one-character typos of the reading — and looks each one up with citybot's
dictionary and, side by side in the same run, with a plain difflib lookup over the
names. Prints p50/p99 lookup time and top-1 accuracy per variant kind.

    python bench/garbage.py [--garbage DIR] [--typos 2] [--seed 5374]
"""

from __future__ import annotations

import argparse
import difflib
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jaconv
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.garbage.models import ItemsFile  # noqa: E402
from bot.lookup.dictionary import Dictionary, reading  # noqa: E402

HIRAGANA = "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをん"


def candidates(args) -> list[tuple[str, Path]]:
    found = [("sample city (content/garbage)", ROOT / "content" / "garbage")]
    if args.garbage:
        return [("given", Path(args.garbage))]
    shared = Path(os.environ.get("CITYBOT_SHARED_DATA", ROOT.parent / "shared" / "data")) / "5374"
    for source in sorted(p for p in shared.glob("*") if p.is_dir()):
        out = Path(tempfile.mkdtemp(prefix=f"garbage-{source.name}-"))
        done = subprocess.run([str(Path(sys.executable).parent / "citybot"), "import", "5374", str(source),
                               "--out", str(out)], capture_output=True, text=True)
        if done.returncode == 0:
            found.append((f"5374 {source.name}", out))
    return found


def load_items(folder: Path):
    return ItemsFile.model_validate(yaml.safe_load((folder / "items.yaml").read_text(encoding="utf-8"))).items


def typo(text: str, rng: random.Random) -> str:
    if len(text) < 3:
        return text
    i = rng.randrange(len(text))
    kind = rng.choice(("substitute", "delete", "insert", "swap"))
    if kind == "substitute":
        return text[:i] + rng.choice(HIRAGANA) + text[i + 1:]
    if kind == "delete":
        return text[:i] + text[i + 1:]
    if kind == "insert":
        return text[:i] + rng.choice(HIRAGANA) + text[i:]
    j = min(i + 1, len(text) - 1)
    chars = list(text)
    chars[i], chars[j] = chars[j], chars[i]
    return "".join(chars)


def variants(items, typos: int, rng: random.Random) -> dict[str, list[tuple[str, int]]]:
    out: dict[str, list[tuple[str, int]]] = {"as written": [], "hiragana": [], "katakana": [],
                                             "half-width": [], "typo": []}
    for index, item in enumerate(items):
        kana = reading(item.name)
        out["as written"].append((item.name, index))
        out["hiragana"].append((kana, index))
        katakana = jaconv.hira2kata(kana)
        out["katakana"].append((katakana, index))
        out["half-width"].append((jaconv.z2h(katakana, kana=True, ascii=True, digit=True), index))
        for _ in range(typos):
            out["typo"].append((typo(kana, rng), index))
    return out


def measure(lookup, queries, correct) -> tuple[float, float, float]:
    times, hits = [], 0
    for query, index in queries:
        started = time.perf_counter()
        answer = lookup(query)
        times.append((time.perf_counter() - started) * 1000)
        hits += correct(answer, index)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(0.99 * len(times)))], hits / len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--garbage", help="a content/garbage folder to use instead")
    parser.add_argument("--typos", type=int, default=2, help="typo variants per item")
    parser.add_argument("--seed", type=int, default=5374)
    args = parser.parse_args()

    sets = [(name, load_items(folder)) for name, folder in candidates(args)]
    name, items = max(sets, key=lambda pair: len(pair[1]))
    rng = random.Random(args.seed)

    dictionary: Dictionary = Dictionary()
    for item in items:
        dictionary.add(item, [item.name, *item.aliases, *([item.reading] if item.reading else [])])
    dictionary.freeze()
    names = [item.name for item in items]
    by_name: dict[str, set[int]] = {}
    for index, item in enumerate(items):
        by_name.setdefault(item.name, set()).add(index)

    def ours(query):
        found = dictionary.find(query)
        return found.hits[0].entry.name if found.hits else None

    def plain(query):
        match = difflib.get_close_matches(query, names, n=1, cutoff=0.0)
        return match[0] if match else None

    def correct(answer, index):
        return answer is not None and index in by_name.get(answer, set())

    print(f"garbage lookup bench: {len(items)} items from {name} (largest of: "
          f"{', '.join(f'{n} {len(i)}' for n, i in sets)}), seed {args.seed}")
    print(f"{'variant':12}{'queries':>8} | {'citybot p50/p99 ms':>19}{'top-1':>8} | {'difflib p50/p99 ms':>19}{'top-1':>8}")
    for kind, queries in variants(items, args.typos, rng).items():
        a50, a99, a_acc = measure(ours, queries, correct)
        b50, b99, b_acc = measure(plain, queries, correct)
        print(f"{kind:12}{len(queries):>8} | {a50:>9.3f}/{a99:<9.3f}{a_acc:>8.1%} | {b50:>9.3f}/{b99:<9.3f}{b_acc:>8.1%}")


if __name__ == "__main__":
    main()
