"""bot/ is the engine: it names no city service in its code, its templates or its scripts.

A service lives in its package under handlers/ and plugs into the engine through its
Intent (routes, conversations, jobs, middleware, content files, checks), its admin.py
pages and its commands.py; so a city can drop one (or add its own) without touching bot/.
What counts as naming a service: an identifier or a string literal (docstrings and
comments excepted: they may explain with an example) holding one of the service's words;
in templates, scripts and stylesheets any occurrence.
"""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parents[2] / "bot"

SERVICE_WORDS = {
    "garbage": ["garbage", "five374", "5374", "ごみ", "gomi"],
    "large_waste": ["large_waste", "large-waste", "largewaste", "booking", "粗大"],
    "childcare": ["childcare", "nurser", "vacanc", "保育"],
    "disaster": ["disaster", "shelter", "incident", "hazard", "evacuat", "避難", "災害"],
    "reports": ["handlers.reports", "update_reports", "通報"],
    "faq": ["faq"],
}


def engine_files() -> list[Path]:
    return sorted(p for p in BOT.rglob("*") if p.is_file() and "migrations" not in p.parts
                  and p.suffix in {".py", ".html", ".js", ".css"} and "vendor" not in p.parts
                  and "leaflet" not in p.parts)


def python_words(source: str) -> list[tuple[int, str]]:
    """(line, text) of every identifier and non-docstring string literal."""
    found = []
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    for index, tok in enumerate(tokens):
        if tok.type == tokenize.NAME:
            found.append((tok.start[0], tok.string))
        elif tok.type == tokenize.STRING or tok.type == getattr(tokenize, "FSTRING_START", -1):
            previous = next((t for t in reversed(tokens[:index])
                             if t.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT,
                                               tokenize.INDENT, tokenize.DEDENT)), None)
            nxt = next((t for t in tokens[index + 1:] if t.type not in (tokenize.NL, tokenize.COMMENT)), None)
            docstring = ((previous is None or previous.string == ":" or previous.type in (tokenize.INDENT,))
                         and nxt is not None and nxt.type in (tokenize.NEWLINE, tokenize.DEDENT, tokenize.ENDMARKER))
            if not docstring:
                found.append((tok.start[0], tok.string))
    return found


def mentions(path: Path, words: list[str]) -> list[str]:
    text = path.read_text(encoding="utf-8")
    pattern = re.compile("|".join(map(re.escape, words)), re.IGNORECASE)
    rel = path.relative_to(BOT.parent)
    if path.suffix == ".py":
        return [f"{rel}:{line}: {s[:80]}" for line, s in python_words(text) if pattern.search(s)]
    return [f"{rel}:{n}: {line.strip()[:80]}" for n, line in enumerate(text.splitlines(), 1) if pattern.search(line)]


@pytest.mark.parametrize("service", sorted(SERVICE_WORDS))
def test_the_engine_names_no_service(service):
    found = [hit for path in engine_files() for hit in mentions(path, SERVICE_WORDS[service])]
    assert not found, f"bot/ names the {service} service ({len(found)} places):\n" + "\n".join(found[:60])


def test_the_checker_sees_names_and_strings_not_docstrings():
    source = '"""Garbage here is fine."""\nx = "ごみ"\ndef garbage_day():\n    """a garbage docstring"""\n    # garbage\n'
    found = [s for _, s in python_words(source)]
    assert '"ごみ"' in found and "garbage_day" in found
    assert not any("fine" in s or "docstring" in s for s in found)
