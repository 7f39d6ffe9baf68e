"""Command-line interface: ``hotline speech install`` and ``hotline speech transcribe``.

``speech_group`` is a click group meant to be added to the main ``hotline`` CLI; it also runs
on its own (``python -m speech.cli``). Errors are printed as their staff-readable message.
"""

from __future__ import annotations

from pathlib import Path

import click

from speech.errors import SpeechError
from speech.extension import current_recognizer
from speech.models import install_model

__all__ = ["speech_group"]


@click.group("speech")
def speech_group() -> None:
    """Offline speech recognition: install models, transcribe recordings."""


@speech_group.command("install")
@click.argument("spec")
@click.option("--locale", help="Locale this model serves, e.g. zh-CN (else from the model list).")
@click.option("--sha256", "sha256", help="Expected SHA-256 of the archive; refuse on mismatch.")
@click.option(
    "--models-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to install (default: $HOTLINE_DATA_DIR/models, where models are looked up).",
)
@click.option(
    "--index-url",
    help="Model index (default $HOTLINE_VOSK_MODELS_URL or https://alphacephei.com/vosk/models).",
)
def install_command(
    spec: str,
    locale: str | None,
    sha256: str | None,
    models_dir: Path | None,
    index_url: str | None,
) -> None:
    """Install a Vosk model from a NAME in the model index, an http(s) URL or a local ZIP.

    Prints the archive's SHA-256: pass it as --sha256 on other machines to pin the model.
    """
    try:
        installed = install_model(
            spec, models_dir=models_dir, locale=locale, sha256=sha256, index_url=index_url
        )
    except SpeechError as exc:
        raise click.ClickException(str(exc)) from exc
    verb = "Already installed" if installed.already_installed else "Installed"
    click.echo(f"{verb}: {installed.name}")
    click.echo(f"Path: {installed.path}")
    click.echo(f"Source: {installed.source}")
    click.echo(f"SHA-256: {installed.sha256}")
    if installed.locale:
        click.echo(f"Locale: {installed.locale}")
    else:
        click.echo("Locale: none recorded (use --locale to map one)")


@speech_group.command("transcribe")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--locale", default="ko-KR", show_default=True, help="Language of the recording.")
@click.option(
    "--words", "show_words", is_flag=True, help="Also list words with confidence and timing."
)
def transcribe_command(file: Path, locale: str, show_words: bool) -> None:
    """Transcribe FILE (WAV, MP3, FLAC, OGG) and print the text."""
    try:
        transcript = current_recognizer().transcribe_file(file, locale)
    except SpeechError as exc:
        raise click.ClickException(str(exc)) from exc
    if transcript.truncated:
        click.echo("Note: the recording is cut short; transcribed what is there.", err=True)
    if transcript.no_speech:
        click.echo("(no speech recognised)", err=True)
    else:
        click.echo(transcript.text)
    if show_words:
        for word in transcript.words:
            click.echo(f"{word.start:8.2f} {word.end:8.2f}  {word.conf:5.2f}  {word.word}")
    click.echo(
        f"[{transcript.duration_s:.1f} s at {transcript.sample_rate} Hz, "
        f"model {transcript.model_name}]",
        err=True,
    )


if __name__ == "__main__":  # pragma: no cover
    speech_group()
