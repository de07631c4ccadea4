"""Writing the content files importers produce: readable YAML, written whole or not at all.

Staff review imported files like code, so the YAML is laid out for people (list items
indented under their key, multi-line texts as blocks, Japanese as written), and a file is
replaced only by a complete new one (temporary files renamed over the old ones), readable
by every process of the bot.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import yaml


class ContentDumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)  # list items indented under their key


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


ContentDumper.add_representer(str, _represent_str)


def write_together(texts: dict[str, str], out_dir: Path) -> None:
    """Write all files or none: temporary files first, then renamed over the old ones."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    temps: dict[str, str] = {}
    try:
        for name, text in texts.items():
            handle, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=out)
            temps[name] = temp
            with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as file:
                file.write(text)
            os.chmod(temp, 0o644)  # content is read by every process (mkstemp makes files 0600)
        for name, temp in temps.items():
            os.replace(temp, out / name)
    finally:
        for temp in temps.values():
            if os.path.exists(temp):
                os.unlink(temp)


def write_file(text: str, path: Path) -> None:
    path = Path(path)
    write_together({path.name: text}, path.parent)


def dump(data: Any, dumper: type[yaml.SafeDumper] = ContentDumper, **options: Any) -> str:
    return yaml.dump(data, Dumper=dumper, allow_unicode=True, sort_keys=False, width=10_000, indent=2, **options)
