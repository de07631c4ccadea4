"""やさしい日本語 keeps to one level of brackets.

Readers of easy Japanese lose their place in 「…（…）…」; the guidelines cities follow say
one bracket at a time. Content is checked for it (`nested_brackets`), and a text filled with
data (an item named 「IH調理器（卓上型）」) is flattened before it is sent (`unnest`).
"""

from __future__ import annotations

from typing import Any

PAIRS = {"「": "」", "『": "』", "（": "）", "(": ")", "【": "】", "［": "］", "[": "]"}
CLOSERS = {close: open_ for open_, close in PAIRS.items()}


def nested_brackets(text: str) -> bool:
    depth = 0
    for char in text:
        if char in PAIRS:
            depth += 1
            if depth > 1:
                return True
        elif char in CLOSERS and depth:
            depth -= 1
    return False


def unnest(text: str) -> str:
    """Brackets inside brackets become plain words: 「IH調理器（卓上型）」 -> 「IH調理器 卓上型」."""
    out, depth = [], 0
    for char in text:
        if char in PAIRS:
            depth += 1
            if depth > 1:
                out.append(" ")
                continue
        elif char in CLOSERS and depth:
            depth -= 1
            if depth >= 1:
                continue
        out.append(char)
    return "".join(out).replace(" 」", "」").replace("  ", " ")


def unnest_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**m, "text": unnest(m["text"])} if m.get("type") == "text" and nested_brackets(m["text"]) else m
            for m in messages]
