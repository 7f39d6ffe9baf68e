"""Work lost with the broker or a worker comes back within minutes; a database error is retried.

Beat is played by hand on a frozen clock (the sweep `requeue_stalled_recordings` runs every
5 s in production); what the sweep publishes is caught and run here, as a worker would.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import create_engine, select
from sqlalchemy.exc import OperationalError

from cases.models import Case, Recording, RecordingStatus, Urgency
from cases.recordings import queue_transcription
from hotline.clock import CLOCK_KEY
from hotline.db import db
from outreach.models import OutboundMessage
from tasks import recordings as recording_tasks
from tasks.recordings import requeue_stalled_recordings, transcribe_recording
from tests.conftest import ON_DUTY
from tests.speech.fakes import FakeRecognizer
from tests.tasks.test_voicemail import noted_recording, voice, wav_bytes
from twilio_double.rest import TwilioRestDouble

EMERGENCY = "할머니 가 쓰러졌 어요"  # "grandmother collapsed": an emergency in the Korean lexicon


class WorkerKilled(BaseException):
    """The process running the task is gone: nothing after this point runs, nothing is undone."""


class FrozenClock:
    def __init__(self) -> None:
        self.moment = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)


@pytest.fixture
def clock(app: Flask) -> FrozenClock:
    frozen = FrozenClock()
    app.extensions[CLOCK_KEY] = frozen
    return frozen


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Transcriptions that reached the broker (and stay there until a test runs them)."""
    sent: list[int] = []
    monkeypatch.setattr(transcribe_recording, "delay", sent.append)
    return sent


def sweep() -> int:
    """One run of beat's sweep: how many recordings it sent again."""
    return int(requeue_stalled_recordings.apply().get() or 0)


def emergency_texts() -> list[OutboundMessage]:
    return list(
        db.session.scalars(select(OutboundMessage).where(OutboundMessage.to_phone == ON_DUTY))
    )


def test_a_transcription_lost_in_the_broker_is_sent_again_within_three_minutes(
    app: Flask,
    rest: TwilioRestDouble,
    fake_recognizer: FakeRecognizer,
    clock: FrozenClock,
    published: list[int],
) -> None:
    fake_recognizer.reply = "가로등 이 꺼졌 어요"
    with app.app_context():
        recording_id = noted_recording(rest, wav_bytes(voice()))
        assert queue_transcription(recording_id)
        published.clear()  # Redis restarted and lost the message
        clock.advance(60)
        assert sweep() == 0  # a queue may be long: not yet
        clock.advance(2 * 60)
        assert sweep() == 1 and published == [recording_id]
        assert sweep() == 0  # sent once, not at every tick
        transcribe_recording.apply(args=[recording_id])
        db.session.expire_all()
        case = db.session.scalar(select(Case))
        assert case is not None and case.transcript == "가로등 이 꺼졌 어요"


def test_emergency_words_reach_the_on_duty_staff_20_s_after_the_worker_died(
    app: Flask,
    rest: TwilioRestDouble,
    fake_recognizer: FakeRecognizer,
    clock: FrozenClock,
    published: list[int],
) -> None:
    def killed(*_: object) -> str:
        raise WorkerKilled

    with app.app_context():
        recording_id = noted_recording(rest, wav_bytes(voice()))
        assert queue_transcription(recording_id) and published == [recording_id]
        fake_recognizer.reply = killed  # the worker dies while Vosk decodes
        with pytest.raises(WorkerKilled):
            transcribe_recording.apply(args=[published.pop()])
        clock.advance(10)
        assert sweep() == 0  # its lease still runs: the worker may only be slow
        clock.advance(10)
        assert sweep() == 1  # 20 s after it died: the lease lapsed, the recording goes out again
        fake_recognizer.reply = EMERGENCY
        transcribe_recording.apply(args=[published.pop()])
        db.session.expire_all()
        case = db.session.scalar(select(Case))
        assert case is not None and case.urgency == Urgency.EMERGENCY
        [alert] = emergency_texts()
        assert case.number in alert.body
        assert sweep() == 0 and published == []


def test_a_slow_transcription_keeps_its_lease_and_is_not_sent_twice(
    app: Flask,
    rest: TwilioRestDouble,
    fake_recognizer: FakeRecognizer,
    clock: FrozenClock,
    published: list[int],
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
) -> None:
    monkeypatch.setattr(recording_tasks, "HEARTBEAT_S", 0.01)
    watcher = create_engine(database_url)  # another connection, as beat's would be
    renewed = threading.Event()

    def lease_until(recording_id: int) -> datetime | None:
        with watcher.connect() as connection:
            found = connection.scalar(
                select(Recording.lease_until).where(Recording.id == recording_id)
            )
        return found.replace(tzinfo=UTC) if found and found.tzinfo is None else found

    def slow(*_: object) -> str:
        # Vosk takes a minute over a long message; the heartbeat renews the lease meanwhile.
        clock.advance(60)
        for _ in range(500):
            if lease_until(recording_id) == clock.moment + timedelta(seconds=15):
                renewed.set()
                break
            threading.Event().wait(0.01)
        return "물 이 새요"

    with app.app_context():
        recording_id = noted_recording(rest, wav_bytes(voice()))
        fake_recognizer.reply = slow
        transcribe_recording.apply(args=[recording_id])
        assert renewed.is_set()
        db.session.expire_all()
        recording = db.session.get(Recording, recording_id)
        assert recording is not None and recording.status == RecordingStatus.TRANSCRIBED
        assert recording.attempts == 1 and len(fake_recognizer.heard) == 1
    watcher.dispose()


def test_a_duplicate_task_does_nothing_while_the_first_one_runs(
    app: Flask,
    rest: TwilioRestDouble,
    fake_recognizer: FakeRecognizer,
    clock: FrozenClock,
) -> None:
    with app.app_context():
        recording_id = noted_recording(rest, wav_bytes(voice()))

        def meanwhile_a_duplicate(*_: object) -> str:
            transcribe_recording.apply(args=[recording_id])  # the lease is held: nothing
            return "물 이 새요"

        fake_recognizer.reply = meanwhile_a_duplicate
        transcribe_recording.apply(args=[recording_id])
        assert len(fake_recognizer.heard) == 1
        db.session.expire_all()
        case = db.session.scalar(select(Case))
        assert case is not None and [e.kind for e in case.events].count("transcribed") == 1


@pytest.fixture
def database_fails_once(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The first transcript written meets a database that went away (PostgreSQL restarted)."""
    failures: list[str] = []
    apply = recording_tasks._apply_transcript

    def flaky(*args: object) -> None:
        if not failures:
            failures.append("server closed the connection unexpectedly")
            raise OperationalError("UPDATE cases ...", {}, Exception(failures[0]))
        apply(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(recording_tasks, "_apply_transcript", flaky)
    yield failures


def test_a_transcription_meeting_a_database_error_is_retried_and_succeeds(
    app: Flask,
    rest: TwilioRestDouble,
    fake_recognizer: FakeRecognizer,
    database_fails_once: list[str],
) -> None:
    fake_recognizer.reply = EMERGENCY
    with app.app_context():
        recording_id = noted_recording(rest, wav_bytes(voice()))
        result = transcribe_recording.apply(args=[recording_id])
        assert result.successful(), result.traceback
        assert database_fails_once  # it did fail once
        db.session.expire_all()
        case = db.session.scalar(select(Case))
        assert case is not None and case.transcript == EMERGENCY
        assert [e.kind for e in case.events].count("transcribed") == 1
        assert len(emergency_texts()) == 1
