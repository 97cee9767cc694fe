"""The fake Google's outage modes, which the chaos runs switch: refused, black-holed, back."""

from __future__ import annotations

import time

import pytest

from broadcast.tts.base import EngineError
from broadcast.tts.gtts_engine import GttsEngine, RetryPolicy
from tests.fakes.google_tts import FakeGoogleTTS

GREETING = "Xin chào bà con"


def engine(timeout_s: float) -> GttsEngine:
    return GttsEngine(timeout_s=timeout_s, retry=RetryPolicy(attempts=1))


def test_refused_connections_fail_at_once_and_reach_nothing(
    fake_google: FakeGoogleTTS,
) -> None:
    fake_google.refuse_connections()
    began = time.monotonic()
    with pytest.raises(EngineError, match="could not be reached"):
        engine(timeout_s=10).synthesize(GREETING)
    assert time.monotonic() - began < 2.0, "a refused connection fails at once, not on timeout"
    assert fake_google.requests == []


def test_a_black_hole_answers_nothing_until_it_serves_again(fake_google: FakeGoogleTTS) -> None:
    speaker = engine(timeout_s=1.5)
    assert speaker.synthesize(GREETING).data  # a connection is now kept open
    fake_google.black_hole()
    began = time.monotonic()
    with pytest.raises(EngineError, match="did not answer in time"):
        speaker.synthesize("Bà con chú ý")
    assert time.monotonic() - began >= 1.4, "it waited out its timeout"
    with pytest.raises(EngineError, match="did not answer in time"):
        engine(timeout_s=1.0).synthesize("Bà con chú ý")  # a new connection fares no better
    assert fake_google.texts == [GREETING], "nothing got through the black hole"
    fake_google.serve_normally()
    assert speaker.synthesize("Xin cảm ơn bà con").data
    assert fake_google.texts == [GREETING, "Xin cảm ơn bà con"]


def test_stopping_lets_go_of_the_connections_a_black_hole_holds() -> None:
    with FakeGoogleTTS() as fake:
        fake.black_hole()
        with pytest.raises(EngineError):
            engine(timeout_s=0.5).synthesize(GREETING)
        began = time.monotonic()
    assert time.monotonic() - began < 5.0, "stop() did not wait for the held connections"
