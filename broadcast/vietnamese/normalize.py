"""Bulletin text to speech-ready Vietnamese words.

Each line is processed on its own, in three passes:

1. document codes and web/e-mail addresses (they contain digits, slashes and letters
   that the later passes would otherwise take apart);
2. places written with a dot ("P.2", "TX. Buôn Hồ", "ĐT.725"), then lexicon entries
   (abbreviations, loan words);
3. everything else, token by token, with the words around each token as context:
   dates, times, phone numbers, numbers with units, Roman numerals, capitals.

Pass 3 reads each kind of token with its own function: numbers in ``quantities``, dates and
times in ``dates``, words and abbreviations in ``abbreviations``, marks in ``punctuation``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import partial
from types import MappingProxyType

from . import codes
from .abbreviations import (
    PLACE,
    read_already_spoken,
    read_lexicon_match,
    read_mixed,
    read_place,
    read_plain,
    read_word,
)
from .dates import read_date_range, read_full_date, read_slash, read_time
from .lexicon import Lexicon, default_lexicon
from .punctuation import assemble, read_line_marker, read_punct
from .quantities import read_number, read_phone, read_plate
from .reading import Reading
from .text import clean_line
from .tokens import TOKEN, Token

# Each kind of token and the function that reads it; each returns the next token to read.
_HANDLERS: Mapping[str, Callable[[Reading, int, Token], int]] = MappingProxyType(
    {
        "plain": read_plain,
        "done": read_already_spoken,
        "phone": read_phone,
        "plate": read_plate,
        "drange": read_date_range,
        "date": read_full_date,
        "time": read_time,
        "slash": read_slash,
        "num": read_number,
        "mixed": read_mixed,
        "word": read_word,
        "punct": read_punct,
    }
)


def _segments(line: str, lexicon: Lexicon) -> list[tuple[int, int, str | None]]:
    """Spans of the line: (start, end, spoken) for passes 1-2, spoken None for raw text."""
    spans: list[tuple[int, int, str | None]] = []
    position = 0
    for match in codes.PATTERN.finditer(line):
        spoken = (
            codes.read_address(match["address"], lexicon)
            if match["address"]
            else codes.read_code(match, lexicon)
        )
        if spoken is None:
            continue
        spans.append((position, match.start(), None))
        spans.append((match.start(), match.end(), spoken))
        position = match.end()
    spans.append((position, len(line), None))
    spans = _refine(line, spans, PLACE, partial(read_place, lexicon))
    for pattern in lexicon.patterns():
        spans = _refine(line, spans, pattern, partial(read_lexicon_match, lexicon))
    return [span for span in spans if span[0] < span[1]]


def _refine(
    line: str,
    spans: list[tuple[int, int, str | None]],
    pattern: re.Pattern[str],
    speak: Callable[[re.Match[str]], str | None],
) -> list[tuple[int, int, str | None]]:
    """Split the raw spans further where ``pattern`` matches and ``speak`` reads it."""
    refined: list[tuple[int, int, str | None]] = []
    for start, end, spoken in spans:
        if spoken is not None:
            refined.append((start, end, spoken))
            continue
        position = start
        for match in pattern.finditer(line, start, end):
            said = speak(match)
            if said is None:
                continue
            refined.append((position, match.start(), None))
            refined.append((match.start(), match.end(), said))
            position = match.end()
        refined.append((position, end, None))
    return refined


def _tokens(line: str, lexicon: Lexicon) -> list[Token]:
    tokens: list[Token] = []
    for start, end, spoken in _segments(line, lexicon):
        if spoken is not None:
            tokens.append(Token("done", spoken, start, end))
            continue
        for match in TOKEN.finditer(line, start, end):
            kind = match.lastgroup or "punct"
            if kind == "unit":
                kind = "num"
            tokens.append(Token(kind, match.group(), match.start(), match.end(), match))
    return tokens


def _read_line(line: str, lexicon: Lexicon) -> str:
    cleaned = clean_line(line)
    if not cleaned:
        return ""
    reading = Reading(cleaned, _tokens(cleaned, lexicon), lexicon)
    index = read_line_marker(reading)
    while index < len(reading.tokens):
        token = reading.tokens[index]
        index = _HANDLERS[token.kind](reading, index, token)
    return assemble(reading.out)


def to_spoken(text: str, lexicon: Lexicon | None = None) -> str:
    """Bulletin text to the words an announcer says, one output line per input line."""
    if not text:
        return ""
    lexicon = default_lexicon() if lexicon is None else lexicon
    lines = text.splitlines()
    spoken = "\n".join(_read_line(line, lexicon) for line in lines)
    if text.splitlines(keepends=True)[-1] != lines[-1]:
        spoken += "\n"
    return spoken

