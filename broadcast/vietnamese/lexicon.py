"""Abbreviations and foreign words with their spoken forms."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType

import yaml

from .decoding import decode_text
from .errors import LexiconError, TextDecodingError
from .text import normalize_tones

_SPACES_AROUND_HYPHEN = re.compile(r"\s*-\s*")
_SPACES = re.compile(r"\s+")


def _canonical(written: str) -> str:
    """Written form as stored and compared: NFC, one tone placement, tidy spaces."""
    text = normalize_tones(written.strip())
    return _SPACES.sub(" ", _SPACES_AROUND_HYPHEN.sub("-", text))


def _default_case_sensitive(written: str) -> bool:
    letters = [ch for ch in written if ch.isalpha()]
    return bool(letters) and all(ch.isupper() for ch in letters)


@dataclass(frozen=True)
class LexiconEntry:
    """One written form and how to say it.

    ``whole_word`` entries only match a complete word; ``case_sensitive`` defaults to
    true for all-caps abbreviations ("UBND") and false otherwise ("Zalo" matches "ZALO").
    """

    written: str
    spoken: str
    whole_word: bool = True
    case_sensitive: bool | None = None

    def __post_init__(self) -> None:
        written = _canonical(self.written)
        if not written:
            raise ValueError("a lexicon entry needs a written form")
        object.__setattr__(self, "written", written)
        object.__setattr__(self, "spoken", " ".join(normalize_tones(self.spoken).split()))
        if self.case_sensitive is None:
            object.__setattr__(self, "case_sensitive", _default_case_sensitive(written))

    @property
    def key(self) -> str:
        """The written form ignoring case: an override replaces every entry with this key."""
        return self.written.casefold()

    @property
    def identity(self) -> tuple[bool, str]:
        """Two entries with the same identity cannot both be in one lexicon."""
        return (True, self.written) if self.case_sensitive else (False, self.key)


def _char_pattern(char: str, case_sensitive: bool) -> str:
    if char == "-":
        return r"\s*-\s*"
    if char == " ":
        return r"\s+"
    if not case_sensitive:
        lower, upper = char.lower(), char.upper()
        if lower != upper and len(lower) == 1 and len(upper) == 1:
            return "[" + re.escape(lower) + re.escape(upper) + "]"
    return re.escape(char)


_WORD_END = r"(?!\w)"


def _trie_regex(entries: Iterable[LexiconEntry], whole_word: bool) -> str:
    """One alternation for many literals, sharing prefixes so matching stays fast.

    A whole-word entry that ends in a letter or digit may not run on into a longer word;
    one that ends in a mark ("TP.", "v.v.") may: "TP.Thủ Đức" is "TP." before a name.
    """
    root: dict[str, dict] = {}
    for entry in entries:
        node = root
        for char in entry.written:
            node = node.setdefault(_char_pattern(char, bool(entry.case_sensitive)), {})
        ends_in_word = entry.written[-1].isalnum()
        node.setdefault("", {})[_WORD_END if whole_word and ends_in_word else ""] = {}
    return _emit(root)


def _emit(node: dict[str, dict]) -> str:
    return _emit_with_depth(node)[0]


def _emit_with_depth(node: dict[str, dict]) -> tuple[str, int]:
    """The pattern for a node and the length of the longest entry below it.

    Longer matches first: branches by the longest entry below them, each entry's end (key
    "") last, so "BCH Quân sự" wins over "BCH" though the cases of their letters differ.
    """
    children = [
        (token, *_emit_with_depth(child)) for token, child in node.items() if token
    ]
    children.sort(key=lambda child: child[2], reverse=True)
    branches = [token + pattern for token, pattern, _ in children]
    if "" in node:
        branches += sorted(node[""], reverse=True)
    depth = 1 + children[0][2] if children else 0
    if not branches:
        return "", depth
    if len(branches) == 1:
        return branches[0], depth
    return "(?:" + "|".join(branches) + ")", depth


@dataclass(frozen=True)
class _Index:
    exact: Mapping[str, LexiconEntry]
    folded: Mapping[str, LexiconEntry]
    whole_word: re.Pattern[str] | None
    anywhere: re.Pattern[str] | None

    @classmethod
    def build(cls, entries: tuple[LexiconEntry, ...]) -> _Index:
        exact = {e.written: e for e in entries if e.case_sensitive}
        folded = {e.key: e for e in entries if not e.case_sensitive}
        whole = [e for e in entries if e.whole_word]
        parts = [e for e in entries if not e.whole_word]
        return cls(
            exact=MappingProxyType(exact),
            folded=MappingProxyType(folded),
            whole_word=re.compile(r"(?<!\w)" + _trie_regex(whole, True)) if whole else None,
            anywhere=re.compile(_trie_regex(parts, False)) if parts else None,
        )


@dataclass(frozen=True)
class Lexicon:
    """An immutable set of :class:`LexiconEntry`; later entries replace earlier ones."""

    entries: tuple[LexiconEntry, ...] = ()
    _index: _Index = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        unique: dict[tuple[bool, str], LexiconEntry] = {}
        for entry in self.entries:
            unique.pop(entry.identity, None)
            unique[entry.identity] = entry
        entries = tuple(unique.values())
        object.__setattr__(self, "entries", entries)
        object.__setattr__(self, "_index", _Index.build(entries))

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, str]) -> Lexicon:
        """Build from ``{"UBND": "Ủy ban nhân dân", ...}`` with default options."""
        return cls(tuple(LexiconEntry(written, spoken) for written, spoken in mapping.items()))

    def merged(self, override: Lexicon) -> Lexicon:
        """A new lexicon with ``override``'s entries winning over this one's.

        An override entry replaces every entry written the same way, ignoring case.
        """
        replaced = {entry.key for entry in override.entries}
        kept = tuple(entry for entry in self.entries if entry.key not in replaced)
        return Lexicon(kept + override.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def lookup(self, written: str) -> str | None:
        """Spoken form of one written form, or None."""
        entry = self.entry_for(written)
        return None if entry is None else entry.spoken

    def entry_for(self, written: str) -> LexiconEntry | None:
        """The entry that a piece of text matches, honouring case sensitivity."""
        text = _canonical(written)
        entry = self._index.exact.get(text)
        if entry is None:
            entry = self._index.folded.get(text.casefold())
        return entry

    def spoken_for_match(self, matched: str) -> str | None:
        """Spoken form for text found by :meth:`patterns`, keeping a leading capital."""
        entry = self.entry_for(matched)
        if entry is None:
            return None
        spoken = entry.spoken
        if not entry.case_sensitive and matched[:1].isupper() and spoken[:1].islower():
            spoken = spoken[:1].upper() + spoken[1:]
        return spoken

    def patterns(self) -> tuple[re.Pattern[str], ...]:
        """Compiled matchers: whole-word entries first, then entries matching anywhere."""
        return tuple(p for p in (self._index.whole_word, self._index.anywhere) if p is not None)


# --- YAML files ------------------------------------------------------------------

_TRUE = frozenset({"true", "yes", "on", "có", "1"})
_FALSE = frozenset({"false", "no", "off", "không", "0"})
_OPTION_KEYS = ("say", "whole_word", "case_sensitive")
_FORMAT_HELP = (
    "Each line under 'entries:' should look like 'UBND: Ủy ban nhân dân' "
    "(indented with spaces)."
)


def _where(source: str, node: yaml.Node | yaml.Mark) -> str:
    mark = node if isinstance(node, yaml.Mark) else node.start_mark
    return f"{source}:{mark.line + 1}:{mark.column + 1}"


def _fail(source: str, node: yaml.Node | yaml.Mark, message: str) -> LexiconError:
    return LexiconError(f"{_where(source, node)}: {message}")


def _scalar(source: str, node: yaml.Node, what: str) -> str:
    if not isinstance(node, yaml.ScalarNode):
        raise _fail(source, node, f"{what} must be plain text, not a list or a block. "
                    + _FORMAT_HELP)
    return str(node.value).strip()


def _flag(source: str, node: yaml.Node, name: str) -> bool:
    value = _scalar(source, node, f"'{name}'").lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise _fail(source, node, f"'{name}' must be true or false, not '{value}'.")


def _check_spoken(source: str, node: yaml.Node, written: str, spoken: str) -> str:
    if not spoken:
        raise _fail(source, node, f"'{written}' has no spoken form. Write how it is read "
                    f"after the colon, e.g. '{written}: ...'.")
    if any(ch.isdigit() for ch in spoken):
        raise _fail(source, node, f"the spoken form of '{written}' contains digits. "
                    "Write numbers in words (e.g. 'mười hai', not '12').")
    return spoken


def _entry(source: str, key_node: yaml.Node, value_node: yaml.Node) -> LexiconEntry:
    written = _scalar(source, key_node, "A written form")
    if not written:
        raise _fail(source, key_node, "an entry has an empty written form. " + _FORMAT_HELP)
    if isinstance(value_node, yaml.ScalarNode):
        spoken = _check_spoken(source, value_node, written, str(value_node.value).strip())
        return LexiconEntry(written, spoken)
    if not isinstance(value_node, yaml.MappingNode):
        raise _fail(source, value_node, f"the reading of '{written}' must be text, or "
                    "'say:' with optional 'whole_word:' and 'case_sensitive:'.")
    options: dict[str, yaml.Node] = {}
    for option_key, option_value in value_node.value:
        name = _scalar(source, option_key, "An option name")
        if name not in _OPTION_KEYS:
            raise _fail(source, option_key, f"unknown option '{name}' for '{written}'. "
                        f"Use only: {', '.join(_OPTION_KEYS)}.")
        options[name] = option_value
    if "say" not in options:
        raise _fail(source, value_node, f"'{written}' needs a 'say:' line with its reading.")
    say_node = options["say"]
    spoken = _check_spoken(source, say_node, written, _scalar(source, say_node, "'say'"))
    return LexiconEntry(
        written,
        spoken,
        whole_word=_flag(source, options["whole_word"], "whole_word")
        if "whole_word" in options
        else True,
        case_sensitive=_flag(source, options["case_sensitive"], "case_sensitive")
        if "case_sensitive" in options
        else None,
    )


def _entries_node(source: str, root: yaml.Node | None) -> yaml.MappingNode | None:
    if root is None:
        return None
    if not isinstance(root, yaml.MappingNode):
        raise _fail(source, root, "the file must be a list of 'WRITTEN: spoken' lines. "
                    + _FORMAT_HELP)
    keys = {
        str(k.value).strip(): (k, v) for k, v in root.value if isinstance(k, yaml.ScalarNode)
    }
    if "entries" not in keys:
        return root
    for name, (key_node, _) in keys.items():
        if name != "entries":
            raise _fail(source, key_node, f"unknown section '{name}'. Put every word under "
                        "'entries:' (or drop 'entries:' and list the words at the top).")
    node = keys["entries"][1]
    if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"):
        return None
    if not isinstance(node, yaml.MappingNode):
        raise _fail(source, node, "'entries:' must be followed by indented "
                    "'WRITTEN: spoken' lines. " + _FORMAT_HELP)
    return node


def parse_lexicon(text: str, source: str) -> Lexicon:
    """Parse lexicon YAML; ``source`` names the file in error messages."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or "the file is not valid YAML"
        hint = _yaml_hint(problem)
        if mark is None:
            raise LexiconError(f"{source}: {problem}. {hint}") from None
        raise _fail(source, mark, f"{problem}. {hint}") from None
    except yaml.YAMLError as exc:
        raise LexiconError(f"{source}: the file is not valid YAML ({exc}).") from None
    node = _entries_node(source, root)
    if node is None:
        return Lexicon()
    seen: dict[tuple[bool, str], yaml.Node] = {}
    entries: list[LexiconEntry] = []
    for key_node, value_node in node.value:
        entry = _entry(source, key_node, value_node)
        if entry.identity in seen:
            first = seen[entry.identity].start_mark.line + 1
            raise _fail(source, key_node, f"'{entry.written}' is listed twice (also on line "
                        f"{first}). Keep only one of them.")
        seen[entry.identity] = key_node
        entries.append(entry)
    return Lexicon(tuple(entries))


