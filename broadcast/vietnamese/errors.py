"""Exceptions raised by the Vietnamese text tools."""

from __future__ import annotations


class LexiconError(ValueError):
    """A lexicon file cannot be used; the message says where and how to fix it."""


class TextDecodingError(ValueError):
    """Script bytes are not readable text in any supported encoding."""
