"""Parse YAML while remembering the line of every mapping, key and list item.

PyYAML's plain ``safe_load`` forgets where things were; we keep the marks so that validation
errors can name the exact line to fix. Duplicate keys, which YAML silently lets the last one win,
are rejected because in hand-edited content they are almost always a copy-and-paste mistake.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, ScalarNode, SequenceNode


class LineDict(dict[Any, Any]):
    """A dict that knows its own line and the line of each of its keys (1-based)."""

    line: int
    key_lines: dict[str, int]


class LineList(list[Any]):
    """A list that knows its own line and the line of each item (1-based)."""

    line: int
    item_lines: list[int]


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that builds LineDict / LineList instead of plain containers."""


def _construct_mapping(loader: _LineLoader, node: MappingNode) -> Iterator[LineDict]:
    data = LineDict()
    data.line = node.start_mark.line + 1
    data.key_lines = {}
    yield data
    seen: dict[str, int] = {}
    for key_node, _value_node in node.value:  # before merge keys (<<) are expanded: overrides are fine
        if not isinstance(key_node, ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key_line = key_node.start_mark.line + 1
        if key_node.value in seen:
            first = seen[key_node.value]
            raise ConstructorError(
                None,
                None,
                f"key '{key_node.value}' appears twice in the same entry (first on line {first})",
                key_node.start_mark,
            )
        seen[key_node.value] = key_line
    loader.flatten_mapping(node)
    data.update(loader.construct_mapping(node))
    for key_node, _value_node in node.value:
        if isinstance(key_node, ScalarNode):
            data.key_lines[str(loader.construct_object(key_node))] = key_node.start_mark.line + 1


def _construct_sequence(loader: _LineLoader, node: SequenceNode) -> Iterator[LineList]:
    data = LineList()
    data.line = node.start_mark.line + 1
    data.item_lines = [child.start_mark.line + 1 for child in node.value]
    yield data
    data.extend(loader.construct_sequence(node))


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)


class YamlSyntaxError(Exception):
    """The file is not valid YAML; carries the 1-based line the parser stopped at."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def parse_yaml(path: Path) -> Any:
    """Read one YAML document with line information; raise YamlSyntaxError on bad syntax."""
    text = path.read_text(encoding="utf-8")
    try:
        return yaml.load(text, Loader=_LineLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        parts = [part for part in (exc.context, exc.problem) if part]
        message = ", ".join(parts) or "invalid YAML"
        raise YamlSyntaxError(mark.line + 1 if mark else None, f"invalid YAML: {message}") from exc
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(None, f"invalid YAML: {exc}") from exc


def line_of(raw: Any, loc: tuple[int | str, ...]) -> int | None:
    """Follow a pydantic error location through the raw data and return the deepest known line."""
    line: int | None = getattr(raw, "line", None)
    node = raw
    for part in loc:
        if isinstance(node, LineDict) and isinstance(part, str) and part in node:
            line = node.key_lines.get(part, line)
            node = node[part]
        elif isinstance(node, LineList) and isinstance(part, int) and 0 <= part < len(node):
            line = node.item_lines[part]
            node = node[part]
        else:
            break
    return line
