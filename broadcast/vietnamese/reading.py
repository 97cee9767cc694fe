"""The state of reading one line, and what the words around a token say about it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from .lexicon import Lexicon
from .tokens import WORDLIKE, Token
from .words import IDENTIFIER_PAIRS, IDENTIFIER_WORDS, QUANTITY_WORDS, SCORE_WORDS

# How far back in the line the words before a token are looked for.
CONTEXT_CHARS = 60
WORD = re.compile(r"[^\W_]+")
_CLAUSE_BREAK = re.compile(r"[,;.!?()]")

Pass = Literal["document code", "web address", "place", "lexicon"]
"""The pass before token reading that said a "done" token."""


@dataclass(frozen=True, slots=True)
class Said:
    """The words one reader said for tokens ``first`` to ``last`` (both included).

    ``kind`` is the kind of token ``first``, or "marker" for a list marker at the start of the
    line.
    """

    kind: str
    first: int
    last: int
    words: tuple[str, ...]


@dataclass
class Reading:
    """One line's tokens and the words said for them so far; holds only per-call state.

    ``passes`` names the pass that said each "done" token; ``said`` records, reader by reader,
    which tokens became which words (the reading's provenance, for explaining it).
    """

    line: str
    tokens: list[Token]
    lexicon: Lexicon
    out: list[str] = field(default_factory=list)
    hotlines: set[int] = field(default_factory=set)
    dates: set[int] = field(default_factory=set)
    passes: dict[int, Pass] = field(default_factory=dict)
    said: list[Said] = field(default_factory=list)

    def note(self, kind: str, first: int, following: int, since: int) -> None:
        """Tokens ``first`` up to ``following`` (excluded) were said as the items emitted since
        ``len(out)`` was ``since``."""
        self.said.append(Said(kind, first, following - 1, tuple(self.out[since:])))

    def words_before(self, index: int, count: int = 3) -> list[str]:
        """Up to ``count`` words of the source text before token ``index``, nearest first."""
        start = self.tokens[index].start
        tail = self.line[max(0, start - CONTEXT_CHARS) : start].lower()
        words = WORD.findall(tail)
        return words[::-1][:count]

    def word_before(self, index: int) -> str:
        words = self.words_before(index, 1)
        return words[0] if words else ""

    def token(self, index: int) -> Token | None:
        return self.tokens[index] if 0 <= index < len(self.tokens) else None

    def text_at(self, index: int) -> str:
        following = self.token(index)
        return "" if following is None else following.text

    def next_word(self, index: int) -> str | None:
        following = self.token(index + 1)
        if following is None or following.kind not in WORDLIKE:
            return None
        return following.first_word

    def spaced_before(self, index: int) -> bool:
        start = self.tokens[index].start
        return start == 0 or self.line[start - 1].isspace()

    def emit(self, *items: str) -> None:
        self.out.extend(item for item in items if item)

    def clause_before(self, index: int) -> str:
        """The source text of the clause that token ``index`` is in, up to the token."""
        start = self.tokens[index].start
        return _CLAUSE_BREAK.split(self.line[max(0, start - CONTEXT_CHARS) : start])[-1]

    def score_context(self, index: int) -> bool:
        """ "tỷ số 2-1", "thắng 3-0", "hòa 1:1": numbers of a match result."""
        clause = self.clause_before(index).lower()
        words = WORD.findall(clause)
        return bool(SCORE_WORDS.intersection(words)) or "tỷ số" in clause or "tỉ số" in clause

    def quantity_follows(self, index: int) -> bool:
        """ "5-7 ngày", "2-3 năm" count something; "20-10 năm nay" does not."""
        following = self.token(index + 1)
        if following is None or following.kind not in WORDLIKE:
            return False
        words = following.lower.split()
        if words[0] != "năm":
            return words[0] in QUANTITY_WORDS
        if len(words) > 1:
            return words[1] != "nay"
        year = self.token(index + 2)
        return year is None or year.kind != "num" or len(year.text) != 4

    def after_identifier_word(self, index: int) -> bool:
        """ "mã hồ sơ …", "số tài khoản …", "CCCD …": what follows is read as a code."""
        words = WORD.findall(self.clause_before(index).lower())
        recent = words[-3:]
        pairs = set(zip(words[-4:], words[-3:], strict=False))
        return any(word in IDENTIFIER_WORDS for word in recent) or bool(pairs & IDENTIFIER_PAIRS)

    def percent_follows(self, index: int) -> bool:
        """The number after token ``index`` is a percentage: "(-12,5%)", "(+9,52 %)"."""
        number = self.token(index + 1)
        if number is None or number.kind != "num" or number.match is None:
            return False
        return number.match["unit"] == "%" or self.text_at(index + 2) == "%"
