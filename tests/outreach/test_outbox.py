"""The text outbox: queued with what caused it, sent once after commit, never to an opt-out."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask
from pytest import MonkeyPatch
from sqlalchemy.exc import OperationalError

from cases.models import Case
from hotline.db import db
from outreach import dispatcher, outbox
from outreach.models import OutboundMessage, OutboundStatus
from tasks import followups
from tests.outreach.conftest import (
    RESIDENT_PHONE,
    Beat,
    Clock,
    events,
    make_resident,
    open_case,
)
from twilio_double.rest import TwilioRestDouble

Q = OutboundStatus


def queued(body: str = "社区服务热线：测试", **fields: object) -> OutboundMessage:
    case = open_case(make_resident(**fields))
    message = outbox.queue_sms(RESIDENT_PHONE, body, "progress", case)
    db.session.commit()
    return message


def test_a_queued_text_is_sent_once_and_shows_on_the_timeline(
    app: Flask, rest: TwilioRestDouble, beat: Beat, clock: Clock
) -> None:
    with app.app_context():
        message = queued()
        dispatcher.dispatch_due()
        dispatcher.dispatch_due()
        assert beat.published == [("send_text", message.id)]
        beat.work()
        assert followups.send_text.apply(args=[message.id]).get() == "not_ours"
        [sent] = rest.messages
        assert sent["to"] == RESIDENT_PHONE and sent["body"] == "社区服务热线：测试"
        db.session.refresh(message)
        assert message.status == Q.SENT and message.message_sid == sent["sid"]
        [event] = events(message.case_id or 0, "sms_sent")
        assert event.detail == {"purpose": "progress", "message_sid": sent["sid"]}


def test_an_opted_out_resident_gets_no_text(
    app: Flask, rest: TwilioRestDouble, beat: Beat, clock: Clock
) -> None:
    with app.app_context():
        message = queued(sms_opt_out=True)
        assert message.status == Q.SUPPRESSED
        beat.run()
        assert rest.messages == []
        assert len(events(message.case_id or 0, "sms_suppressed")) == 1


def test_opting_out_after_queueing_is_respected_at_send_time(
    app: Flask, rest: TwilioRestDouble, beat: Beat, clock: Clock
) -> None:
    with app.app_context():
        message = queued()
        case = db.session.get(Case, message.case_id)
        assert case is not None and case.resident is not None
        case.resident.sms_opt_out = True
        db.session.commit()
        beat.run()
        assert rest.messages == []
        db.session.refresh(message)
        assert message.status == Q.SUPPRESSED


def test_a_failing_twilio_is_retried_later_and_a_refusal_is_final(
    app: Flask, rest: TwilioRestDouble, beat: Beat, clock: Clock
) -> None:
    with app.app_context():
        message = queued()
        rest.fail_next(r"/Messages\.json$", status=503, method="POST")
        beat.run()
        db.session.refresh(message)
        assert message.status == Q.QUEUED and message.attempts == 1
        clock.advance(minutes=2)
        beat.run()
        db.session.refresh(message)
        assert message.status == Q.SENT and len(rest.messages) == 1

        refused = outbox.queue_sms(
            "+8613800000999", "x", "progress", db.session.get(Case, message.case_id)
        )
        db.session.commit()
        rest.fail_next(r"/Messages\.json$", status=400, method="POST")
        beat.run()
        db.session.refresh(refused)
        assert refused.status == Q.FAILED
        assert len(events(message.case_id or 0, "sms_failed")) == 1


def test_a_text_sent_by_a_worker_that_then_died_is_not_sent_again(
    app: Flask, rest: TwilioRestDouble, beat: Beat, clock: Clock
) -> None:
    with app.app_context():
        clock.moment = datetime.now(UTC)  # Twilio's clock is the real one
        message = queued()
        dispatcher.dispatch_due()
        beat.published.clear()
        # The worker took the lease and Twilio took the text; then the worker was killed.
        db.session.execute(
            db.update(OutboundMessage)
            .where(OutboundMessage.id == message.id)
            .values(attempts=1, due_at=clock.moment + outbox.SEND_LEASE)
        )
        db.session.commit()
        rest.add_message(to=RESIDENT_PHONE, from_="+8610123456", body=message.body)
        assert followups.send_text.apply(args=[message.id]).get() == "not_ours"  # lease held
        clock.advance(minutes=6)
        assert dispatcher.dispatch_due().republished == 1
        beat.work()
        assert len(rest.messages) == 1
        db.session.refresh(message)
        assert message.status == Q.SENT and message.message_sid == rest.messages[0]["sid"]


def test_a_text_whose_send_task_was_lost_is_sent_within_three_minutes(
    app: Flask, rest: TwilioRestDouble, beat: Beat, clock: Clock
) -> None:
    with app.app_context():
        message = queued()
        assert beat.published == [("send_text", message.id)]
        beat.published.clear()  # Redis went down with the message, or the worker died with it
        clock.advance(minutes=1)
        assert dispatcher.dispatch_due().republished == 0  # the task may be on its way
        clock.advance(minutes=1, seconds=15)
        assert dispatcher.dispatch_due().republished == 1
        beat.work()
        [sent] = rest.messages
        assert sent["body"] == message.body
        db.session.refresh(message)
        assert message.status == Q.SENT


def test_a_send_meeting_a_database_error_is_retried_and_sends_once(
    app: Flask, rest: TwilioRestDouble, beat: Beat, clock: Clock, monkeypatch: MonkeyPatch
) -> None:
    send = outbox.send
    failed: list[int] = []

    def database_restarting(message_id: int) -> OutboundStatus | None:
        if not failed:
            failed.append(message_id)
            raise OperationalError(
                "SELECT ...", {}, Exception("the database system is starting up")
            )
        return send(message_id)

    monkeypatch.setattr(outbox, "send", database_restarting)
    with app.app_context():
        message = queued()
        result = followups.send_text.apply(args=[message.id])
        assert result.successful() and result.get() == "sent"
        assert failed == [message.id] and len(rest.messages) == 1
