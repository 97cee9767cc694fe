"""What the reader does with the unusual parts of a text, for the person who approves it.

:func:`explain` reads a text in the same pass as :func:`~broadcast.vietnamese.to_spoken` (the
readers note which tokens they said which words for; nothing is read a second way) and lists,
line by line, each part that is not read as an ordinary Vietnamese word: numbers, dates, times,
phone numbers, vehicle plates, document codes, web and e-mail addresses, places, list markers,
abbreviations (from the built-in list, the ward's lexicon or a reading rule), words spelled
letter by letter and words left as written. Ordinary words and punctuation are not listed.

Two kinds are flagged, because the voice may not say what the writer meant:

- spelled: a word said as the names of its letters ("QXZW" quy ích dét đắp lờ vê), or a code
  of letters and digits whose letters are said by name ("B2" bê hai);
- as written: a word the voice reads as it is although it is not Vietnamese: four or more
  letters, none of them Vietnamese (no diacritics), not spelled like one Vietnamese syllable and
  not in the lexicon ("bocongan", "Facebook" when the lexicon lacks it). A Vietnamese word
  typed without its tone marks ("khong") looks like a real syllable and is not flagged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .lexicon import Lexicon, default_lexicon
from .normalize import read_line, spoken_line
from .numbers import read_int, read_ordinal
from .punctuation import assemble
from .reading import Reading, Said
from .text import is_vietnamese_syllable, roman_value, spell
from .tokens import NUMERIC, Token

NUMBER = "number"
DATE = "date"
TIME = "time"
PHONE = "phone"
PLATE = "plate"
IDENTIFIER = "identifier"
DOCUMENT_CODE = "document code"
WEB_ADDRESS = "web address"
EMAIL_ADDRESS = "e-mail address"
PLACE = "place"
LIST_MARKER = "list marker"
ABBREVIATION = "abbreviation"
SPELLED = "spelled"
AS_WRITTEN = "as written"

BUILT_IN = "built-in list"
WARD_LEXICON = "ward lexicon"
READING_RULE = "reading rule"

AS_WRITTEN_MIN_LETTERS = 4
"""Shorter words without diacritics ("app", "ok") are too often meant to be read as they are."""
_LETTERS = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class Span:
    """A part of a line and what is said for it.

    ``source`` is the text as the reader saw it (after clean-up: markup and stray symbols
    removed); ``spoken`` is "" when nothing is said for it; ``flagged`` marks parts spelled
    letter by letter or left as written.
    """

    source: str
    spoken: str
    kind: str
    detail: str = ""
    flagged: bool = False


@dataclass(frozen=True)
class LineExplanation:
    """One input line, the words said for it (as ``to_spoken`` says them) and its parts."""

    text: str
    spoken: str
    spans: tuple[Span, ...]


def explain(text: str, lexicon: Lexicon | None = None) -> list[LineExplanation]:
    """Each line of ``text`` with what is said for it and how its unusual parts are read.

    Lines are split as :func:`~broadcast.vietnamese.to_spoken` splits them, and each spoken line
    is the one it gives.
    """
    lexicon = default_lexicon() if lexicon is None else lexicon
    explained: list[LineExplanation] = []
    for line in text.splitlines():
        reading = read_line(line, lexicon)
        spans = () if reading is None else tuple(
            span for said in reading.said for span in _spans(reading, said))
        explained.append(LineExplanation(line, spoken_line(reading), spans))
    return explained


def spelled_words(text: str, lexicon: Lexicon | None = None) -> list[str]:
    """The words of two or more letters in ``text`` that will be spelled letter by letter,
    each once, in the order they first appear."""
    found: dict[str, None] = {}
    for line in explain(text, lexicon):
        for span in line.spans:
            if span.kind == SPELLED and span.source.isalpha() and len(span.source) > 1:
                found.setdefault(span.source, None)
    return list(found)


def _spans(reading: Reading, said: Said) -> list[Span]:
    tokens = reading.tokens[said.first : said.last + 1]
    if said.kind == "plain":
        return [_as_written(word, word) for word in tokens[0].text.split()
                if _foreign(word, reading.lexicon)]
    source = reading.line[tokens[0].start : tokens[-1].end]
    spoken = assemble(list(said.words))
    if said.kind == "marker":
        return [Span(source, spoken, LIST_MARKER)]
    # A mark may read the tokens after it ("$50", "(NLĐ)"): the first one that is not a mark
    # says what the part is.
    for offset, token in enumerate(tokens):
        if token.kind != "punct":
            span = _span(reading, said.first + offset, token, source, said.words)
            return [] if span is None else [span]
    return []


def _span(
    reading: Reading, index: int, token: Token, source: str, words: tuple[str, ...]
) -> Span | None:
    spoken = assemble(list(words))
    if token.kind == "done":
        return _already_said(reading, index, token, source, spoken)
    if token.kind == "phone":
        return Span(source, spoken, PHONE)
    if token.kind == "plate":
        return Span(source, spoken, PLATE)
    if token.kind == "dotted":
        return Span(source, spoken, IDENTIFIER)
    if token.kind in NUMERIC:
        # What the number became: "5/12" may be a date or a fraction, "1:10" a time or a ratio.
        said = spoken.replace(",", " ").split()
        if token.kind == "time":
            return Span(source, spoken, TIME if "giờ" in said else NUMBER)
        month = "tháng" in said or reading.word_before(index) == "tháng"  # "tháng 9/2025"
        return Span(source, spoken, DATE if month else NUMBER)
    if token.kind == "mixed":
        return _letters_and_digits(token, source, spoken, " ".join(words))
    return _word(reading, token, source, spoken, " ".join(words))


def _already_said(reading: Reading, index: int, token: Token, source: str,
                  spoken: str) -> Span:
    """A code, an address, a place or a lexicon entry, said before the tokens were read."""
    made_by = reading.passes[index]
    if made_by == "document code":
        return Span(source, spoken, DOCUMENT_CODE)
    if made_by == "web address":
        return Span(source, spoken, EMAIL_ADDRESS if "@" in source else WEB_ADDRESS)
    if made_by == "place":
        return Span(source, spoken, PLACE)
    entry = reading.lexicon.entry_for(reading.line[token.start : token.end])
    if entry is None:
        return Span(source, spoken, ABBREVIATION)
    built_in = default_lexicon().entry_for(entry.written) is entry
    return Span(source, spoken, ABBREVIATION, BUILT_IN if built_in else WARD_LEXICON)


def _word(reading: Reading, token: Token, source: str, spoken: str, said: str) -> Span | None:
    """A word: spelled, left as written, a Roman numeral, read by a rule, or ordinary."""
    text = token.text
    if said and said == spell(text) and said != text.lower():
        return Span(source, spoken, SPELLED, "letter by letter", flagged=True)
    if said in (text, text.lower()):
        return _as_written(source, spoken) if _foreign(text, reading.lexicon) else None
    value = roman_value(text)
    if value and said in (read_int(value), read_ordinal(value)):
        return Span(source, spoken, NUMBER, "Roman numeral")
    return Span(source, spoken, ABBREVIATION, READING_RULE)


def _letters_and_digits(token: Token, source: str, spoken: str, said: str) -> Span:
    """A code such as "B2" or "HS2025123": flagged when its letters are said by name."""
    for letters in _LETTERS.findall(token.text):
        names = spell(letters)
        if names and names != letters.lower() and f" {names} " in f" {said} ":
            return Span(source, spoken, SPELLED, "letters by name", flagged=True)
    return Span(source, spoken, ABBREVIATION, READING_RULE)


def _foreign(word: str, lexicon: Lexicon) -> bool:
    """A word the voice reads as it is that is not Vietnamese (see the module's notes)."""
    return (
        word.isascii()
        and word.isalpha()
        and len(word) >= AS_WRITTEN_MIN_LETTERS
        and not is_vietnamese_syllable(word)
        and lexicon.entry_for(word) is None
    )


def _as_written(source: str, spoken: str) -> Span:
    return Span(source, spoken, AS_WRITTEN, "not a Vietnamese word: read as it is",
                flagged=True)
