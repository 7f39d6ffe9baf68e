"""speech.cli: `hotline speech install` and `hotline speech transcribe`."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from speech.cli import speech_group
from tests.speech.conftest import Clip, ModelServer
from tests.speech.test_download import big_model_zip
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


def test_install_shows_progress_with_size_and_speed(server: ModelServer, tmp_path: Path) -> None:
    size = len(big_model_zip(server.root / "cli-model.zip", "cli-model"))
    result = CliRunner().invoke(
        speech_group,
        ["install", f"{server.url}/cli-model.zip", "--models-dir", str(tmp_path / "models")],
    )
    assert result.exit_code == 0, result.output
    bar = result.stderr.replace("\r", "\n").splitlines()[-1]
    assert "100%" in bar and f"{size / 1e6:.2f}MB/{size / 1e6:.2f}MB" in bar, bar
    assert "MB/s" in bar or "kB/s" in bar, bar
    assert "Installed: cli-model" in result.stdout


NOWHERE = "http://127.0.0.1:9"  # the discard port: nothing listens there


def test_setup_without_a_network_says_so_in_one_line_and_goes_on(tmp_path: Path) -> None:
    models = tmp_path / "models"
    result = CliRunner().invoke(
        speech_group,
        ["install", "zh-CN", "--if-missing", "--models-dir", str(models), "--index-url", NOWHERE],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert "without a speech model for zh-CN" in line
    assert "cannot reach 127.0.0.1 (no network?)" in line
    assert line.endswith("Install it later with 'hotline speech install zh-CN'.")


def test_setup_leaves_a_model_that_is_there(server: ModelServer) -> None:
    result = CliRunner().invoke(
        speech_group, ["install", "ko-KR", "--if-missing", "--index-url", server.url]
    )
    assert result.exit_code == 0, result.output
    assert "The speech model for ko-KR is there" in result.stdout
    assert server.requests == []  # the bundled Korean model: nothing downloaded


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
