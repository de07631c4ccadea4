"""YAML documents that remember the line of every value.

Staff edit content by hand, so every problem must point at `file:line`. PyYAML's node
tree carries marks; we keep a map from a value's path (keys and list indexes) to its line
and resolve pydantic's error locations through it.

Files are parsed by libyaml (PyYAML's C loader) when PyYAML was built with it: its nodes
carry the same marks, about ten times sooner. A file libyaml refuses is parsed again by
the pure-Python loader, so a syntax error reads exactly as it always did.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import yaml  # imported by the first parse: a start that takes its content from the cache parses nothing


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


def __getattr__(name: str) -> Any:
    """`FastLoader`: libyaml's loader when PyYAML has it (it does on the usual wheels), else
    the Python one; looked up once, when the first file is parsed."""
    if name == "FastLoader":
        import yaml

        loader = globals()["FastLoader"] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        return loader
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_yaml(path: Path, name: str, data: bytes | None = None) -> YamlDocument:
    """The file at `path` (or its bytes `data`, already read), `name` as problems show it."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8") if data is None else _text(data)
    except UnicodeDecodeError as exc:
        raise YamlError(Problem(name, 1, f"not UTF-8 text ({exc.reason} at byte {exc.start})")) from None
    try:
        node, data = _parse(text, globals().get("FastLoader") or __getattr__("FastLoader"))
    except yaml.YAMLError:
        try:  # what the Python loader says (or accepts), exactly as before libyaml was used
            node, data = _parse(text, yaml.SafeLoader)
        except yaml.YAMLError as exc:
            raise YamlError(_yaml_problem(name, exc)) from None
    lines: dict[tuple, int] = {}
    if node is not None:
        duplicate = _first_duplicate_key(node)
        if duplicate is not None:
            raise YamlError(Problem(name, duplicate[0], duplicate[1]))
        _collect_lines(node, (), lines)
    return YamlDocument(path=path, name=name, data=data, lines=lines)


def _text(data: bytes) -> str:
    """The bytes as `read_text()` would give them: UTF-8, every line end a newline."""
    return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


def _parse(text: str, loader_class: type[yaml.SafeLoader]) -> tuple[yaml.Node | None, Any]:
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        return node, loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()


def _yaml_problem(name: str, exc: yaml.YAMLError) -> Problem:
    import yaml

    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        return Problem(name, mark.line + 1 if mark else 1, f"YAML syntax: {exc.problem or exc}")
    return Problem(name, 1, f"YAML: {exc}")


def _first_duplicate_key(root: yaml.Node) -> tuple[int, str] | None:
    """(line, message) of the first key (by line) written twice in one mapping, else None.

    YAML says keys are unique, but PyYAML keeps the last value silently: a text pasted
    twice (`ja:` ... `ja:`) would lose the first one without a word. Keys are compared
    as resolved (`1` and `"1"` differ, as they do in the data); `<<` merges are left alone.
    """
    import yaml

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
    import yaml

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
