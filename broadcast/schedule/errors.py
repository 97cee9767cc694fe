"""Errors in plain words: pydantic's validation errors as operators read them (file, line,
column, what is wrong and what to do), for schedule.yaml and any other file read the same way."""

from __future__ import annotations

import datetime as dt
import difflib
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from broadcast.errors import BroadcastError, Location
from broadcast.schedule.items import (
    AudioItem,
    ChimeItem,
    RelayItem,
    RotationItem,
    ScriptItem,
    SilenceItem,
)
from broadcast.schedule.values import AUDIO_SUFFIXES, ITEM_KINDS, say_length
from broadcast.yamlsource import Positions, YamlPath


class ScheduleError(BroadcastError):
    """schedule.yaml has problems; ``problems`` lists every one of them."""

    def __init__(self, problems: list[BroadcastError]) -> None:
        self.problems = problems
        count = len(problems)
        header = f"schedule has {count} problem{'s' if count != 1 else ''}:"
        super().__init__("\n".join([header, *(f"  {p}" for p in problems)]))

    def __str__(self) -> str:
        return self.message


_TYPE_WORDS = {
    "string_type": "must be text",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "list_type": "must be a list (lines starting with '- ')",
    "dict_type": "must be a block of 'name: value' lines",
    "model_type": "must be a block of 'name: value' lines",
    "model_attributes_type": "must be a block of 'name: value' lines",
    "path_type": "must be a file name",
    "too_short": "must not be empty",
    "greater_than": "must be more than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than": "must be less than {lt}",
    "less_than_equal": "must be at most {le}",
}
_TAGGED = {"script": ScriptItem, "audio": AudioItem, "rotation": RotationItem,
           "relay": RelayItem, "chime": ChimeItem, "silence": SilenceItem}


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in getattr(annotation, "__args__", ()):
        found.extend(m for m in _models_in(arg) if m not in found)
    origin = getattr(annotation, "__origin__", None)
    if origin is not None and not getattr(annotation, "__args__", ()):
        found.extend(_models_in(origin))
    return found


def _keys(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items() if not info.exclude]


def _allowed_keys(root: type[BaseModel], where: tuple[str | int, ...]) -> list[str]:
    """Keys allowed in the block at ``where`` (a pydantic location in ``root``, union tags
    included)."""
    models: list[type[BaseModel]] = [root]
    for part in where:
        if isinstance(part, int):
            continue
        tagged = _TAGGED.get(part)
        if tagged is not None and tagged in models:
            models = [tagged]
            continue
        fields = {
            (info.alias or name): info for model in models
            for name, info in model.model_fields.items()
        }
        info = fields.get(part)
        if info is None:
            return []
        models = _models_in(info.annotation)
    return _keys(models[0]) if len(models) == 1 else []


def _without_union_tags(loc: tuple[str | int, ...]) -> YamlPath:
    """Drop the item-kind tag pydantic puts after an item's index: it is not in the file."""
    kept: list[str | int] = []
    for index, part in enumerate(loc):
        after_item = index >= 2 and loc[index - 2] == "items" and isinstance(loc[index - 1], int)
        if after_item and part in ITEM_KINDS:
            continue
        kept.append(part)
    return tuple(kept)


def _value_at(data: object, where: YamlPath) -> object:
    for part in where:
        if isinstance(data, dict) and isinstance(part, str):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return None
    return data


def explain(
    error: dict[str, Any],
    positions: Positions,
    data: object,
    root: type[BaseModel],
    *,
    at_key: bool = False,
) -> BroadcastError:
    """One error of validating ``data`` (read with ``positions``) as ``root``, in plain words
    with its place. ``at_key``: point at the setting's name rather than at its value."""

    def place(where: YamlPath) -> Location:
        return positions.location(where, key=at_key)

    raw_loc = tuple(error["loc"])
    loc = _without_union_tags(raw_loc)
    kind = error["type"]
    name = loc[-1] if loc else "schedule"
    if kind == "extra_forbidden":
        allowed = _allowed_keys(root, raw_loc[:-1])
        guess = difflib.get_close_matches(str(name), allowed, n=1)
        hint = f" Did you mean '{guess[0]}'?" if guess else (
            f" Allowed here: {', '.join(allowed)}." if allowed else "")
        return BroadcastError(
            f"unknown setting '{name}'.{hint}", positions.location(loc, key=True)
        )
    if kind == "item_kind":
        return BroadcastError(_item_kind_message(_value_at(data, loc)), place(loc))
    if kind in ("output_type", "fallback_kind"):
        return BroadcastError(f"{error['msg']}.", place(loc))
    if kind == "missing":
        return BroadcastError(f"'{name}' is missing. Add a line '{name}: ...' here.",
                              place(loc[:-1]))
    label = "this item" if isinstance(name, int) else f"'{name}'"
    message = value_problem(error, label)
    written, value = positions.written.get(loc), _value_at(data, loc)
    if written is not None and written != str(value):
        message = message.replace(f"'{value}'", f"'{written}'")  # as the operator wrote it
    return BroadcastError(message, place(loc))


def value_problem(error: dict[str, Any], label: str) -> str:
    """What pydantic found wrong with one value, in plain words, naming it ``label``."""
    kind = error["type"]
    ctx = error.get("ctx", {})
    if kind == "literal_error":
        return f"{label} must be one of {ctx.get('expected', '')}."
    if kind == "value_error":
        return f"{ctx.get('error', error['msg'])}."
    words = _TYPE_WORDS.get(kind)
    if words is None:
        words = error["msg"][0].lower() + error["msg"][1:]
    else:
        words = words.format(**{key: _plain(value) for key, value in ctx.items()})
    return f"{label} {words}."


def _plain(value: object) -> str:
    if isinstance(value, dt.timedelta):
        return say_length(value.total_seconds())
    return str(value)


def _item_kind_message(value: object) -> str:
    kinds = f"{', '.join(ITEM_KINDS[:-1])} or {ITEM_KINDS[-1]}"
    if isinstance(value, dict) and value:
        first = str(next(iter(value)))
        guess = difflib.get_close_matches(first, ITEM_KINDS, n=1)
        hint = f" Did you mean '{guess[0]}'?" if guess else f" Use {kinds}."
        return f"'{first}' is not a kind of item.{hint}"
    if isinstance(value, str):
        kind = "audio" if Path(value).suffix.lower() in AUDIO_SUFFIXES else "script"
        return f"say what '{value}' is: write '{kind}: {value}'."
    return f"each item must start with {kinds}, then ':'."


def in_file_order(problems: list[BroadcastError]) -> list[BroadcastError]:
    """``problems`` by their place in the file, each different one once."""
    unique: dict[str, BroadcastError] = {}
    for problem in problems:
        unique.setdefault(str(problem), problem)

    def place(problem: BroadcastError) -> tuple[int, int]:
        where = problem.location
        return (where.line or 0, where.column or 0) if where else (0, 0)

    return sorted(unique.values(), key=place)
