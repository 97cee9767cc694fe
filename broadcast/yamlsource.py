"""YAML loading that remembers where every value came from (line and column).

Operators edit YAML by hand; an error must point at the exact place. :func:`load_yaml` returns
the plain data and a map from each value's path (keys and list indexes) to its position.

Times such as ``17:00`` stay text: YAML 1.1 would otherwise read them as base-60 numbers (1020).
Dates such as ``2026-05-01`` become :class:`datetime.date`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from broadcast.errors import BroadcastError, Location

YamlPath = tuple[str | int, ...]


class YamlSyntaxError(BroadcastError):
    """The file is not valid YAML."""


_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser when PyYAML was built with it (several times faster), else PyYAML's own."""


class _Loader(_SafeLoader):
    """SafeLoader without base-60 numbers, so ``17:00`` stays the text "17:00"."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (
        "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?"
        r"|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


@dataclass(frozen=True)
class Positions:
    """Where each value (and each mapping key) of a YAML document sits."""

    path: Path
    values: dict[YamlPath, tuple[int, int]]
    keys: dict[YamlPath, tuple[int, int]]
    written: dict[YamlPath, str] = field(default_factory=dict)
    """Each plain value as the file writes it (``6.30``, which YAML reads as the number 6.3)."""

    def location(self, where: YamlPath, *, key: bool = False) -> Location:
        """The closest known position for ``where`` (falls back to its parents)."""
        table = self.keys if key else self.values
        probe = where
        while True:
            if probe in table:
                line, column = table[probe]
                return Location(self.path, line, column)
            if probe in self.values:
                line, column = self.values[probe]
                return Location(self.path, line, column)
            if not probe:
                return Location(self.path, 1, 1)
            probe = probe[:-1]


SYNTAX_ADVICE = "Check the indentation and the ':' after each name (use spaces, not tabs)."


def load_yaml(
    text: str, path: Path, *, first_line: int = 1, advice: str = SYNTAX_ADVICE
) -> tuple[object, Positions]:
    """Parse ``text``, which starts at line ``first_line`` of ``path``; raise
    :class:`YamlSyntaxError` with a place, its message ending with ``advice``."""
    loader = _Loader(text)
    try:
        return _load(loader, text, path, first_line, advice)
    finally:
        loader.dispose()


def _load(
    loader: yaml.SafeLoader, text: str, path: Path, first_line: int, advice: str
) -> tuple[object, Positions]:
    try:
        node = loader.get_single_node()
    except RecursionError:
        raise YamlSyntaxError(f"blocks are nested far too deep. {advice}", Location(path)
                              ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(path)
        if mark is not None:
            line, column = _within(text, mark.line, mark.column)
            where = Location(path, line + first_line, column + 1)
        problem = exc.problem or exc.context or "this is not valid YAML"
        raise YamlSyntaxError(f"{problem}. {advice}", where) from None
    positions = Positions(path, {}, {})
    if node is None:
        positions.values[()] = (first_line, 1)
        return None, positions
    return _construct(node, (), positions, loader, first_line, _Budget()), positions


MAX_VALUES = 100_000
"""Values a file may hold once its aliases (``*name``) are expanded: a schedule has a few
thousand; an alias "bomb" would otherwise expand to millions and exhaust the memory."""
MAX_DEPTH = 64
"""Blocks inside blocks; a schedule nests about eight deep."""


@dataclass
class _Budget:
    """What is left of :data:`MAX_VALUES`, and the nodes being built (an alias to one of them
    would make the file contain itself)."""

    values: int = MAX_VALUES
    building: tuple[int, ...] = ()


def _within(text: str, line: int, column: int) -> tuple[int, int]:
    """A 0-based place in ``text``: a place past its end (where libyaml puts the end of a text
    without a final line break) is its last character."""
    lines = text.split("\n")
    if line < len(lines):
        return line, column
    return len(lines) - 1, len(lines[-1])


def _construct(
    node: yaml.Node, where: YamlPath, positions: Positions, loader: yaml.SafeLoader,
    first_line: int, budget: _Budget,
) -> object:
    line, column = node.start_mark.line + first_line, node.start_mark.column + 1
    positions.values[where] = (line, column)
    here = Location(positions.path, line, column)
    budget.values -= 1
    if budget.values < 0:
        raise YamlSyntaxError(
            f"this file holds more than {MAX_VALUES:,} values once its aliases (*name) are "
            "repeated out. Write the blocks out, or use fewer aliases.", here)
    if len(where) > MAX_DEPTH:
        raise YamlSyntaxError(f"blocks are nested more than {MAX_DEPTH} deep here. A schedule "
                              "needs far fewer: check the indentation.", here)
    if id(node) in budget.building:
        raise YamlSyntaxError("the block that starts here contains an alias (*name) to "
                              "itself, so it would never end. Remove that alias.", here)
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
        budget.building = (*budget.building, id(node))
        try:
            return _collection(node, where, positions, loader, first_line, budget)
        finally:
            budget.building = budget.building[:-1]
    if isinstance(node, yaml.ScalarNode):
        positions.written[where] = node.value
    return _checked_scalar(node, loader, here)


def _checked_scalar(node: yaml.Node, loader: yaml.SafeLoader, here: Location) -> object:
    """A scalar's value; a tag that cannot make one (``!!timestamp x``, ``!!python/...``) is
    an error at its place, never a crash."""
    try:
        return _scalar(node, loader)
    except (yaml.YAMLError, AttributeError, TypeError, ValueError):
        tag = node.tag.replace("tag:yaml.org,2002:", "!!")
        raise YamlSyntaxError(f"'{node.value}' cannot be read as {tag}. Remove the tag and "
                              "write the plain value.", here) from None


def _collection(
    node: yaml.MappingNode | yaml.SequenceNode, where: YamlPath, positions: Positions,
    loader: yaml.SafeLoader, first_line: int, budget: _Budget,
) -> object:
    if isinstance(node, yaml.MappingNode):
        result: dict[object, object] = {}
        for key_node, value_node in node.value:
            key = _checked_scalar(key_node, loader, Location(
                positions.path, key_node.start_mark.line + first_line,
                key_node.start_mark.column + 1))
            if isinstance(key, list | dict):
                raise YamlSyntaxError(
                    "a name here must be plain text.",
                    Location(positions.path, key_node.start_mark.line + first_line,
                             key_node.start_mark.column + 1),
                )
            name = str(key)
            if name in result:
                raise YamlSyntaxError(
                    f"'{name}' is written twice in the same block. Keep only one.",
                    Location(positions.path, key_node.start_mark.line + first_line,
                             key_node.start_mark.column + 1),
                )
            positions.keys[(*where, name)] = (
                key_node.start_mark.line + first_line, key_node.start_mark.column + 1)
            result[name] = _construct(value_node, (*where, name), positions, loader,
                                      first_line, budget)
        return result
    return [_construct(child, (*where, i), positions, loader, first_line, budget)
            for i, child in enumerate(node.value)]


def _scalar(node: yaml.Node, loader: yaml.SafeLoader) -> object:
    """The value of a key or scalar node. A value that looks like a date or time but is not a
    real one (``2026-02-30``) stays text, so the schedule can say what is wrong with it."""
    try:
        return loader.construct_object(node, deep=True)
    except ValueError:
        if isinstance(node, yaml.ScalarNode):
            return node.value
        raise
