"""Shared helpers for the speech tests: real recordings, a clean environment, audio makers."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import require_shared_speech
from tests.speech_data import Clip, bare_vosk, load_korean_clips  # noqa: F401 - re-exported

_ENV_PREFIXES = ("VOSK_MODEL_PATH", "HOTLINE_DATA_DIR", "HOTLINE_VOSK_MODELS_URL")


def shared_speech() -> Path:
    return require_shared_speech()


@pytest.fixture(scope="session")
def korean_clips() -> list[Clip]:
    return load_korean_clips()


@pytest.fixture(scope="package", autouse=True)
def clean_speech_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No model settings from the developer's shell; an empty data dir (bundled ko model)."""
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith(_ENV_PREFIXES):
                mp.delenv(name)
        mp.setenv("HOTLINE_DATA_DIR", str(tmp_path_factory.mktemp("speech-data")))
        yield


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


@dataclass
class ModelServer:
    root: Path
    url: str
    requests: list[str]

    def publish_list(self, entries: list[dict[str, Any]]) -> None:
        (self.root / "model-list.json").write_text(json.dumps(entries), encoding="utf-8")


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[ModelServer]:
    """A local model index on 127.0.0.1 serving files from a temporary folder."""
    root = tmp_path / "www"
    root.mkdir()
    seen: list[str] = []

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            seen.append(self.path)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield ModelServer(root, f"http://127.0.0.1:{httpd.server_address[1]}", seen)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
