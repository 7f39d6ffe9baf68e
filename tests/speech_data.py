"""The real recordings of ../shared/speech, and bare Vosk as its README measured it."""

from __future__ import annotations

import csv
import json
import wave
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import require_shared_speech


@dataclass(frozen=True)
class Clip:
    """A Korean clip of shared/speech: 16 kHz original, 8 kHz version, reference text."""

    name: str
    path_16k: Path
    path_8k: Path
    reference: str


def load_korean_clips() -> list[Clip]:
    root = require_shared_speech()
    with (root / "manifest.tsv").open(encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle, delimiter="\t") if r["lang"] == "ko"]
    clips = [
        Clip(Path(r["file"]).stem, root / r["file"], root / r["file_8k"], r["reference"])
        for r in rows
    ]
    assert len(clips) == 10
    return clips


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
