"""Bare Vosk vs the hotline pipeline on the Korean clips of shared/speech.

Usage (from the repository root, in the project's virtualenv)::

    python benchmarks/transcription_bare.py            # 8 kHz clips: bare vs pipeline
    python benchmarks/transcription_bare.py --input 16k  # the 16 kHz originals
    python benchmarks/transcription_bare.py --feeds    # also compare ways of feeding 8 kHz

"Bare" is what shared/speech/README.md describes: ``KaldiRecognizer(model, wav_rate)`` fed the
WAV's frames as they are (4000 frames at a time). The pipeline is ``speech.transcribe_file``.
For each clip it prints the character error rate (spaces and punctuation removed, Vosk's
bracketed numbers normalised: ``speech.metrics.cer``) and the real-time factor (processing
seconds / audio seconds; model loading excluded), then totals. ``--feeds`` re-runs the
measurement behind the choice documented in ``speech/audio.py``.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from speech.metrics import cer, corpus_cer  # noqa: E402
from speech.models import resolve_model_path  # noqa: E402
from speech.recognizer import display_text, load_model, transcribe_file  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "speech"


def vosk_text(model: object, pcm: bytes, rate: int, chunk_bytes: int) -> str:
    """Feed int16 PCM to a fresh KaldiRecognizer in fixed chunks; return the joined text."""
    import vosk

    rec = vosk.KaldiRecognizer(model, rate)
    rec.SetWords(True)
    parts = []
    for i in range(0, len(pcm), chunk_bytes):
        if rec.AcceptWaveform(pcm[i : i + chunk_bytes]):
            parts.append(json.loads(rec.Result())["text"])
    parts.append(json.loads(rec.FinalResult())["text"])
    return " ".join(p for p in parts if p)


def bare(model: object, path: Path) -> str:
    """Bare Vosk as the shared README describes: the WAV as it is, at its own rate."""
    with wave.open(str(path), "rb") as wf:
        rate = wf.getframerate()
        pcm = wf.readframes(wf.getnframes())
    return vosk_text(model, pcm, rate, 4000 * 2)


def _int16(x: np.ndarray) -> bytes:
    return np.clip(np.rint(x * 32768.0), -32768, 32767).astype("<i2").tobytes()


def _soxr(quality: str) -> Callable[[np.ndarray, int], tuple[bytes, int]]:
    def feed(x: np.ndarray, rate: int) -> tuple[bytes, int]:
        stream = soxr.ResampleStream(rate, 16000, 1, dtype="float32", quality=quality)
        parts = [stream.resample_chunk(x[i : i + rate // 2]) for i in range(0, len(x), rate // 2)]
        parts.append(stream.resample_chunk(np.zeros(0, dtype=np.float32), last=True))
        return _int16(np.concatenate(parts)), 16000

    return feed


def _hold(x: np.ndarray, rate: int) -> tuple[bytes, int]:
    return _int16(np.repeat(x, 16000 // rate)), 16000


def _zeros(x: np.ndarray, rate: int) -> tuple[bytes, int]:
    y = np.zeros(len(x) * 2, dtype=np.float32)
    y[::2] = x * 2
    return _int16(y), 16000


def _native(x: np.ndarray, rate: int) -> tuple[bytes, int]:
    return _int16(x), rate


FEEDS: dict[str, Callable[[np.ndarray, int], tuple[bytes, int]]] = {
    "native (Kaldi resamples)": _native,
    "soxr QQ": _soxr("QQ"),
    "soxr LQ": _soxr("LQ"),
    "soxr MQ": _soxr("MQ"),
    "soxr HQ": _soxr("HQ"),
    "soxr VHQ": _soxr("VHQ"),
    "sample repetition": _hold,
    "zero insertion": _zeros,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="shared/speech folder")
    parser.add_argument("--input", choices=("8k", "16k"), default="8k")
    parser.add_argument("--feeds", action="store_true", help="compare ways of feeding 8 kHz")
    args = parser.parse_args()
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)  # rows appear as they are measured

    manifest = args.data / "manifest.tsv"
    if not manifest.exists():
        print(f"{manifest} not found: pass --data", file=sys.stderr)
        return 2
    with open(manifest, encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle, delimiter="\t") if r["lang"] == "ko"]
    column = "file_8k" if args.input == "8k" else "file"

    model_dir = resolve_model_path("ko-KR")
    started = time.perf_counter()
    model = load_model(model_dir)
    print(f"model {model_dir} loaded in {time.perf_counter() - started:.1f} s")
    print(f"{len(rows)} Korean clips, {args.input} input\n")

    header = f"{'clip':<24}{'audio s':>8}{'bare CER':>10}{'bare RTF':>10}"
    header += f"{'pipe CER':>10}{'pipe RTF':>10}"
    print(header)
    print("-" * len(header))
    bare_pairs, pipe_pairs = [], []
    totals = {"audio": 0.0, "bare": 0.0, "pipe": 0.0}
    for row in rows:
        path = args.data / row[column]
        ref = row["reference"]
        seconds = sf.info(str(path)).duration

        t0 = time.perf_counter()
        bare_hyp = bare(model, path)
        t1 = time.perf_counter()
        pipe_hyp = transcribe_file(path, "ko-KR").text
        t2 = time.perf_counter()

        bare_pairs.append((ref, bare_hyp))
        pipe_pairs.append((ref, pipe_hyp))
        totals["audio"] += seconds
        totals["bare"] += t1 - t0
        totals["pipe"] += t2 - t1
        print(
            f"{path.stem:<24}{seconds:8.2f}{cer(ref, bare_hyp):10.3f}{(t1 - t0) / seconds:10.3f}"
            f"{cer(ref, pipe_hyp):10.3f}{(t2 - t1) / seconds:10.3f}"
        )
    print("-" * len(header))

    def mean(pairs: list[tuple[str, str]]) -> float:
        return sum(cer(r, h) for r, h in pairs) / len(pairs)

    print(
        f"{'mean over clips':<24}{totals['audio']:8.1f}{mean(bare_pairs):10.3f}"
        f"{totals['bare'] / totals['audio']:10.3f}{mean(pipe_pairs):10.3f}"
        f"{totals['pipe'] / totals['audio']:10.3f}"
    )
    print(
        f"{'corpus (all chars)':<24}{'':8}{corpus_cer(bare_pairs):10.3f}{'':10}"
        f"{corpus_cer(pipe_pairs):10.3f}"
    )

    if args.feeds:
        print("\nWays of feeding the 8 kHz clips (0.5 s chunks), mean CER over clips:")
        for label, feed in FEEDS.items():
            pairs = []
            t0 = time.perf_counter()
            for row in rows:
                x, rate = sf.read(str(args.data / row["file_8k"]), dtype="float32")
                pcm, feed_rate = feed(x, rate)
                hyp = display_text(vosk_text(model, pcm, feed_rate, feed_rate))  # 0.5 s chunks
                pairs.append((row["reference"], hyp))
            print(f"  {label:<26}{mean(pairs):7.3f}   ({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
