"""speech.port and speech.extension: one recognizer per app, Vosk behind it, a fake for tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner
from flask import Flask

import speech
from hotline.app import create_app
from hotline.config import Settings
from speech.cli import speech_group
from speech.errors import AudioUnreadable, ModelMissing
from tests.conftest import make_env
from tests.speech.fakes import FakeRecognizer, transcript_of

PORT_IS_MET: list[speech.Recognizer] = [speech.VoskRecognizer(), FakeRecognizer()]  # mypy checks


def silence(path: Path, seconds: float = 1.0) -> Path:
    sf.write(path, np.zeros(int(8000 * seconds), dtype=np.int16), 8000, subtype="PCM_16")
    return path


def hotline_app(tmp_path: Path, recognizer: speech.Recognizer | None = None) -> Flask:
    env = make_env(tmp_path, f"sqlite:///{tmp_path / 'hotline.db'}")
    return create_app(Settings.from_env(env), recognizer=recognizer)


def test_the_app_recognizer_is_the_one_given_else_this_process_vosk(tmp_path: Path) -> None:
    fake = FakeRecognizer()
    with hotline_app(tmp_path / "a", fake).app_context():
        assert speech.current_recognizer() is fake
    with hotline_app(tmp_path / "b").app_context():
        vosk = speech.current_recognizer()
        assert isinstance(vosk, speech.VoskRecognizer)
    with hotline_app(tmp_path / "c").app_context():
        assert speech.current_recognizer() is vosk  # built once per process
    assert speech.current_recognizer() is vosk  # outside any app (python -m speech.cli)


def test_vosk_reads_the_model_setting_at_each_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An operator who installs the model fixes the next retranscription without a restart."""
    recording = silence(tmp_path / "silence.wav")
    recognizer = speech.VoskRecognizer()
    monkeypatch.setenv("VOSK_MODEL_PATH_KO_KR", str(tmp_path / "no-such-model"))
    with pytest.raises(ModelMissing, match="no-such-model"):
        recognizer.transcribe_file(recording, "ko-KR")
    monkeypatch.delenv("VOSK_MODEL_PATH_KO_KR")
    assert recognizer.transcribe_file(recording, "ko-KR").no_speech


def test_vosk_preload_tries_every_locale() -> None:
    with pytest.raises(ModelMissing, match="zh-CN") as caught:
        speech.VoskRecognizer().preload(["zh-CN", "ko-KR"])
    assert "ko-KR" not in str(caught.value)


def test_fake_answers_what_it_is_told_with_words_and_confidences(tmp_path: Path) -> None:
    recording = silence(tmp_path / "a.wav")
    fake = FakeRecognizer(reply="가스 냄새 가 나요")
    transcript = fake.transcribe_file(recording, "ko-KR")
    assert transcript.text == "가스 냄새 가 나요" and not transcript.no_speech
    assert [w.word for w in transcript.words] == ["가스", "냄새", "가", "나요"]
    assert all(0 <= w.conf <= 1 and w.start < w.end for w in transcript.words)
    assert fake.heard == [(recording, "ko-KR")]
    fake.reply = ""
    assert fake.transcribe_file(recording, "zh-CN").no_speech
    fake.reply = lambda path, locale: transcript_of(locale, truncated=True)
    assert fake.transcribe_file(recording, "zh-CN").truncated
    fake.reply = AudioUnreadable("The file is not a readable recording.")
    with pytest.raises(AudioUnreadable):
        fake.transcribe_file(recording, "ko-KR")
    with pytest.raises(AudioUnreadable, match="not there"):
        FakeRecognizer().transcribe_file(tmp_path / "missing.wav", "ko-KR")


def test_transcribe_command_goes_through_the_app_recognizer(tmp_path: Path) -> None:
    app = Flask("cli-test")
    speech.init_app(app, FakeRecognizer(reply="살려 주세요"))
    with app.app_context():
        result = CliRunner().invoke(
            speech_group, ["transcribe", str(silence(tmp_path / "a.wav")), "--words"]
        )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "살려 주세요"
    assert lines[1].split()[2:] == ["0.90", "살려"]
    assert "model fake-recognizer" in result.stderr
