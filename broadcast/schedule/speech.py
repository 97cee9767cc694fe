"""schedule.yaml: how scripts are turned into speech, and the speech engines a ward can choose.

:data:`ENGINES` is the one list of engines. Each has its settings block (``tts.<name>`` in
schedule.yaml) and the class in :mod:`broadcast.tts` that speaks; the ``engine`` and ``fallback``
choices, the ``tts`` blocks, the command line's ``--engine`` and the engines themselves are all
built from it. Adding an engine is a module in ``broadcast/tts/`` whose class has
``from_settings(settings)``, a settings model here, and one line in :data:`ENGINES`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Literal

from pydantic import Field, create_model, field_validator

from broadcast.schedule.values import WORDS_PER_MINUTE, Kind, Model

AUTO = "auto"
"""Not an engine: the online engines that answer right now, then the offline ones."""

_TLD_PATTERN = r"^[a-z]{2,3}(\.[a-z]{2,3})?$"


class GttsSettings(Model):
    """Settings of Google's voice."""

    tld: str = Field(
        "com", description="Google host suffix, e.g. com.vn.",
        json_schema_extra={"pattern": _TLD_PATTERN},
    )
    slow: bool = Field(False, description="Read more slowly.")
    concurrency: Annotated[int, Field(ge=1, le=16)] = Field(
        4, description="How many pieces of text are sent to Google at once."
    )
    timeout: Annotated[float, Field(gt=0, le=120)] = Field(
        15.0, description="Seconds to wait for Google's answer to one piece."
    )
    retries: Annotated[int, Field(ge=0, le=20)] = Field(
        9, description="Tries again after a rate limit, server error or timeout."
    )

    @field_validator("tld")
    @classmethod
    def _google_suffix(cls, value: str) -> str:
        # Only a plain suffix: anything else could send the bulletin's text elsewhere and air
        # whatever audio comes back.
        if not re.fullmatch(_TLD_PATTERN, value):
            raise ValueError(f"'{value}' is not a Google host suffix. Write com or com.vn")
        return value


class EspeakSettings(Model):
    """Settings of the offline espeak-ng voice."""

    voice: Literal["vi", "vi-vn-x-central", "vi-vn-x-south"] = Field(
        "vi", description="Northern (vi), central or southern accent."
    )
    rate: Annotated[int, Field(ge=80, le=450)] = Field(150, description="Words per minute.")
    pitch: Annotated[int, Field(ge=0, le=99)] = Field(50, description="Voice pitch, 0 to 99.")


@dataclass(frozen=True)
class EngineKind(Kind):
    """A speech engine: ``label`` names it for people; ``online`` engines need the internet
    (their class has ``reachable()``), the others work anywhere."""

    label: str = ""
    online: bool = False


ENGINES = MappingProxyType({
    "gtts": EngineKind(GttsSettings, "broadcast.tts.gtts_engine:GttsEngine",
                       label="Google TTS", online=True),
    "espeak": EngineKind(EspeakSettings, "broadcast.tts.espeak:EspeakEngine",
                         label="espeak-ng voice"),
})
ENGINE_CHOICES = (AUTO, *ENGINES)
EngineName = Literal[tuple(ENGINES)]  # type: ignore[valid-type]
EngineChoice = Literal[ENGINE_CHOICES]  # type: ignore[valid-type]


class _Speech(Model):
    engine: EngineChoice = Field(
        AUTO, description="auto: Google's voice when the internet works, else espeak-ng."
    )
    fallback: list[EngineName] = Field(
        ["espeak"],
        description="Engines tried in turn when the engine fails for a bulletin.",
    )
    lexicon: Path | None = Field(
        Path("lexicon.yaml"), description="The ward's own words (names, places, loan words)."
    )
    words_per_minute: Annotated[int, Field(ge=60, le=300)] = Field(
        WORDS_PER_MINUTE, description="Speaking rate used to estimate lengths before rendering."
    )

    def engine_settings(self, name: str) -> Model:
        """The settings block of engine ``name``."""
        settings: Model = getattr(self, name)
        return settings


_ENGINE_BLOCKS: dict[str, Any] = {
    name: (kind.settings, Field(kind.settings(), description=f"{kind.label} settings."))
    for name, kind in ENGINES.items()
}
TtsSettings = create_model(  # one settings block per engine, as ENGINES lists them
    "TtsSettings",
    __base__=_Speech,
    __doc__="How scripts are turned into speech.",
    __module__=__name__,
    **_ENGINE_BLOCKS,
)
