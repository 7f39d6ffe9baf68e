"""Is there anyone speaking in a recording? Loudness measured on real generated audio."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from speech import Heard, Transcript, Word, clear_speech, heard, loudness
from tests.speech_data import load_korean_clips

RATE = 8000


def written(tmp_path: Path, samples: np.ndarray, rate: int = RATE) -> Path:
    path = tmp_path / "recording.wav"
    sf.write(path, samples.astype(np.int16), rate, subtype="PCM_16")
    return path


def words(*confidences: float) -> Transcript:
    return Transcript("x", [Word("x", conf, 0.0, 0.5) for conf in confidences])


def test_digital_silence_and_line_hiss_are_silent(tmp_path: Path) -> None:
    for samples in (np.zeros(RATE * 5), np.random.default_rng(1).normal(0, 10, RATE * 5)):
        level = loudness(written(tmp_path, samples))
        assert level.silent and level.sound_s == 0.0
        assert level.duration_s == pytest.approx(5.0)


def test_a_click_is_still_silence_but_a_short_word_is_not(tmp_path: Path) -> None:
    click = np.zeros(RATE * 3)
    click[RATE : RATE + 80] = 20000  # 10 ms
    assert loudness(written(tmp_path, click)).silent
    word = np.zeros(RATE * 3)
    t = np.arange(int(RATE * 0.4)) / RATE
    word[RATE : RATE + len(t)] = 4000 * np.sin(2 * np.pi * 300 * t)  # "喂" (0.4 s)
    assert not loudness(written(tmp_path, word)).silent


def test_loudness_is_measured_at_the_files_own_rate(tmp_path: Path) -> None:
    t = np.arange(16000 * 2) / 16000
    level = loudness(written(tmp_path, 3000 * np.sin(2 * np.pi * 440 * t), rate=16000))
    assert level.sound_s == pytest.approx(2.0, abs=0.05)
    assert -24 < level.peak_dbfs < -20  # a sine of 3000/32768: -23.8 dBFS RMS


def test_steady_noise_is_told_from_sound_that_rises_and_falls(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    steady = loudness(written(tmp_path, rng.normal(0, 3000, RATE * 4)))
    assert not steady.silent and steady.steady and steady.spread_db < 2
    t = np.arange(RATE * 4) / RATE
    syllables = rng.normal(0, 3000, len(t)) * np.abs(np.sin(2 * np.pi * 2 * t))
    varying = loudness(written(tmp_path, syllables))
    assert not varying.silent and not varying.steady and varying.spread_db > 10


@pytest.mark.speech
def test_real_speech_rises_and_falls() -> None:
    for clip in load_korean_clips()[:3]:
        level = loudness(clip.path_8k)
        assert not level.silent and not level.steady, (clip.name, level)


def test_what_was_heard_needs_varying_sound_and_one_sure_word(tmp_path: Path) -> None:
    quiet = loudness(written(tmp_path, np.zeros(RATE)))
    steady = loudness(written(tmp_path, np.random.default_rng(2).normal(0, 3000, RATE * 2)))
    t = np.arange(RATE * 2) / RATE
    voice = loudness(written(tmp_path, 4000 * np.sin(2 * np.pi * 300 * t) * np.sin(np.pi * 3 * t)))
    assert heard(quiet, words(1.0, 1.0)) == Heard.SILENCE  # whatever the recognizer guessed
    assert heard(steady, words(0.84)) == Heard.NOISE
    assert heard(voice, words()) == Heard.NOISE
    assert heard(voice, words(0.3, 0.5)) == Heard.NOISE
    assert heard(voice, words(0.3, 0.95)) == Heard.SPEECH


def test_clear_speech_needs_speech_and_words_the_recognizer_is_on_average_sure_of(
    tmp_path: Path,
) -> None:
    steady = loudness(written(tmp_path, np.random.default_rng(2).normal(0, 3000, RATE * 2)))
    t = np.arange(RATE * 2) / RATE
    voice = loudness(written(tmp_path, 4000 * np.sin(2 * np.pi * 300 * t) * np.sin(np.pi * 3 * t)))
    assert words(0.9, 0.8).confidence == pytest.approx(0.85)
    assert words().confidence is None
    assert clear_speech(voice, words(0.9, 0.8))
    assert clear_speech(None, words(0.9, 0.8))  # loudness unknown: the words alone decide
    assert not clear_speech(steady, words(0.84))  # Vosk's sure "A" in white noise
    assert not clear_speech(voice, words(0.95, 0.3, 0.3))  # speech, mostly guessed at
    assert not clear_speech(voice, words())
