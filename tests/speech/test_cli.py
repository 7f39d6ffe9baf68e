"""speech.cli: `hotline speech install` and `hotline speech transcribe`."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from speech.cli import speech_group
from tests.speech.conftest import Clip
from tests.speech.test_models import make_model_zip


def test_install_prints_name_and_sha256(tmp_path: Path) -> None:
    archive = make_model_zip(tmp_path / "cli-model.zip", "cli-model")
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    models_dir = tmp_path / "models"
    runner = CliRunner()
    result = runner.invoke(
        speech_group,
        ["install", str(archive), "--locale", "en-US", "--models-dir", str(models_dir)],
    )
    assert result.exit_code == 0, result.output
    assert f"SHA-256: {digest}" in result.stdout
    assert "Installed: cli-model" in result.stdout
    assert "Locale: en-US" in result.stdout
    assert (models_dir / "cli-model" / "am" / "final.mdl").is_file()

    again = runner.invoke(
        speech_group, ["install", str(archive), "--models-dir", str(models_dir), "--sha256", digest]
    )
    assert again.exit_code == 0, again.output
    assert "Already installed: cli-model" in again.stdout


def test_install_refusal_is_a_clean_error(tmp_path: Path) -> None:
    archive = make_model_zip(tmp_path / "cli-model.zip", "cli-model")
    result = CliRunner().invoke(
        speech_group,
        ["install", str(archive), "--models-dir", str(tmp_path / "m"), "--sha256", "0" * 64],
    )
    assert result.exit_code == 1
    assert "SHA-256" in result.output and "Traceback" not in result.output


def test_transcribe_silence_and_garbage(tmp_path: Path) -> None:
    silent = tmp_path / "silence.wav"
    sf.write(silent, np.zeros(8000, dtype=np.int16), 8000, subtype="PCM_16")
    runner = CliRunner()
    result = runner.invoke(speech_group, ["transcribe", str(silent)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "no speech recognised" in result.stderr

    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"not audio" * 50)
    result = runner.invoke(speech_group, ["transcribe", str(garbage)])
    assert result.exit_code == 1
    assert "not a readable recording" in result.output


@pytest.mark.speech
def test_transcribe_with_words(korean_clips: list[Clip]) -> None:
    result = CliRunner().invoke(
        speech_group, ["transcribe", str(korean_clips[7].path_8k), "--words"]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "안철수" in lines[0]
    assert len(lines) > 5
    start, end, conf, word = lines[1].split()
    assert float(start) <= float(end) and 0 <= float(conf) <= 1 and word
