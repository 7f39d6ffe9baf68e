"""Shared helpers for the speech tests: real recordings, a clean environment, audio makers."""

from __future__ import annotations

import csv
import json
import os
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

SHARED_SPEECH = Path(
    os.environ.get("HOTLINE_SHARED_SPEECH")
    or Path(__file__).resolve().parents[3] / "shared" / "speech"
)
_ENV_PREFIXES = ("VOSK_MODEL_PATH", "HOTLINE_DATA_DIR", "HOTLINE_VOSK_MODELS_URL")


def shared_speech() -> Path:
    """The real recordings: skip (saying why) without them, but fail in CI, which has them."""
    if (SHARED_SPEECH / "manifest.tsv").is_file():
        return SHARED_SPEECH
    if os.environ.get("CI"):
        pytest.fail(f"CI must have the speech recordings at {SHARED_SPEECH}")
    pytest.skip(f"needs the real recordings in {SHARED_SPEECH} (present in CI)")


@dataclass(frozen=True)
class Clip:
    """A Korean clip of shared/speech: 16 kHz original, 8 kHz version, reference text."""

    name: str
    path_16k: Path
    path_8k: Path
    reference: str


@pytest.fixture(scope="session")
def korean_clips() -> list[Clip]:
    root = shared_speech()
    with (root / "manifest.tsv").open(encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle, delimiter="\t") if r["lang"] == "ko"]
    clips = [
        Clip(Path(r["file"]).stem, root / r["file"], root / r["file_8k"], r["reference"])
        for r in rows
    ]
    assert len(clips) == 10
    return clips


@pytest.fixture(scope="package", autouse=True)
def clean_speech_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No model settings from the developer's shell; an empty data dir (bundled ko model)."""
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith(_ENV_PREFIXES):
                mp.delenv(name)
        mp.setenv("HOTLINE_DATA_DIR", str(tmp_path_factory.mktemp("speech-data")))
        yield


def bare_vosk(model: object, path: Path) -> str:
    """Vosk as shared/speech/README.md measured it: the WAV as it is, at its own rate."""
    import vosk

    with wave.open(str(path), "rb") as audio:
        recognizer = vosk.KaldiRecognizer(model, audio.getframerate())
        recognizer.SetWords(True)
        parts = []
        while data := audio.readframes(4000):
            if recognizer.AcceptWaveform(data):
                parts.append(json.loads(recognizer.Result())["text"])
        parts.append(json.loads(recognizer.FinalResult())["text"])
    return " ".join(p for p in parts if p)


def tone_mix(seconds: float, rate: int, *, top_hz: float = 3400.0, seed: int = 0) -> np.ndarray:
    """A speech-band-ish test signal: a few sines below ``top_hz`` plus a little noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * rate)) / rate
    freqs = np.linspace(300.0, top_hz, 6)
    x = sum(np.sin(2 * np.pi * f * t + rng.uniform(0, np.pi)) for f in freqs) / len(freqs)
    x = 0.5 * x + 0.01 * rng.standard_normal(len(t))
    return np.asarray(x, dtype=np.float32)


def write_fake_model(root: Path, *, marker: str = "fake") -> Path:
    """A tiny folder with the files :func:`speech.models.model_problems` checks for.

    It is not loadable by Vosk: the installer only checks structure (and checksums).
    """
    for rel in ("am/final.mdl", "conf/model.conf", "conf/mfcc.conf", "graph/HCLG.fst"):
        file = root / rel
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(f"{marker}: {rel}\n", encoding="utf-8")
    (root / "README").write_text("test model\n", encoding="utf-8")
    return root
