"""楼栋长: a building leader reports for a neighbour by text or voicemail, and hears the outcome.

Played with the Twilio double: the leader's text goes through the signed webhook, the texts the
hotline sends go through the outbox, the worker and Twilio's REST API.
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from accounts.models import Role, User
from cases import actions, intake, services
from cases.leaders import appoint, leaders_of
from cases.models import Case, CaseSource, CaseStatus, Resident, Satisfaction
from cases.recordings import note_recording_status
from hotline.db import db
from outreach.models import FollowUp, FollowUpKind, OutboundMessage
from outreach.notices import building_notice_recipients
from outreach.schedule import contact_of, schedule_progress_updates
from outreach.survey import record_answer
from tests.accounts.conftest import make_user
from tests.outreach.conftest import Beat, Clock, events, messages_to
from tests.sms.helpers import all_cases, text
from tests.speech.fakes import FakeRecognizer
from tests.tasks.test_voicemail import run_task, voice, wav_bytes
from twilio_double.rest import TwilioRestDouble
from twilio_double.simulator import CallSimulator

LEADER = "+8613800000101"
NEIGHBOUR = "+8613800000102"
UPSTAIRS = "+8613800000103"
FIVE = "+8613800000105"
STAFF_LEADER = "+8613900000201"
NOTE = "已更换卫生间水管接头"


def _building(app: Flask) -> dict[str, int]:
    """3号楼 (grid G1): the leader 张建国, 李秀兰 in 302, 赵明 in 501; 5号楼 (G2): 王桂芳 in 302."""
    people = [
        ("leader", LEADER, "张建国", "3号楼", "G1", "幸福里3号楼1单元101室"),
        ("neighbour", NEIGHBOUR, "李秀兰", "3号楼", "G1", "幸福里3号楼2单元302室"),
        ("upstairs", UPSTAIRS, "赵明", "3号楼", "G1", "幸福里3号楼2单元501"),
        ("five", FIVE, "王桂芳", "5号楼", "G2", "幸福里5号楼302室"),
    ]
    with app.app_context():
        rows = {
            key: Resident(phone=phone, name=name, building=building, grid=grid, address=address)
            for key, phone, name, building, grid, address in people
        }
        db.session.add_all(rows.values())
        db.session.commit()
        return {key: resident.id for key, resident in rows.items()}


def _lead(app: Flask, resident_id: int, *buildings: str) -> None:
    with app.app_context():
        for building in buildings:
            appoint(building, resident_id=resident_id)
        db.session.commit()


def _case(case_id: int) -> Case:
    case = db.session.get(Case, case_id)
    assert case is not None
    return case


def test_a_leaders_text_about_a_neighbour_is_the_buildings_case_and_the_leader_hears_it_resolved(
    app: Flask, phone: CallSimulator, rest: TwilioRestDouble, clock: Clock, beat: Beat
) -> None:
    ids = _building(app)
    _lead(app, ids["leader"], "3号楼")

    reply = text(phone, "李秀兰家卫生间漏水，水都渗到楼下了，麻烦派人看看", from_=LEADER)

    [opened] = all_cases(app)
    with app.app_context():
        case = _case(opened.id)
        assert case.source == CaseSource.SMS and case.phone == LEADER
        assert (case.building, case.grid) == ("3号楼", "G1")
        assert case.resident_id == ids["neighbour"]  # the neighbour is the person affected
        [reporter] = case.reporters
        assert (reporter.name, reporter.phone, reporter.building) == ("张建国", LEADER, "3号楼")
        assert [e.detail for e in events(case.id, "leader_report")] == [
            {"leader": "张建国", "building": "3号楼"}
        ]
        # The reply gives the leader the case number and says for whom it was taken.
        assert case.number in reply and "代李秀兰" in reply
        # The survey asks the neighbour, who is the one to be satisfied (不满意不销账).
        assert contact_of(case).phone == NEIGHBOUR

        staff = db.session.get(User, make_user("li", Role.STAFF, language="zh-CN"))
        assert staff is not None
        actions.resolve(case, NOTE, staff)
        db.session.commit()
        beat.run()

        [resolved] = [body for body in messages_to(rest.messages, LEADER) if NOTE in body]
        assert case.number in resolved and "已处理完成" in resolved
        [sent] = db.session.scalars(
            select(OutboundMessage).where(OutboundMessage.purpose == "reporter_resolved")
        ).all()
        assert sent.to_phone == LEADER and sent.case_id == case.id
        [survey] = db.session.scalars(select(FollowUp).where(FollowUp.case_id == case.id)).all()
        assert survey.kind == FollowUpKind.SURVEY_CALL


def test_a_leader_naming_nobody_reports_for_their_own_building(
    app: Flask, phone: CallSimulator
) -> None:
    ids = _building(app)
    _lead(app, ids["leader"], "5号楼", "3号楼")  # lives in 3号楼, leads both

    reply = text(phone, "楼道的灯坏了好几天了", from_=LEADER)

    [opened] = all_cases(app)
    with app.app_context():
        case = _case(opened.id)
        assert (case.building, case.grid, case.resident_id) == ("3号楼", "G1", None)
        [reporter] = case.reporters
        assert reporter.name == "张建国"
        # An ordinary reply; the leader is the one the case's texts and survey go to.
        assert reply.startswith("社区服务热线：已收到您的短信") and case.number in reply
        assert contact_of(case).phone == LEADER


def test_a_leader_of_several_buildings_names_the_building_and_the_room(
    app: Flask, phone: CallSimulator
) -> None:
    ids = _building(app)
    _lead(app, ids["leader"], "3号楼", "5号楼")

    text(phone, "五号楼302室家里没有热水，老人一个人住", from_=LEADER)

    [opened] = all_cases(app)
    with app.app_context():
        case = _case(opened.id)
        # 302 is also 李秀兰's room in 3号楼: the building named decides.
        assert (case.building, case.grid, case.resident_id) == ("5号楼", "G2", ids["five"])


def test_a_leader_naming_a_room_several_buildings_have_names_nobody(
    app: Flask, phone: CallSimulator
) -> None:
    ids = _building(app)
    _lead(app, ids["leader"], "3号楼", "5号楼")

    text(phone, "302室家里没有热水", from_=LEADER)

    [opened] = all_cases(app)
    with app.app_context():
        case = _case(opened.id)
        assert (case.building, case.resident_id) == ("3号楼", None)  # their own building


def test_a_text_from_someone_who_leads_nothing_is_unchanged(
    app: Flask, phone: CallSimulator
) -> None:
    ids = _building(app)
    _lead(app, ids["leader"], "3号楼")

    reply = text(phone, "李秀兰家卫生间漏水", from_=UPSTAIRS)  # a neighbour, not the leader

    [opened] = all_cases(app)
    with app.app_context():
        case = _case(opened.id)
        assert case.resident_id == ids["upstairs"] and case.building == "3号楼"
        assert case.reporters == [] and events(case.id, "leader_report") == []
        assert reply.startswith("社区服务热线：已收到您的短信")


def test_a_staff_member_who_leads_a_building_reports_for_it(
    app: Flask, phone: CallSimulator
) -> None:
    ids = _building(app)
    with app.app_context():
        user_id = make_user("zhou", Role.STAFF, display_name="周主任", phone=STAFF_LEADER)
        appoint("3号楼", user_id=user_id)
        db.session.commit()

    text(phone, "302室李秀兰家漏水", from_=STAFF_LEADER)

    [opened] = all_cases(app)
    with app.app_context():
        case = _case(opened.id)
        assert (case.building, case.resident_id) == ("3号楼", ids["neighbour"])
        [reporter] = case.reporters
        assert (reporter.user_id, reporter.name) == (user_id, "周主任")


def test_a_second_text_names_the_neighbour(app: Flask, phone: CallSimulator) -> None:
    ids = _building(app)
    _lead(app, ids["leader"], "3号楼")

    text(phone, "楼里有人家漏水了", from_=LEADER)
    text(phone, "是赵明家", from_=LEADER)

    [opened] = all_cases(app)
    with app.app_context():
        assert _case(opened.id).resident_id == ids["upstairs"]


def test_a_leaders_voicemail_names_the_neighbour_once_transcribed(
    app: Flask, rest: TwilioRestDouble, fake_recognizer: FakeRecognizer
) -> None:
    ids = _building(app)
    _lead(app, ids["leader"], "3号楼", "5号楼")
    # How Vosk writes Chinese: words apart, numbers in characters.
    fake_recognizer.reply = "五 号 楼 的 王 阿姨 家 水管 漏 了"
    with app.app_context():
        call = services.record_call("CA" + "7" * 32, LEADER, "+8610123456", "inbound", "zh-CN")
        sid = rest.add_recording(call.call_sid, wav_bytes(voice()))
        recording, _ = intake.note_voicemail(sid, call.call_sid, "zh-CN")
        note_recording_status(recording, "completed", 4)
        case = run_task(recording.id)

        assert case.source == CaseSource.VOICEMAIL and case.phone == LEADER
        assert (case.building, case.grid, case.resident_id) == ("5号楼", "G2", ids["five"])
        [reporter] = case.reporters
        assert (reporter.name, reporter.building) == ("张建国", "5号楼")
        # The case number goes to the leader, who called.
        [number] = db.session.scalars(
            select(OutboundMessage).where(OutboundMessage.purpose == "case_number")
        ).all()
        assert number.to_phone == LEADER and case.number in number.body


def test_the_leader_hears_the_weekly_progress_and_the_neighbour_too(
    app: Flask, phone: CallSimulator, rest: TwilioRestDouble, clock: Clock, beat: Beat
) -> None:
    ids = _building(app)
    _lead(app, ids["leader"], "3号楼")
    text(phone, "李秀兰家卫生间漏水", from_=LEADER)

    with app.app_context():
        clock.advance(days=8)
        assert schedule_progress_updates() == 1
        beat.run()
        [to_leader] = [b for b in messages_to(rest.messages, LEADER) if "您反映的事项" in b]
        assert "已经收到" in to_leader  # the status, in the leader's language
        assert len(messages_to(rest.messages, NEIGHBOUR)) == 1


def test_a_leader_who_is_the_cases_contact_gets_one_progress_text(
    app: Flask, phone: CallSimulator, rest: TwilioRestDouble, clock: Clock, beat: Beat
) -> None:
    ids = _building(app)
    _lead(app, ids["leader"], "3号楼")
    text(phone, "楼道的灯坏了", from_=LEADER)  # names nobody: the leader is the contact

    with app.app_context():
        before = len(messages_to(rest.messages, LEADER))  # the reply
        clock.advance(days=8)
        schedule_progress_updates()
        beat.run()
        assert len(messages_to(rest.messages, LEADER)) == before + 1


def test_a_notice_for_a_building_goes_to_its_leaders_and_residents_once(app: Flask) -> None:
    ids = _building(app)
    _lead(app, ids["leader"], "3号楼")
    with app.app_context():
        user_id = make_user("zhou", Role.STAFF, display_name="周主任", phone=STAFF_LEADER)
        appoint("3号楼", user_id=user_id)
        gone = make_user("gone", Role.STAFF, display_name="已离职", phone="+8613900000202")
        appoint("3号楼", user_id=gone)
        account = db.session.get(User, gone)
        assert account is not None
        account.active = False  # a leader whose account is closed gets no notice
        db.session.commit()
        assert [leader.name for leader in leaders_of("3号楼")] == ["张建国", "周主任"]
        recipients = building_notice_recipients("3号楼")
        assert [(r.phone, r.leader) for r in recipients] == [
            (LEADER, True),
            (STAFF_LEADER, True),
            (NEIGHBOUR, False),
            (UPSTAIRS, False),
        ]
        assert building_notice_recipients("") == []


def test_the_leader_is_told_when_the_neighbour_is_not_satisfied(
    app: Flask, phone: CallSimulator, clock: Clock
) -> None:
    ids = _building(app)
    _lead(app, ids["leader"], "3号楼")
    text(phone, "李秀兰家卫生间漏水", from_=LEADER)
    with app.app_context():
        case = db.session.scalars(select(Case)).one()
        staff = db.session.get(User, make_user("li", Role.STAFF, language="zh-CN"))
        assert staff is not None
        actions.resolve(case, NOTE, staff)
        db.session.commit()
        clock.advance(days=1)
        record_answer(case, Satisfaction.NOT_SATISFIED, "sms")
        db.session.commit()

        assert case.status == CaseStatus.REOPENED
        reopened = db.session.scalars(
            select(OutboundMessage).where(OutboundMessage.purpose == "reporter_reopened")
        ).all()
        assert [message.to_phone for message in reopened] == [LEADER]
