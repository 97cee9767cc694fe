"""Turning script files (bytes) into text."""

from __future__ import annotations

import codecs
import unicodedata

from .errors import TextDecodingError

_ALLOWED_CONTROLS = frozenset("\t\n\r\f\v")
_MAX_CONTROL_RATIO = 0.01

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

_HINT = "Save the script as plain text (UTF-8) and try again."


def _decode(data: bytes) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise TextDecodingError(
                    f"The file starts like {encoding.upper()} text but byte {exc.start} "
                    f"cannot be read. {_HINT}"
                ) from None
    if b"\x00" in data:
        raise TextDecodingError(
            f"The file contains NUL bytes, so it is not a text file (it may be a Word "
            f"document, a picture or an audio file). {_HINT}"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1258")
    except UnicodeDecodeError as exc:
        raise TextDecodingError(
            f"The file is neither UTF-8 nor Windows-1258 text (byte {exc.start} cannot be "
            f"read). {_HINT}"
        ) from None


def decode_text(data: bytes) -> str:
    """Decode script bytes: UTF-8 (with or without BOM), UTF-16/32 with BOM, Windows-1258.

    The result is NFC-normalised.  Binary data raises :class:`TextDecodingError`.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TextDecodingError(f"Expected bytes, got {type(data).__name__}.")
    text = _decode(bytes(data))
    controls = sum(
        1
        for char in text
        if unicodedata.category(char) == "Cc" and char not in _ALLOWED_CONTROLS
    )
    if "\x00" in text or controls > max(2, len(text) * _MAX_CONTROL_RATIO):
        raise TextDecodingError(
            f"The file has {controls} control characters, so it does not look like a "
            f"text file. {_HINT}"
        )
    text = unicodedata.normalize("NFC", text)
    legacy = legacy_encoding(text)
    if legacy is not None:
        name, looks = legacy
        raise TextDecodingError(
            f"The file looks like Vietnamese typed in the old {name} encoding (words such as "
            f"'{looks}'), which would be read aloud as gibberish. Convert it to Unicode, e.g. "
            f"with Unikey's converter ({name} to Unicode), then save it as UTF-8.")
    return text


_TONES = ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")
_VIETNAMESE_LETTERS = frozenset(
    "bcdđghklmnpqrstvxfjwzBCDĐGHKLMNPQRSTVXFJWZ"
    + "".join(unicodedata.normalize("NFC", vowel + tone)
              for vowel in "aăâeêioôơuưyAĂÂEÊIOÔƠUƯY" for tone in _TONES))
"""Every letter Vietnamese is written with (foreign names add f, j, w, z)."""
_VNI_MARKS = frozenset("äöøïñÑõëÄÖØÏ")
"""Letters a VNI file shows when read as Windows text: 'Vieät', 'phöôøng', 'Ñaø'."""
_TCVN3_MARKS = frozenset("©ª¬®µ¶·\u00b8¹¼½¾§\u00d7ÖÞß\u00ad")
"""Characters a TCVN3 (ABC) file shows: 'ViÖt', 'ph\u00adêng', '§µ'. They count only next to
a letter: the same signs stand alone in ordinary text (© 2026, 20 x 40 m with a times sign, § 3)."""
_MIN_STRANGE_WORDS = 3
_MAX_STRANGE_SHARE = 0.05


def legacy_encoding(text: str) -> tuple[str, str] | None:
    """The old Vietnamese encoding ``text`` seems to be written in (VNI or TCVN3), and a word
    that shows it; None when it reads as Vietnamese (or any Latin text)."""
    words = [word for word in text.split() if any(ch.isalpha() for ch in word)]
    strange = [word for word in words if _strange(word)]
    if len(strange) < _MIN_STRANGE_WORDS or len(strange) < _MAX_STRANGE_SHARE * len(words):
        return None
    vni = sum(ch in _VNI_MARKS for word in strange for ch in word)
    tcvn3 = sum(ch in _TCVN3_MARKS for word in strange for ch in word)
    if not vni and not tcvn3:
        return None
    name, marks = ("VNI", _VNI_MARKS) if vni >= tcvn3 else ("TCVN3", _TCVN3_MARKS)
    marked = [word for word in strange if any(ch in marks for ch in word)]
    visible = [word for word in marked if any(ch in marks - {"\u00ad"} for ch in word)]
    return name, (visible or marked)[0].strip(".,;:!?()\"'")


def _strange(word: str) -> bool:
    """Whether ``word`` has a letter Vietnamese does not use, or a TCVN3 sign beside a letter."""
    for place, ch in enumerate(word):
        if ch.isalpha() and ch not in _VIETNAMESE_LETTERS and ch not in _TCVN3_MARKS:
            return True
        if ch in _TCVN3_MARKS:
            beside = word[max(0, place - 1):place] + word[place + 1:place + 2]
            if any(other.isalpha() and other not in _TCVN3_MARKS for other in beside):
                return True
    return False
