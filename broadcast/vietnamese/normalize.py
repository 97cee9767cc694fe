"""Bulletin text to speech-ready Vietnamese words.

Each line is processed on its own: cleaned (markup and stray symbols dropped, and the typing
habits of pasted text rewritten, see ``habits``), then read in three passes:

1. document codes and web/e-mail addresses (they contain digits, slashes and letters
   that the later passes would otherwise take apart);
2. places written with a dot ("P.2", "TX. Buôn Hồ", "ĐT.725"), then lexicon entries
   (abbreviations, loan words);
3. everything else, token by token, with the words around each token as context:
   dates, times, phone numbers, numbers with units, Roman numerals, capitals.

Pass 3 reads each kind of token with its own function: numbers in ``quantities``, dates and
times in ``dates``, words and abbreviations in ``abbreviations``, marks in ``punctuation``.

While a line is read, each reader's words are noted with the tokens they were said for, and
each "done" token with the pass that said it, so ``explain`` can show where every spoken word
came from without reading the line a second way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import partial
from types import MappingProxyType
from typing import NamedTuple

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
from .quantities import read_dotted, read_number, read_phone, read_plate
from .reading import Pass, Reading
from .text import clean_line
from .tokens import TOKEN, Token

# Each kind of token and the function that reads it; each returns the next token to read.
_HANDLERS: Mapping[str, Callable[[Reading, int, Token], int]] = MappingProxyType(
    {
        "plain": read_plain,
        "done": read_already_spoken,
        "phone": read_phone,
        "plate": read_plate,
        "dotted": read_dotted,
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


class _Segment(NamedTuple):
    """A span of the line: what passes 1-2 said for it and which pass, or raw text (None)."""

    start: int
    end: int
    spoken: str | None
    made_by: Pass | None


def _segments(line: str, lexicon: Lexicon) -> list[_Segment]:
    """The line cut into what passes 1-2 said and the raw text between."""
    spans: list[_Segment] = []
    position = 0
    for match in codes.PATTERN.finditer(line):
        address = match["address"]
        spoken = (
            codes.read_address(address, lexicon) if address else codes.read_code(match, lexicon)
        )
        if spoken is None:
            continue
        spans.append(_Segment(position, match.start(), None, None))
        made_by: Pass = "web address" if address else "document code"
        spans.append(_Segment(match.start(), match.end(), spoken, made_by))
        position = match.end()
    spans.append(_Segment(position, len(line), None, None))
    spans = _refine(line, spans, PLACE, partial(read_place, lexicon), "place")
    for pattern in lexicon.patterns():
        spans = _refine(line, spans, pattern, partial(read_lexicon_match, lexicon), "lexicon")
    return [span for span in spans if span.start < span.end]


def _refine(
    line: str,
    spans: list[_Segment],
    pattern: re.Pattern[str],
    speak: Callable[[re.Match[str]], str | None],
    made_by: Pass,
) -> list[_Segment]:
    """Split the raw spans further where ``pattern`` matches and ``speak`` reads it."""
    refined: list[_Segment] = []
    for span in spans:
        if span.spoken is not None:
            refined.append(span)
            continue
        position = span.start
        for match in pattern.finditer(line, span.start, span.end):
            said = speak(match)
            if said is None:
                continue
            refined.append(_Segment(position, match.start(), None, None))
            refined.append(_Segment(match.start(), match.end(), said, made_by))
            position = match.end()
        refined.append(_Segment(position, span.end, None, None))
    return refined


def _tokens(line: str, lexicon: Lexicon) -> tuple[list[Token], dict[int, Pass]]:
    """The line's tokens, and the pass that said each "done" token."""
    tokens: list[Token] = []
    passes: dict[int, Pass] = {}
    for start, end, spoken, made_by in _segments(line, lexicon):
        if spoken is not None and made_by is not None:
            passes[len(tokens)] = made_by
            tokens.append(Token("done", spoken, start, end))
            continue
        for match in TOKEN.finditer(line, start, end):
            kind = match.lastgroup or "punct"
            if kind == "unit":
                kind = "num"
            tokens.append(Token(kind, match.group(), match.start(), match.end(), match))
    return tokens, passes


def read_line(line: str, lexicon: Lexicon) -> Reading | None:
    """One line read: its tokens, the words said for them and which reader said which
    (``Reading.said``). None when nothing is left of the line after clean-up."""
    cleaned = clean_line(line)
    if not cleaned:
        return None
    tokens, passes = _tokens(cleaned, lexicon)
    reading = Reading(cleaned, tokens, lexicon, passes=passes)
    index = read_line_marker(reading)
    if index:
        reading.note("marker", 0, index, 0)
    while index < len(tokens):
        token = tokens[index]
        since = len(reading.out)
        following = _HANDLERS[token.kind](reading, index, token)
        reading.note(token.kind, index, following, since)
        index = following
    return reading


def spoken_line(reading: Reading | None) -> str:
    """The words said for a line read by :func:`read_line`, as one line of text."""
    return "" if reading is None else assemble(reading.out)


def to_spoken(text: str, lexicon: Lexicon | None = None) -> str:
    """Bulletin text to the words an announcer says, one output line per input line."""
    if not text:
        return ""
    lexicon = default_lexicon() if lexicon is None else lexicon
    lines = text.splitlines()
    spoken = "\n".join(spoken_line(read_line(line, lexicon)) for line in lines)
    if text.splitlines(keepends=True)[-1] != lines[-1]:
        spoken += "\n"
    return spoken

