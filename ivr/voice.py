"""What a caller hears: slow <Say> in their language, or <Play> of a recorded prompt."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from twilio.twiml.voice_response import Gather, Say, VoiceResponse

from hotline.config import Settings
from hotline.i18n import Catalogue, catalogue

AUDIO_SUFFIXES = (".mp3", ".wav")


class Voice:
    """Speaks prompts of one locale into TwiML, with the centre's voice and a slow pace."""

    def __init__(self, settings: Settings, locale: str) -> None:
        self.settings = settings
        self.locale = locale
        self.prompts: Catalogue = catalogue(locale, "voice")

    def recorded_prompt_url(self, key: str) -> str | None:
        folder = self.settings.data_dir / "prompts" / self.locale
        for suffix in AUDIO_SUFFIXES:
            if (folder / f"{key}{suffix}").is_file():
                return f"{self.settings.public_url}/ivr/audio/{self.locale}/{key}{suffix}"
        return None

    def say(self, target: VoiceResponse | Gather, key: str, **values: Any) -> None:
        """Play the recorded prompt if there is one (only for fixed texts), else speak it."""
        recorded = None if values else self.recorded_prompt_url(key)
        if recorded:
            target.play(recorded)
            return
        self.say_text(target, self.prompts.text(key, **values))

    def say_text(self, target: VoiceResponse | Gather, text: str) -> None:
        voice = self.settings.voices.get(self.locale)
        say = Say(voice=voice, language=self.locale)
        if voice and voice.startswith("Polly."):
            # Neural and standard Polly voices honour SSML; slower speech helps older ears.
            say.prosody(text, rate=self.settings.speech_rate)
        else:
            say.value = text
        target.append(say)


def recorded_prompt_path(data_dir: Path, locale: str, filename: str) -> Path | None:
    """The file behind /ivr/audio/<locale>/<filename>, refusing anything but a plain name."""
    if Path(filename).name != filename or Path(locale).name != locale:
        return None
    if Path(filename).suffix not in AUDIO_SUFFIXES:
        return None
    path = data_dir / "prompts" / locale / filename
    return path if path.is_file() else None
