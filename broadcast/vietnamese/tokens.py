"""The tokens of one line of bulletin text: dates, times, phone numbers, numbers, words, marks."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .text import VOWEL_LETTERS
from .words import UNIT_NAMES

LOWER_LETTERS = "a-zđ" + "".join(sorted(ch for ch in VOWEL_LETTERS if ch.islower()))
UPPER_LETTERS = "A-ZĐ" + "".join(sorted(ch for ch in VOWEL_LETTERS if ch.isupper()))
_LOWER_VOWELS = "".join(sorted(ch for ch in VOWEL_LETTERS if ch.islower()))
# A run of ordinary lower-case words needs no work: it is read as written.
_PLAIN_WORD = rf"(?=[{LOWER_LETTERS}]*[{_LOWER_VOWELS}])[{LOWER_LETTERS}]{{2,}}(?![^\W_])"
_UNITS = "|".join(re.escape(unit) for unit in sorted(UNIT_NAMES, key=len, reverse=True))
_SEP = r"[ .-]?"
# A local number after the area code: "3822 123", "3822123", "3.822.123", "3 822 555".
_LOCAL_NUMBER = rf"\d{{3,4}}{_SEP}\d{{3,4}}|\d[ .]\d{{3}}[ .]\d{{3}}"
TOKEN = re.compile(
    r"(?<![\w.,/-])(?P<plate>(?P<province>\d{1,2})-?(?P<series>[A-ZĐ]{1,2}\d?)"
    r"(?:\s?-\s?(?P<serial>\d{3}\.(?:\d{2}|[xX]{2})|\d{4,5})"
    r"|\s(?P<spaced>\d{3}\.(?:\d{2}|[xX]{2}))))(?![\w.]\d|\w)"
    r"|(?P<phone>"
    rf"(?:\(\+84{_SEP}\d{{2,3}}\)|\+84{_SEP}\d{{2,3}}){_SEP}(?:{_LOCAL_NUMBER})"
    rf"|\(0\d{{2,3}}\)\s?(?:{_LOCAL_NUMBER})"
    rf"|0\d{{2,3}}{_SEP}(?:{_LOCAL_NUMBER})"
    r"|0\d{2,3}[ .](?:\d{3,4}|[xX]{3,4})[ .][xX]{3,4}"
    r"|0\d{7,10}"
    r"|1[89]00(?:[ .]?\d{2}){2,3}"
    r"|1[89]00-(?!(?:1[89]|20|21)\d\d(?!\d))\d{4}"
    r")(?!\d)"
    r"|(?P<dotted>(?=[\d.]*\.(?:\d{4,}|[A-Z]))(?!\d{1,2}\.\d{1,2}\.\d{4}(?![\d.]))"
    r"\d{1,3}(?:\.\d+)+(?:\.[A-Z]{1,3}\d{0,3})?)"
    r"(?![\w.]?\w)"
    r"|(?P<drange>(?P<dr1>\d{1,2})\s?-\s?(?P<dr2>\d{1,2})/(?P<drm>\d{1,2})"
    r"(?:/(?P<dry>\d{4}))?)(?![\d/])"
    r"|(?P<date>(?P<dd>\d{1,2})(?P<sep>[/.-])(?P<dm>\d{1,2})(?P=sep)(?P<dy>\d{4})"
    r"|(?P<iy>\d{4})(?P<isep>[/-])(?P<im>\d{1,2})(?P=isep)(?P<id>\d{1,2}))(?![\d/.-]\d)"
    r"|(?P<time>(?P<th>\d{1,2})(?:\s?[hH]\s?|g)(?P<tm>\d{2})(?:'|ph?(?![^\W\d_]))?(?!\d)"
    r"|(?P<ch>\d{1,2}):(?P<cm>\d{2})(?::(?P<cs>\d{2}))?(?![\d:])"
    r"|(?P<bh>\d{1,2})\s?[hH](?![^\W\d_]))"
    r"|(?P<slash>(?P<sa>\d{1,4})/(?P<sb>\d{1,4})(?P<sc>(?:/\d{1,4})+)?)(?![\d/])"
    r"|(?P<num>\d{1,3}(?:\.\d{3})+(?:,\d+)?(?!\d)"
    r"|\d{1,3}(?:,\d{3}){2,}(?!\d)"
    r"|\d+(?:\.\d{1,2}(?!\d))+"
    r"|\d+(?:,\d+)?)"
    rf"(?:\s?(?P<unit>{_UNITS})(?![^\W\d_]))?"
    rf"|(?<![^\W_])(?P<plain>{_PLAIN_WORD}(?:\s+{_PLAIN_WORD})*)"
    r"|(?P<mixed>[^\W\d_]+\d[^\W_]*)"
    r"|(?P<word>[^\W\d_]+)"
    r"|(?P<punct>\.{3}|[^\w\s])"
)

# Kinds of token read as numbers, and as words ("done" is text that passes 1-2 already said).
NUMERIC = frozenset({"num", "time", "date", "slash", "drange", "dotted"})
WORDLIKE = frozenset({"word", "plain", "done", "mixed"})


@dataclass(frozen=True, slots=True)
class Token:
    """A piece of the line; ``match`` is its match of TOKEN (None for "done")."""

    kind: str
    text: str
    start: int
    end: int
    match: re.Match[str] | None = None

    @property
    def lower(self) -> str:
        return self.text.lower()

    @property
    def first_word(self) -> str:
        """First word of the token, lower-cased ("" for punctuation)."""
        words = self.lower.split(maxsplit=1)
        return words[0] if words and self.kind in WORDLIKE else ""

    @property
    def last_word(self) -> str:
        """Last word of the token, lower-cased ("" for punctuation)."""
        words = self.lower.rsplit(maxsplit=1)
        return words[-1] if words and self.kind in WORDLIKE else ""
