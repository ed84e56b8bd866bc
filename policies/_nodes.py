"""Read YAML nodes with their line numbers and collect every problem instead of stopping at the first.

PyYAML's composer gives a node tree whose nodes carry ``start_mark`` (0-based line); values are
read from the scalar's raw text, so ``199.00`` written without quotes is still the exact decimal
``199.00`` and never passes through a float.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from pricewarden.errors import Problem

_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_INT = "tag:yaml.org,2002:int"
_STR = "tag:yaml.org,2002:str"
# Plain decimal notation only: "1e3", "0x10" or "1_000" are numbers to YAML or Decimal, but not
# how anyone writes a price, so they are more likely typos than intent.
_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


# libyaml's parser is ~10x faster on large files and gives the same node marks.
_LOADER: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def line_of(node: Node | None) -> int | None:
    """1-based line where ``node`` starts."""
    return None if node is None else node.start_mark.line + 1


class NodeReader:
    """Typed accessors over YAML nodes that record a :class:`Problem` for each bad value."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def problem(self, node: Node | None, field: str | None, message: str, *, line: int | None = None) -> None:
        """Record one problem at ``node`` (or an explicit ``line``)."""
        self.problems.append(Problem(self.file, line if line is not None else line_of(node), field, message))

    def compose(self, text: str) -> Node | None:
        """The root node of ``text``, or ``None`` (with a problem) when it is not YAML."""
        try:
            return yaml.compose(text, Loader=_LOADER)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark is not None else None
            self.problem(None, None, f"not valid YAML: {exc.problem or exc}", line=line)
        except yaml.YAMLError as exc:
            self.problem(None, None, f"not valid YAML: {exc}", line=1)
        return None

    def mapping(
        self, node: Node, field: str, allowed: Collection[str], required: Collection[str] = (),
        *, unknown: str | None = None,
    ) -> dict[str, Node] | None:
        """The keys of a mapping node; unknown, duplicate and missing keys are problems.

        ``unknown`` words the problem for an unknown key (``{key!r}`` is replaced).
        """
        if not isinstance(node, MappingNode):
            self.problem(node, field or None, "must be a mapping of keys to values")
            return None
        found: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else None
            path = f"{field}.{key}" if field else str(key)
            if not isinstance(key, str):
                self.problem(key_node, field or None, "keys must be plain names")
            elif key in found:
                self.problem(key_node, path, f"duplicate key {key!r} (first at line {line_of(found[key])})")
            elif key not in allowed:
                message = (unknown.format(key=key) if unknown
                           else f"unknown key {key!r}; expected one of: {', '.join(sorted(allowed))}")
                self.problem(key_node, path, message)
            else:
                found[key] = value_node
        for key in required:
            if key not in found:
                self.problem(node, f"{field}.{key}" if field else key, f"missing required key {key!r}")
        return found

    def sequence(self, node: Node, field: str) -> list[Node] | None:
        """The items of a sequence node."""
        if not isinstance(node, SequenceNode):
            self.problem(node, field, "must be a list")
            return None
        return list(node.value)

    def text(self, node: Node, field: str) -> str | None:
        """A non-empty string scalar."""
        if not isinstance(node, ScalarNode) or node.tag in (_NULL, _BOOL) or not str(node.value).strip():
            self.problem(node, field, "must be a non-empty text value")
            return None
        return str(node.value).strip()

    def texts(self, node: Node, field: str) -> tuple[str, ...] | None:
        """A non-empty list of strings (a single string is accepted as a list of one)."""
        if isinstance(node, ScalarNode):
            one = self.text(node, field)
            return None if one is None else (one,)
        items = self.sequence(node, field)
        if items is None:
            return None
        if not items:
            self.problem(node, field, "must not be empty")
            return None
        values = [self.text(item, f"{field}[{i}]") for i, item in enumerate(items)]
        if any(v is None for v in values):
            return None
        return tuple(v for v in values if v is not None)

    def boolean(self, node: Node, field: str) -> bool | None:
        """A YAML boolean (true/false)."""
        if not isinstance(node, ScalarNode) or node.tag != _BOOL:
            self.problem(node, field, "must be true or false")
            return None
        return str(node.value).lower() in {"true", "yes", "on", "y"}

    def integer(self, node: Node, field: str, *, minimum: int = 0) -> int | None:
        """A whole number >= ``minimum``."""
        if not isinstance(node, ScalarNode) or node.tag not in (_INT, _STR):
            self.problem(node, field, "must be a whole number")
            return None
        try:
            value = int(str(node.value).strip())
        except ValueError:
            self.problem(node, field, f"must be a whole number, not {node.value!r}")
            return None
        if value < minimum:
            self.problem(node, field, f"must be at least {minimum}, not {value}")
            return None
        return value

    def decimal(self, node: Node, field: str, *, maximum: Decimal | None = None) -> Decimal | None:
        """A non-negative exact decimal, read from the scalar's text (never through a float)."""
        if not isinstance(node, ScalarNode) or node.tag in (_NULL, _BOOL):
            self.problem(node, field, "must be a decimal number such as \"199.00\"")
            return None
        raw = str(node.value).strip()
        try:
            if not _DECIMAL.fullmatch(raw):
                raise InvalidOperation
            value = Decimal(raw)
        except InvalidOperation:
            self.problem(node, field, f"must be a decimal number such as \"199.00\", not {raw!r}")
            return None
        if value < 0:
            self.problem(node, field, f"must not be negative ({raw})")
            return None
        if maximum is not None and value > maximum:
            self.problem(node, field, f"must be at most {maximum} ({raw})")
            return None
        return value

    def instant(self, node: Node, field: str, zone: ZoneInfo | None) -> datetime | None:
        """A local date-time in ``zone`` (or one with an explicit UTC offset), as an aware UTC instant.

        A local time that does not exist (the hour skipped when clocks go forward) is read with the
        offset in force before the change, so 02:30 on the spring-forward night in New York means
        03:30 EDT (07:30 UTC); a local time that occurs twice (clocks go back) means the first one.
        That is ``zoneinfo``'s ``fold=0`` (PEP 495). ``zone`` ``None`` (bad time zone, reported
        elsewhere) only checks the syntax.
        """
        if not isinstance(node, ScalarNode) or node.tag in (_NULL, _BOOL):
            self.problem(node, field, "must be a date-time such as 2026-03-01T00:00")
            return None
        raw = str(node.value).strip()
        try:
            parsed = datetime.fromisoformat(raw)
        except ValueError:
            self.problem(node, field, f"not a valid date-time: {raw!r} (expected YYYY-MM-DDTHH:MM, local time)")
            return None
        if parsed.tzinfo is not None:
            return parsed.astimezone(UTC)
        if zone is None:
            return None
        return parsed.replace(tzinfo=zone).astimezone(UTC)