def _yaml_hint(problem: str) -> str:
    if "\\t" in problem or "tab" in problem:
        return "Indent with spaces, not tabs."
    if "mapping values" in problem:
        return ("A word or reading that contains ':' must be put in quotes, "
                "e.g. 'Lưu: VT' becomes \"Lưu: VT\": lưu văn thư.")
    if "duplicate" in problem:
        return "Keep only one line for each word."
    return _FORMAT_HELP


def load_lexicon(path: Path) -> Lexicon:
    """Load an operator-edited lexicon file; problems raise :class:`LexiconError`."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_LEXICON_BYTES + 1)
    except FileNotFoundError:
        raise LexiconError(f"{path}: file not found. Check the path in the settings, or "
                           "create the file with an 'entries:' section.") from None
    except OSError as exc:
        raise LexiconError(f"{path}: cannot be read ({exc.strerror}).") from None
    if len(data) > MAX_LEXICON_BYTES:
        raise LexiconError(f"{path}: the lexicon is larger than {MAX_LEXICON_BYTES // 1000} kB, "
                           "far more than a ward's own words. Check that it is the file you "
                           "meant.")
    try:
        text = decode_text(data)
    except TextDecodingError as exc:
        raise LexiconError(f"{path}: {exc}") from None
    return parse_lexicon(text, str(path))


MAX_LEXICON_BYTES = 256_000
"""A ward's lexicon holds a few hundred entries: some tens of kilobytes."""


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    """The lexicon shipped with broadcast (ward administration and common loan words)."""
    data = resources.files(__package__).joinpath("lexicon.yaml").read_bytes()
    return parse_lexicon(decode_text(data), "broadcast/vietnamese/lexicon.yaml")
