"""Command-line interface: ``hotline speech install`` and ``hotline speech transcribe``.

``speech_group`` is a click group meant to be added to the main ``hotline`` CLI; it also runs
on its own (``python -m speech.cli``). Errors are printed as their staff-readable message.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from tqdm import tqdm

from speech.errors import SpeechError
from speech.extension import current_recognizer
from speech.models import (
    RECOMMENDED_MODELS,
    install_command,
    install_model,
    normalise_locale,
    resolve_model_path,
)

__all__ = ["speech_group"]


@click.group("speech")
def speech_group() -> None:
    """Offline speech recognition: install models, transcribe recordings."""


# tqdm's bar with the sizes in bytes: "Downloading:  40%|████      | 17.0MB/42.5MB [...]".
SIZED_BAR = (
    "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}B/{total_fmt}B [{elapsed}<{remaining}, {rate_fmt}]"
)


class DownloadBar:
    """A progress bar with size and speed on stderr, made at the first block (when the size
    is known); a resumed download starts where the earlier attempt stopped."""

    def __init__(self) -> None:
        self._bar: tqdm[None] | None = None
        self._shown = 0

    def __call__(self, done: int, total: int | None) -> None:
        if self._bar is None:
            if done:
                click.echo(f"Resuming the download at {done / 1_000_000:.1f} MB", err=True)
            self._bar = tqdm(
                total=total,
                initial=done,
                unit="B",
                unit_scale=True,
                desc="Downloading",
                file=sys.stderr,
                mininterval=0.5,
                bar_format=SIZED_BAR if total else None,
            )
            self._shown = done
        self._bar.update(done - self._shown)
        self._shown = done

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _locale_of(spec: str, locale: str | None) -> str | None:
    if locale:
        return normalise_locale(locale)
    try:
        named = normalise_locale(spec)
    except ValueError:
        return None
    return named if named in RECOMMENDED_MODELS else None


def _has_model(locale: str) -> bool:
    try:
        resolve_model_path(locale)
    except SpeechError:
        return False
    return True


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
@click.option(
    "--if-missing",
    is_flag=True,
    help="For set-up scripts: nothing to do when the locale has a model; a failed download is "
    "said in one line and is not an error (the hotline runs without the model).",
)
def install(
    spec: str,
    locale: str | None,
    sha256: str | None,
    models_dir: Path | None,
    index_url: str | None,
    if_missing: bool,
) -> None:
    """Install a Vosk model: a LOCALE (zh-CN, en-US, ko-KR: the model recommended for it), a
    NAME in the model index, an http(s) URL or a local ZIP.

    Shows the download's progress, size and speed; a download that breaks off is resumed by
    the same command. Prints the archive's SHA-256: pass it as --sha256 on other machines to
    pin the model.
    """
    target = _locale_of(spec, locale)
    if if_missing and target is None:
        raise click.UsageError("--if-missing needs a locale: SPEC as a locale, or --locale")
    if if_missing and target is not None and _has_model(target):
        click.echo(f"The speech model for {target} is there: {resolve_model_path(target)}")
        return
    bar = DownloadBar()
    try:
        installed = install_model(
            spec,
            models_dir=models_dir,
            locale=locale,
            sha256=sha256,
            index_url=index_url,
            progress=bar,
        )
    except SpeechError as exc:
        if if_missing and target is not None:
            click.echo(
                f"The hotline starts without a speech model for {target}: {exc} "
                f"Install it later with '{install_command(target)}'.",
                err=True,
            )
            return
        raise click.ClickException(str(exc)) from exc
    finally:
        bar.close()
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
