"""One problem, many reporters: five neighbours report one blocked drain; staff merge their
cases into one problem. Every reporter keeps their case number, is texted when it is resolved
and is asked for their own satisfaction (不满意不销账 for each of them)."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from accounts.models import Role, User
from cases import actions
from cases.deadlines import deadline_for
from cases.errors import Refused
from cases.lifecycle import InvalidTransition, transition
from cases.models import Case, CaseStatus, Satisfaction
from hotline.db import db
from outreach.models import FollowUpKind, FollowUpStatus
from outreach.survey import record_answer
from tests.accounts.conftest import make_user
from tests.outreach.conftest import (
    ASSIGNEE_PHONE,
    BOSS_PHONE,
    Beat,
    Clock,
    events,
    follow_ups,
    local,
    make_resident,
    open_case,
    outbox,
    staff,
)
from twilio_double.rest import TwilioRestDouble

PHONES = [f"+86138000001{index:02d}" for index in range(1, 6)]
DRAIN = "3号楼门口下水道堵了，污水冒出来了"
FIXED = "已疏通3号楼门口的下水道"


def drain_reports() -> list[Case]:
    """Five residents of building 3 in grid A1 report the same drain, each opening a case."""
    cases = []
    for index, phone in enumerate(PHONES):
        resident = make_resident(phone=phone, name=f"居民{index + 1}", building="3号楼")
        cases.append(
            open_case(
                resident,
                status=CaseStatus.NEW,
                category="drainage",
                building="3号楼",
                transcript=DRAIN,
                deadline_at=local(4, 10),
            )
        )
    return cases


def user(name: str) -> User:
    found = db.session.scalar(select(User).where(User.username == name))
    assert found is not None
    return found


def merged() -> tuple[Case, list[Case]]:
    staff()
    main, *reports = drain_reports()
    li = user("li")
    actions.assign(main, li, li)
    actions.merge_into(main, reports, li)
    db.session.commit()
    return main, reports


def statuses(cases: list[Case]) -> list[CaseStatus]:
    for case in cases:
        db.session.refresh(case)
    return [case.status for case in cases]


def test_merged_reporters_keep_their_numbers_and_each_is_texted_and_called(
    app: Flask, clock: Clock, beat: Beat, rest: TwilioRestDouble
) -> None:
    with app.app_context():
        main, reports = merged()
        numbers = [case.number for case in (main, *reports)]
        assert len(set(numbers)) == 5  # nobody's number changed or was taken away
        assert [case.main_case_id for case in reports] == [main.id] * 4
        # Taken up as the main case was; no deadline of their own: the main case's is the
        # problem's.
        assert statuses(reports) == [CaseStatus.ACCEPTED] * 4
        assert [case.deadline_at for case in reports] == [None] * 4
        assert main.deadline_at is not None
        assert [e.detail["number"] for e in events(main.id, "report_linked")] == numbers[1:]
        assert events(reports[0].id, "linked_to_main")[0].detail == {
            "main": main.number,
            "merged": True,
        }

        actions.resolve(main, FIXED, user("li"), "zh-CN")
        db.session.commit()
        everyone = [main, *reports]
        assert statuses(everyone) == [CaseStatus.RESOLVED] * 5
        assert {case.resolution_note for case in everyone} == {FIXED}
        assert {case.resolution_locale for case in everyone} == {"zh-CN"}
        # Each reporter is told, on their own case number, in their language.
        texts = outbox(purpose="problem_resolved")
        assert sorted(text.to_phone for text in texts) == sorted(PHONES)
        for case in everyone:
            [text] = [t for t in texts if t.case_id == case.id]
            assert case.number in text.body and FIXED in text.body
        beat.run()
        sent = [m for m in rest.messages if m["to"] in PHONES]
        assert sorted(m["to"] for m in sent) == sorted(PHONES)

        # Each has a survey of their own, placed the next morning.
        for case in everyone:
            [survey] = follow_ups(case.id)
            assert (survey.kind, survey.status) == (FollowUpKind.SURVEY_CALL, "scheduled")
        clock.moment = local(3, 9)
        beat.run()
        assert sorted(call["to"] for call in rest.calls) == sorted(PHONES)
        assert all(follow_ups(case.id)[0].status == FollowUpStatus.AWAITING for case in everyone)


def test_one_reporter_not_satisfied_reopens_the_problem_and_the_satisfied_stay_closed(
    app: Flask, clock: Clock
) -> None:
    with app.app_context():
        main, reports = merged()
        actions.resolve(main, FIXED, user("li"), "zh-CN")
        db.session.commit()
        first, second, third, fourth = reports

        record_answer(main, Satisfaction.SATISFIED, "call")
        record_answer(first, Satisfaction.BASICALLY_SATISFIED, "sms")
        db.session.commit()
        # 不满意不销账 for each reporter: the main case closing closes nobody else's case.
        assert (
            statuses([main, *reports])
            == [CaseStatus.CLOSED, CaseStatus.CLOSED] + [CaseStatus.RESOLVED] * 3
        )

        record_answer(second, Satisfaction.NOT_SATISFIED, "call")
        db.session.commit()
        # The drain is not fixed for one of them: the problem is worked on again. Those still
        # waiting to be asked go back to work with it (their surveys stop); those who said they
        # were satisfied keep their answer and their closed case.
        assert statuses([main, first, second, third, fourth]) == [
            CaseStatus.REOPENED,
            CaseStatus.CLOSED,
            CaseStatus.REOPENED,
            CaseStatus.REOPENED,
            CaseStatus.REOPENED,
        ]
        for case in (third, fourth):
            assert [f.status for f in follow_ups(case.id)] == [FollowUpStatus.CANCELLED]
        assert second.escalated_at is not None
        # The supervisor and the main case's handler (where the work is) are texted.
        alerts = outbox(purpose="staff_assignee") + outbox(purpose="staff_supervisor")
        assert {alert.to_phone for alert in alerts} == {BOSS_PHONE, ASSIGNEE_PHONE}
        assert all(second.number in alert.body for alert in alerts)
        assert main.deadline_at is not None and second.deadline_at is None

        actions.resolve(main, "换了一段下水管", user("li"), "zh-CN")
        db.session.commit()
        assert statuses([main, first, second, third, fourth]) == [
            CaseStatus.RESOLVED,
            CaseStatus.CLOSED,
            CaseStatus.RESOLVED,
            CaseStatus.RESOLVED,
            CaseStatus.RESOLVED,
        ]
        assert first.resolution_note == FIXED  # closed with the work it was asked about
        again = [f for f in follow_ups(second.id) if f.status == FollowUpStatus.SCHEDULED]
        assert len(again) == 1
        assert [f.status for f in follow_ups(first.id)] == [FollowUpStatus.CANCELLED]


def test_staff_reopening_a_closed_report_reopens_the_problem(app: Flask, clock: Clock) -> None:
    with app.app_context():
        main, reports = merged()
        actions.resolve(main, FIXED, user("li"), "zh-CN")
        record_answer(reports[0], Satisfaction.SATISFIED, "call")
        db.session.commit()
        transition(reports[0], CaseStatus.REOPENED, "Li Staff", "她又打来电话：又堵了")
        db.session.commit()
        assert statuses([main, *reports]) == [CaseStatus.REOPENED] * 5
        with_case = [e.detail.get("with_case") for e in events(main.id, "status_changed")]
        assert with_case[-1] == reports[0].number


def test_the_main_case_moves_its_reports_along_but_a_report_is_not_resolved_alone(
    app: Flask, clock: Clock
) -> None:
    with app.app_context():
        main, reports = merged()
        transition(main, CaseStatus.IN_PROGRESS, "Li Staff")
        db.session.commit()
        assert statuses(reports) == [CaseStatus.IN_PROGRESS] * 4
        with pytest.raises(InvalidTransition) as refused:
            actions.resolve(reports[0], "疏通了", user("li"))
        db.session.rollback()
        assert str(refused.value) == (
            f"case {reports[0].number} is one report of the problem handled on case "
            f"{main.number}: resolve case {main.number}, and its reports are resolved with it"
        )
        assert statuses(reports) == [CaseStatus.IN_PROGRESS] * 4
        assert outbox(purpose="problem_resolved") == []


def test_a_report_joining_a_problem_in_progress_is_in_progress(app: Flask, clock: Clock) -> None:
    with app.app_context():
        staff()
        main, other = drain_reports()[:2]
        transition(main, CaseStatus.ACCEPTED, "Li Staff")
        transition(main, CaseStatus.IN_PROGRESS, "Li Staff")
        actions.link_to_main(other, main, user("li"))
        db.session.commit()
        assert statuses([other]) == [CaseStatus.IN_PROGRESS]
        steps = [(e.detail["from"], e.detail["to"]) for e in events(other.id, "status_changed")]
        assert steps == [("new", "accepted"), ("accepted", "in_progress")]


def test_two_problems_found_to_be_one_are_merged_with_their_reports(
    app: Flask, clock: Clock
) -> None:
    with app.app_context():
        staff()
        a, b, c, d, _ = drain_reports()
        li = user("li")
        actions.merge_into(a, [b], li)
        actions.merge_into(c, [d], li)
        actions.link_to_main(c, a, li)  # c brings d along: links stay one level deep
        db.session.commit()
        assert [case.main_case_id for case in (b, c, d)] == [a.id] * 3
        assert a.main_case_id is None


def test_bad_links_are_refused_and_change_nothing(app: Flask, clock: Clock) -> None:
    with app.app_context():
        staff()
        a, b, c, d, e = drain_reports()
        li = user("li")
        actions.merge_into(a, [b], li)
        db.session.commit()

        def refused(action: object) -> str:
            with pytest.raises(Refused) as error:
                action()  # type: ignore[operator]
            db.session.rollback()
            return str(error.value)

        assert refused(lambda: actions.link_to_main(a, a, li)) == (
            f"case {a.number} cannot be linked to itself"
        )
        assert refused(lambda: actions.merge_into(a, [c, a], li)) == (
            f"case {a.number} cannot be linked to itself"
        )
        assert refused(lambda: actions.link_to_main(a, b, li)) == (
            f"case {b.number} is already one of the reports of case {a.number}: merge it the "
            "other way round"
        )
        assert refused(lambda: actions.link_to_main(c, b, li)) == (
            f"case {b.number} is one report of case {a.number}: link to case {a.number}, "
            "where its problem is handled"
        )
        assert refused(lambda: actions.link_to_main(b, c, li)) == (
            f"case {b.number} is already a report of case {a.number}: unlink it first"
        )
        assert refused(lambda: actions.merge_into(a, [], li)) == (
            "say which cases to merge into this one"
        )
        # A closed main case: reopen it first (or keep the new case on its own).
        transition(d, CaseStatus.ACCEPTED, "Li Staff")
        actions.close_as_mistake(d, "junk", li)
        db.session.commit()
        with pytest.raises(InvalidTransition) as closed:
            actions.merge_into(d, [e], li)
        db.session.rollback()
        assert str(closed.value) == (
            f"case {d.number} is closed: only an open case takes more reports of its problem; "
            "reopen it, or keep this case on its own"
        )
        with pytest.raises(InvalidTransition):
            actions.link_to_main(d, a, li)
        db.session.rollback()
        # A case of the problem is no "duplicate opened by mistake": its reporter must hear back.
        assert refused(lambda: actions.close_as_mistake(b, "junk", li)) == (
            f"case {b.number} is part of a problem several residents reported: unlink it first "
            "(a neighbour's report of the same problem is no mistake)"
        )
        # Nothing changed by any of the refusals.
        for case in (a, b, c, d, e):
            db.session.refresh(case)
        assert [case.main_case_id for case in (a, b, c, d, e)] == [None, a.id, None, None, None]
        assert [len(events(case.id, "linked_to_main")) for case in (a, c, d, e)] == [0, 0, 0, 0]


def test_a_grid_worker_cannot_link_across_their_grid(app: Flask, clock: Clock) -> None:
    with app.app_context():
        staff()  # zhao is the grid worker of A1
        make_user("qian", Role.DEPARTMENT, department="Water company")
        ours, theirs = drain_reports()[:2]
        theirs.grid = "B2"
        db.session.commit()
        zhao, water = user("zhao"), user("qian")
        with pytest.raises(Refused) as unseen:
            actions.case_by_number(theirs.number, zhao)
        assert str(unseen.value) == f"there is no case {theirs.number}"
        with pytest.raises(Refused) as not_theirs:
            actions.link_to_main(ours, theirs, zhao)
        assert str(not_theirs.value) == f"you may see case {theirs.number} but not change it"
        # A department sees only what is assigned to it, and changes only that.
        ours.assignee = water
        with pytest.raises(Refused):
            actions.case_by_number(theirs.number, water)
        db.session.rollback()
        db.session.refresh(ours)
        assert ours.main_case_id is None and theirs.main_case_id is None


def test_unlinking_gives_the_case_back_its_own_deadline(app: Flask, clock: Clock) -> None:
    with app.app_context():
        staff()
        main, other = drain_reports()[:2]
        actions.link_to_main(other, main, user("li"))
        db.session.commit()
        actions.unlink(other, user("li"))
        db.session.commit()
        assert other.main_case_id is None
        assert other.deadline_at == deadline_for(other.urgency, other.created_at, "drainage")
        assert other.status == CaseStatus.NEW  # as it was: only the link goes
        assert [e.detail["number"] for e in events(main.id, "report_unlinked")] == [other.number]
        with pytest.raises(Refused) as again:
            actions.unlink(other, user("li"))
        assert str(again.value) == f"case {other.number} is not linked to another case"
        # A report that is no longer one is resolved on its own, and its resident is not told
        # about neighbours.
        actions.resolve(other, "疏通了", user("li"))
        db.session.commit()
        assert other.status == CaseStatus.RESOLVED and outbox(purpose="problem_resolved") == []
        assert main.status == CaseStatus.NEW
