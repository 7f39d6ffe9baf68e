"""speech.audio: any input becomes streamed mono int16 at the feed rate; bad files fail clearly."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr

from speech.audio import (
    NARROWBAND_THRESHOLD_DB,
    AudioStream,
    FeedPlan,
    choose_feed_rate,
    high_band_level_db,
    pcm_chunks,
    plan_feed,
    probe,
)
from speech.errors import AudioUnreadable, SpeechError
from tests.speech.conftest import tone_mix

RATE = 16_000


def read_all(path: Path, **kwargs: object) -> tuple[AudioStream, list[bytes], np.ndarray]:
    with AudioStream(path, **kwargs) as stream:  # type: ignore[arg-type]
        chunks = list(stream)
    pcm = np.frombuffer(b"".join(chunks), dtype="<i2")
    return stream, chunks, pcm


def assert_chunk_shape(stream: AudioStream, chunks: list[bytes]) -> None:
    assert chunks, "no audio was yielded"
    assert all(isinstance(c, bytes) for c in chunks)
    assert all(len(c) == stream.chunk_frames * 2 for c in chunks[:-1])
    assert 0 < len(chunks[-1]) <= stream.chunk_frames * 2
    assert len(chunks[-1]) % 2 == 0


@pytest.fixture()
def signal_8k() -> np.ndarray:
    return tone_mix(2.0, 8000)


def test_8khz_pcm_wav_is_upsampled_to_the_model_rate(tmp_path: Path, signal_8k: np.ndarray) -> None:
    path = tmp_path / "call.wav"
    sf.write(path, signal_8k, 8000, subtype="PCM_16")
    stream, chunks, pcm = read_all(path)
    assert stream.rate == RATE
    assert_chunk_shape(stream, chunks)
    assert stream.plan == FeedPlan(8000, RATE, True, ((8000, RATE, "QQ"),))
    assert abs(len(pcm) - 2 * len(signal_8k)) <= 4
    assert stream.frames_in == len(signal_8k)
    assert stream.duration_s == pytest.approx(2.0, abs=0.01)
    assert not stream.truncated
    # Same content: compare with an independent resampling of the source.
    expected = soxr.resample(signal_8k, 8000, RATE, "QQ")
    n = min(len(expected), len(pcm))
    corr = np.corrcoef(expected[:n], pcm[:n] / 32768.0)[0, 1]
    assert corr > 0.99


def test_target_rate_equal_to_source_passes_samples_through_exactly(tmp_path: Path) -> None:
    samples = (tone_mix(1.0, 8000) * 32767).astype(np.int16)
    path = tmp_path / "call.wav"
    sf.write(path, samples, 8000, subtype="PCM_16")
    stream, chunks, pcm = read_all(path, target_rate=8000)
    assert stream.plan is not None and stream.plan.stages == ()
    assert np.array_equal(pcm, samples)
    assert all(len(c) == 8000 for c in chunks[:-1])  # 0.5 s chunks of int16


def test_mulaw_wav(tmp_path: Path, signal_8k: np.ndarray) -> None:
    path = tmp_path / "ulaw.wav"
    sf.write(path, signal_8k, 8000, subtype="ULAW")
    assert probe(path).subtype == "ULAW"
    stream, chunks, pcm = read_all(path)
    assert_chunk_shape(stream, chunks)
    assert abs(len(pcm) - 2 * len(signal_8k)) <= 4
    reference = soxr.resample(signal_8k, 8000, RATE, "QQ")
    n = min(len(reference), len(pcm))
    assert np.corrcoef(reference[:n], pcm[:n] / 32768.0)[0, 1] > 0.98


def test_alaw_wav(tmp_path: Path, signal_8k: np.ndarray) -> None:
    path = tmp_path / "alaw.wav"
    sf.write(path, signal_8k, 8000, subtype="ALAW")
    _, _, pcm = read_all(path)
    assert abs(len(pcm) - 2 * len(signal_8k)) <= 4


def test_mp3(tmp_path: Path, signal_8k: np.ndarray) -> None:
    path = tmp_path / "call.mp3"
    sf.write(path, signal_8k, 8000, format="MP3")
    info = probe(path)
    assert info.format == "MP3"
    stream, chunks, pcm = read_all(path)
    assert_chunk_shape(stream, chunks)
    # MP3 frames pad the end a little; the length is still about 2 s.
    assert stream.duration_s == pytest.approx(2.0, abs=0.15)
    assert np.abs(pcm).max() > 3000


def test_44k_stereo_wideband_is_mixed_and_downsampled(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    left = (0.2 * rng.standard_normal(44_100 * 2)).astype(np.float32)  # wideband noise
    right = tone_mix(2.0, 44_100)
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([left, right], axis=1), 44_100, subtype="PCM_16")
    stream, chunks, pcm = read_all(path)
    assert stream.info.channels == 2
    assert stream.rate == RATE
    assert_chunk_shape(stream, chunks)
    assert stream.plan == FeedPlan(44_100, RATE, False, ((44_100, RATE, "HQ"),))
    assert abs(len(pcm) - 2 * RATE) <= 4
    expected = soxr.resample((left + right) / 2, 44_100, RATE, "HQ")
    n = min(len(expected), len(pcm))
    assert np.corrcoef(expected[:n], pcm[:n] / 32768.0)[0, 1] > 0.99


def test_stereo_channels_are_averaged(tmp_path: Path) -> None:
    x = tone_mix(1.0, 16_000)
    path = tmp_path / "opposite.wav"
    sf.write(path, np.stack([x, -x], axis=1), 16_000, subtype="PCM_16")
    _, _, pcm = read_all(path)
    assert len(pcm) == 16_000
    assert np.abs(pcm).max() <= 1  # L + R cancel out: mixed, not left channel only


def test_telephone_audio_at_44k_takes_the_8k_path(tmp_path: Path, signal_8k: np.ndarray) -> None:
    upsampled = soxr.resample(signal_8k, 8000, 44_100, "HQ")
    path = tmp_path / "phone-at-44k.wav"
    sf.write(path, np.stack([upsampled, upsampled], axis=1), 44_100, subtype="PCM_16")
    stream, _, pcm = read_all(path)
    assert stream.plan is not None
    assert stream.plan.narrowband
    assert stream.plan.stages == ((44_100, 8000, "HQ"), (8000, RATE, "QQ"))
    assert abs(len(pcm) - 2 * RATE) <= 8
    assert "telephone" in stream.plan.describe()


def test_16k_file_is_fed_as_is(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    x = (0.1 * rng.standard_normal(16_000)).astype(np.float32)
    path = tmp_path / "wide.wav"
    sf.write(path, x, 16_000, subtype="PCM_16")
    stream, _, pcm = read_all(path)
    assert stream.plan is not None and stream.plan.stages == ()
    assert np.array_equal(pcm, np.rint(sf.read(path, dtype="float32")[0] * 32768).astype("<i2"))


def test_silence_and_white_noise_stream_normally(tmp_path: Path) -> None:
    silent = tmp_path / "silence.wav"
    sf.write(silent, np.zeros(8000 * 3, dtype=np.int16), 8000, subtype="PCM_16")
    stream, chunks, pcm = read_all(silent)
    assert_chunk_shape(stream, chunks)
    assert not pcm.any()
    assert stream.duration_s == pytest.approx(3.0, abs=0.01)

    noisy = tmp_path / "noise.wav"
    rng = np.random.default_rng(3)
    sf.write(noisy, 0.3 * rng.standard_normal(8000 * 2), 8000, subtype="PCM_16")
    stream, chunks, pcm = read_all(noisy)
    assert_chunk_shape(stream, chunks)
    assert pcm.std() > 3000
    assert pcm.min() >= -32768 and pcm.max() <= 32767


def test_long_files_are_streamed_not_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "long.wav"
    with sf.SoundFile(path, "w", 8000, 1, subtype="PCM_16") as out:
        for _ in range(60):
            out.write(tone_mix(1.0, 8000))
    with AudioStream(path) as stream:
        first = next(iter(stream))
        assert len(first) == stream.chunk_frames * 2
        assert stream.frames_in < 8000 * 5  # only a few blocks decoded so far
    # 44.1 kHz: only the bounded bandwidth probe (10 s) is read ahead.
    wide = tmp_path / "long44.wav"
    with sf.SoundFile(wide, "w", 44_100, 2, subtype="PCM_16") as out:
        for _ in range(30):
            block = tone_mix(1.0, 44_100)
            out.write(np.stack([block, block], axis=1))
    with AudioStream(wide) as stream:
        next(iter(stream))
        assert stream.frames_in <= 44_100 * 11


def test_zero_byte_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(AudioUnreadable, match="empty") as caught:
        AudioStream(path)
    assert isinstance(caught.value, SpeechError)
    assert caught.value.path == str(path)


def test_random_bytes_are_not_audio(tmp_path: Path) -> None:
    path = tmp_path / "garbage.wav"
    path.write_bytes(np.random.default_rng(4).bytes(6000))
    with pytest.raises(AudioUnreadable, match="not a readable recording"):
        AudioStream(path)
    text = tmp_path / "notes.mp3"
    text.write_text("this is a text file, not a recording\n" * 20, encoding="utf-8")
    with pytest.raises(AudioUnreadable):
        probe(text)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(AudioUnreadable, match="could not be opened"):
        AudioStream(tmp_path / "nope.wav")
    with pytest.raises(AudioUnreadable, match="folder"):
        AudioStream(tmp_path)


def test_truncated_wav_yields_what_is_there(tmp_path: Path, signal_8k: np.ndarray) -> None:
    whole = tmp_path / "whole.wav"
    sf.write(whole, signal_8k, 8000, subtype="PCM_16")
    data = whole.read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[: 44 + len(signal_8k)])  # header says 2 s; 1 s is there
    assert probe(cut).header_truncated
    stream, chunks, _ = read_all(cut)
    assert stream.truncated
    assert stream.frames_in == len(signal_8k) // 2
    assert stream.duration_s == pytest.approx(1.0, abs=0.01)
    assert_chunk_shape(stream, chunks)
    whole_stream, _, _ = read_all(whole)
    assert not whole_stream.truncated


def test_wav_with_header_and_no_audio(tmp_path: Path, signal_8k: np.ndarray) -> None:
    whole = tmp_path / "whole.wav"
    sf.write(whole, signal_8k, 8000, subtype="PCM_16")
    header_only = tmp_path / "header-only.wav"
    header_only.write_bytes(whole.read_bytes()[:44])
    stream = AudioStream(header_only)
    with pytest.raises(AudioUnreadable, match="cut off"):
        list(stream)
    # A damaged header (cut inside it) is unreadable straight away.
    broken = tmp_path / "broken.wav"
    broken.write_bytes(whole.read_bytes()[:30])
    with pytest.raises(AudioUnreadable):
        AudioStream(broken)


def test_empty_but_valid_wav(tmp_path: Path) -> None:
    path = tmp_path / "nothing.wav"
    sf.write(path, np.zeros(0, dtype=np.int16), 8000, subtype="PCM_16")
    with pytest.raises(AudioUnreadable, match="no audio"):
        list(AudioStream(path))


def test_truncated_flac_decodes_until_the_damage(tmp_path: Path) -> None:
    whole = tmp_path / "whole.flac"
    sf.write(whole, tone_mix(4.0, 8000), 8000)
    cut = tmp_path / "cut.flac"
    cut.write_bytes(whole.read_bytes()[: os.path.getsize(whole) // 2])
    stream, _, pcm = read_all(cut)
    assert stream.truncated
    assert 0 < len(pcm) < 4 * RATE


def test_pcm_chunks_helper(tmp_path: Path, signal_8k: np.ndarray) -> None:
    path = tmp_path / "call.wav"
    sf.write(path, signal_8k, 8000, subtype="PCM_16")
    total = sum(len(c) for c in pcm_chunks(path, 8000))
    assert total == 2 * len(signal_8k)


def test_a_stream_is_read_once(tmp_path: Path, signal_8k: np.ndarray) -> None:
    path = tmp_path / "call.wav"
    sf.write(path, signal_8k, 8000, subtype="PCM_16")
    stream = AudioStream(path)
    list(stream)
    with pytest.raises(RuntimeError):
        list(stream)


def test_feed_policy() -> None:
    assert choose_feed_rate(8000, 16_000) == 16_000
    assert choose_feed_rate(48_000, 16_000) == 16_000
    assert plan_feed(16_000, 16_000, narrowband=False).stages == ()
    assert plan_feed(11_025, 16_000, narrowband=False).stages == ((11_025, 16_000, "QQ"),)
    assert plan_feed(22_050, 16_000, narrowband=False).stages == ((22_050, 16_000, "HQ"),)
    assert plan_feed(16_000, 16_000, narrowband=True).stages == (
        (16_000, 8000, "HQ"),
        (8000, 16_000, "QQ"),
    )
    assert plan_feed(6000, 16_000, narrowband=True).stages == ((6000, 16_000, "QQ"),)
    assert plan_feed(8000, 8000, narrowband=True).stages == ()


def test_high_band_level(signal_8k: np.ndarray) -> None:
    rng = np.random.default_rng(5)
    wide = (0.1 * rng.standard_normal(32_000)).astype(np.float32)
    level = high_band_level_db(wide, 16_000)
    assert level is not None and level > -10
    narrow = soxr.resample(signal_8k, 8000, 16_000, "HQ")
    narrow = np.rint(narrow * 32768) / 32768  # as stored in a 16-bit file
    level = high_band_level_db(narrow.astype(np.float32), 16_000)
    assert level is not None and level < NARROWBAND_THRESHOLD_DB
    assert high_band_level_db(np.zeros(16_000, dtype=np.float32), 16_000) is None
    assert high_band_level_db(signal_8k, 8000) == -math.inf
