"""YAML documents that remember the line of every value.

Staff edit content by hand, so every problem must point at `file:line`. PyYAML's node
tree carries marks; we keep a map from a value's path (keys and list indexes) to its line
and resolve pydantic's error locations through it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass
class YamlDocument:
    path: Path
    name: str  # path relative to the content folder, e.g. "help.yaml"
    data: Any
    lines: dict[tuple, int] = field(default_factory=dict)

    def line_of(self, loc: tuple) -> int:
        """Line of the deepest known ancestor of `loc` (a missing key points at its parent)."""
        loc = tuple(loc)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get((), 1)

    def problem(self, loc: tuple, message: str) -> Problem:
        return Problem(self.name, self.line_of(loc), message)


class YamlError(Exception):
    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


def load_yaml(path: Path, name: str) -> YamlDocument:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise YamlError(Problem(name, 1, f"not UTF-8 text ({exc.reason} at byte {exc.start})")) from None
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlError(Problem(name, line, f"YAML syntax: {exc.problem or exc}")) from None
    except yaml.YAMLError as exc:
        raise YamlError(Problem(name, 1, f"YAML: {exc}")) from None
    finally:
        loader.dispose()
    lines: dict[tuple, int] = {}
    if node is not None:
        duplicate = _first_duplicate_key(node)
        if duplicate is not None:
            raise YamlError(Problem(name, duplicate[0], duplicate[1]))
        _collect_lines(node, (), lines)
    return YamlDocument(path=path, name=name, data=data, lines=lines)


def _first_duplicate_key(root: yaml.Node) -> tuple[int, str] | None:
    """(line, message) of the first key (by line) written twice in one mapping, else None.

    YAML says keys are unique, but PyYAML keeps the last value silently: a text pasted
    twice (`ja:` ... `ja:`) would lose the first one without a word. Keys are compared
    as resolved (`1` and `"1"` differ, as they do in the data); `<<` merges are left alone.
    """
    found: list[tuple[int, str]] = []
    stack, visited = [root], set()
    while stack:
        node = stack.pop()
        if id(node) in visited:  # an alias points at a node already walked (or at itself)
            continue
        visited.add(id(node))
        if isinstance(node, yaml.MappingNode):
            seen: dict[tuple[str, str], int] = {}
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                    key, line = (key_node.tag, key_node.value), key_node.start_mark.line + 1
                    if key in seen:
                        found.append((line, f"duplicate key {key_node.value!r} (first on line {seen[key]}): "
                                            f"YAML keeps only one of them; remove or rename the other"))
                    else:
                        seen[key] = line
                stack.append(value_node)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return min(found) if found else None


def _collect_lines(node: yaml.Node, loc: tuple, lines: dict[tuple, int]) -> None:
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            _collect_lines(value_node, loc + (key,), lines)
            # the key's line for the value itself: errors about a value read best there
            lines[loc + (key,)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _collect_lines(item, loc + (index,), lines)
