"""Administration: routing rules decide who gets new cases; accounts decide who signs in."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from accounts.models import Role, User
from cases.models import RoutingRule
from cases.routing import route_new_case
from hotline.db import db
from tests.workspace.conftest import PASSWORD, csrf_token, make_case, make_user

Login = Callable[..., FlaskClient]


@pytest.fixture
def admin(app: Flask, login: Login) -> FlaskClient:
    with app.app_context():
        make_user("boss", Role.ADMIN, display_name="Zhao Admin", language="en-US")
    return login("boss")


def _rules(app: Flask) -> list[tuple[str, str, str, int]]:
    with app.app_context():
        rules = db.session.scalars(select(RoutingRule).order_by(RoutingRule.id))
        return [(r.category, r.grid, r.building, r.assignee_id) for r in rules]


def _post(client: FlaskClient, path: str, page: str, **form: str) -> str:
    """Submit a form as the page would, follow the redirect, and return the page shown."""
    form["csrf_token"] = csrf_token(client, page)
    response = client.post(path, data=form)
    assert response.status_code == 303, response.get_data(as_text=True)
    return client.get(response.headers["Location"]).get_data(as_text=True)


# -- routing rules ---------------------------------------------------------------------------


def test_a_rule_added_here_routes_the_next_voicemail(app: Flask, admin: FlaskClient) -> None:
    with app.app_context():
        plumber = make_user("plumber", Role.DEPARTMENT, display_name="Water Co", department="W")
    page = admin.get("/admin/routing").get_data(as_text=True)
    assert "Routing rules" in page and "No rules yet" in page
    assert '<option value="drainage">Drains and water</option>' in page
    shown = _post(
        admin,
        "/admin/routing",
        "/admin/routing",
        category="drainage",
        grid="A1",
        building="",
        assignee_id=str(plumber),
    )
    assert "Rule added." in shown and "Water Co" in shown and "Drains and water" in shown
    assert _rules(app) == [("drainage", "A1", "", plumber)]
    with app.app_context():
        blocked_drain = make_case(category="drainage", grid="A1")
        elsewhere = make_case(category="drainage", grid="B2")
        assert route_new_case(blocked_drain) and not route_new_case(elsewhere)
        assert blocked_drain.assignee_id == plumber and elsewhere.assignee_id is None


def test_any_category_and_place_is_a_catch_all(app: Flask, admin: FlaskClient) -> None:
    with app.app_context():
        desk = make_user("desk", Role.STAFF)
    _post(admin, "/admin/routing", "/admin/routing", category="", assignee_id=str(desk))
    assert _rules(app) == [("", "", "", desk)]
    page = admin.get("/admin/routing").get_data(as_text=True)
    assert page.count("<td>Any</td>") == 3


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"category": "weather"}, "Choose a category from the list."),
        ({"assignee": "gone"}, "Choose an active account to hand the cases to."),
        ({"assignee": ""}, "Choose an active account to hand the cases to."),
        ({"assignee": "99999999999999"}, "Choose an active account to hand the cases to."),
        ({"grid": "x" * 51}, "Grid is too long: at most 50 characters."),
        ({"grid": "A1"}, "This rule exists already."),
        ({"grid": "A1", "assignee": "other"}, "A rule for the same category and place already"),
        ({"grid": "B2"}, "is a grid worker and sees only the cases of grid A1"),
        ({"grid": ""}, "is a grid worker and sees only the cases of grid A1"),
    ],
)
def test_a_bad_rule_is_refused_and_nothing_is_added(
    app: Flask, admin: FlaskClient, form: dict[str, str], message: str
) -> None:
    with app.app_context():
        ids = {
            "worker": make_user("worker", Role.GRID_WORKER, grid="A1"),
            "other": make_user("other", Role.STAFF),
            "gone": make_user("gone", Role.STAFF, active=False),
        }
        db.session.add(RoutingRule(category="noise", grid="A1", assignee_id=ids["worker"]))
        db.session.commit()
    before = _rules(app)
    fields = {"category": "noise", "grid": "B2", "building": "", "assignee": "worker"} | form
    assignee = fields.pop("assignee")
    fields["assignee_id"] = str(ids.get(assignee, assignee))
    shown = _post(admin, "/admin/routing", "/admin/routing", **fields)
    assert message in shown and 'class="flash error"' in shown
    assert _rules(app) == before


def test_routing_skips_a_handler_who_could_not_see_the_case(app: Flask) -> None:
    with app.app_context():
        worker = make_user("worker", Role.GRID_WORKER, grid="A1")
        desk = make_user("desk", Role.STAFF)
        # Rules made before grid workers were held to their grid, or whose worker moved grid.
        db.session.add(RoutingRule(category="noise", grid="", assignee_id=worker))
        db.session.add(RoutingRule(category="", grid="", assignee_id=desk))
        db.session.commit()
        own_grid = make_case(category="noise", grid="A1")
        other_grid = make_case(category="noise", grid="B2")
        assert route_new_case(own_grid) and route_new_case(other_grid)
        db.session.commit()
        assert (own_grid.assignee_id, other_grid.assignee_id) == (worker, desk)


def test_a_rule_is_deleted(app: Flask, admin: FlaskClient) -> None:
    with app.app_context():
        worker = make_user("worker", Role.GRID_WORKER, grid="A1", display_name="Sun Worker")
        rule = RoutingRule(category="noise", grid="A1", assignee_id=worker)
        db.session.add(rule)
        db.session.commit()
        rule_id = rule.id
    shown = _post(admin, f"/admin/routing/{rule_id}/delete", "/admin/routing")
    assert "Rule deleted." in shown and "Sun Worker</td>" not in shown
    assert _rules(app) == []
    token = csrf_token(admin, "/admin/routing")
    missing = admin.post(f"/admin/routing/{rule_id}/delete", data={"csrf_token": token})
    assert missing.status_code == 404


def test_forms_need_the_csrf_token(app: Flask, admin: FlaskClient) -> None:
    with app.app_context():
        worker = make_user("worker", Role.GRID_WORKER, grid="A1")
    response = admin.post("/admin/routing", data={"category": "", "assignee_id": str(worker)})
    assert response.status_code == 400
    forged = admin.post(
        "/admin/users", data={"username": "mallory", "role": "admin", "password": "x" * 20}
    )
    assert forged.status_code == 400
    assert _rules(app) == []
    with app.app_context():
        assert db.session.scalar(select(User).where(User.username == "mallory")) is None


@pytest.mark.parametrize("role", [Role.STAFF, Role.GRID_WORKER, Role.DEPARTMENT])
def test_only_admins_may_look(app: Flask, login: Login, role: Role) -> None:
    with app.app_context():
        make_user("someone", role, grid="A1", department="D")
    client = login("someone")
    token = csrf_token(client, "/login")
    assert client.get("/admin/routing").status_code == 403
    assert client.get("/admin/users").status_code == 403
    assert client.post("/admin/routing", data={"csrf_token": token}).status_code == 403
    assert client.post("/admin/users", data={"csrf_token": token}).status_code == 403
    assert 'href="/admin/routing"' not in client.get("/login").get_data(as_text=True)


def test_signed_out_visitors_are_sent_to_log_in(app: Flask) -> None:
    response = app.test_client().get("/admin/users")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# -- staff accounts --------------------------------------------------------------------------

NEW_ACCOUNT = {
    "username": "liu",
    "display_name": "Liu Grid",
    "role": "grid_worker",
    "grid": "A1",
    "department": "",
    "language": "zh-CN",
    "phone": "+86 138 0000 0009",
    "password": "twelve chars!",
}


def test_an_admin_makes_an_account_that_can_sign_in(
    app: Flask, admin: FlaskClient, login: Login
) -> None:
    shown = _post(admin, "/admin/users", "/admin/users", **NEW_ACCOUNT)
    assert "Account liu created." in shown
    assert "<td>Liu Grid</td>" in shown and "<td>Grid worker</td>" in shown
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "liu"))
        assert user is not None
        assert (user.role, user.grid, user.language, user.phone) == (
            Role.GRID_WORKER,
            "A1",
            "zh-CN",
            "+8613800000009",
        )
    assert login("liu", "twelve chars!").get("/admin/users").status_code == 403


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"password": "elevenchars"}, "The password needs at least 12 characters."),
        ({"grid": ""}, "A grid worker needs a grid."),
        ({"role": "department", "grid": ""}, "A department account needs the department"),
        ({"role": "owner"}, "Choose a role."),
        ({"username": "boss"}, "The username boss is taken."),
        ({"username": "li u"}, "Enter a username without spaces."),
        ({"language": "fr-FR"}, "Choose a language."),
        ({"phone": "12345"}, "That phone number is not valid"),
    ],
)
def test_a_bad_account_is_refused(
    app: Flask, admin: FlaskClient, changes: dict[str, str], message: str
) -> None:
    shown = _post(admin, "/admin/users", "/admin/users", **(NEW_ACCOUNT | changes))
    assert message in shown.replace("&#39;", "'")
    with app.app_context():
        assert db.session.scalars(select(User.username)).all() == ["boss"]


def test_a_deactivated_account_cannot_sign_in(app: Flask, admin: FlaskClient, login: Login) -> None:
    with app.app_context():
        leaver = make_user("leaver", Role.STAFF, display_name="<b>Leaver</b>")
    page = admin.get("/admin/users").get_data(as_text=True)
    assert "&lt;b&gt;Leaver&lt;/b&gt;" in page and "<b>Leaver" not in page
    shown = _post(admin, f"/admin/users/{leaver}/deactivate", "/admin/users")
    assert "Account leaver deactivated" in shown
    client = app.test_client()
    response = client.post(
        "/login",
        data={"username": "leaver", "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 401


def test_an_admin_cannot_deactivate_themselves(app: Flask, admin: FlaskClient) -> None:
    with app.app_context():
        me = db.session.scalar(select(User.id).where(User.username == "boss"))
    shown = _post(admin, f"/admin/users/{me}/deactivate", "/admin/users")
    assert "You cannot deactivate your own account." in shown
    assert admin.get("/admin/users").status_code == 200


def test_the_create_form_starts_with_the_least_powerful_role(
    app: Flask, admin: FlaskClient
) -> None:
    page = admin.get("/admin/users").get_data(as_text=True)
    create = page[page.index('action="/admin/users"') :]
    roles = create[create.index('<select id="role"') : create.index("</select>")]
    assert re.findall(r'<option value="(\w+)"', roles) == [
        "department",
        "grid_worker",
        "staff",
        "admin",
    ]
    assert re.findall(r'<option value="(\w+)" selected>', roles) == ["department"]
    assert "A new account starts with the least powerful role, Department" in create
    # Sent as the browser sends it, with the role left as it was.
    untouched = NEW_ACCOUNT | {"role": "department", "grid": "", "department": "Water company"}
    assert "Account liu created." in _post(admin, "/admin/users", "/admin/users", **untouched)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "liu"))
        assert user is not None and (user.role, user.department) == (
            Role.DEPARTMENT,
            "Water company",
        )


def test_an_admin_reactivates_a_closed_account(
    app: Flask, admin: FlaskClient, login: Login
) -> None:
    with app.app_context():
        leaver = make_user("leaver", Role.STAFF, active=False)
        liu = make_user("liu", Role.GRID_WORKER, grid="A1", display_name="Liu Grid", active=False)
    page = admin.get("/admin/users").get_data(as_text=True)
    assert f'action="/admin/users/{leaver}/reactivate"' in page
    assert f'action="/admin/users/{leaver}/deactivate"' not in page
    shown = _post(admin, f"/admin/users/{leaver}/reactivate", "/admin/users")
    assert "Account leaver reactivated: it can sign in again." in shown
    assert f'action="/admin/users/{leaver}/deactivate"' in shown
    assert login("leaver").get("/cases").status_code == 200
    # Or on the account's page, with a new grid, phone, language and password at once.
    form = _edit_form(
        grid="B2", phone="138 0013 8000", language="ko-KR", password="a brand new password"
    )
    assert "Account liu saved." in _post(
        admin, f"/admin/users/{liu}", f"/admin/users/{liu}", **form
    )
    with app.app_context():
        user = db.session.get(User, liu)
        assert user is not None
        assert (user.active, user.grid, user.phone, user.language) == (
            True,
            "B2",
            "+8613800138000",
            "ko-KR",
        )
    assert login("liu", "a brand new password").get("/cases").status_code == 200


def test_only_an_admin_reactivates(app: Flask, login: Login) -> None:
    with app.app_context():
        make_user("li", Role.STAFF)
        leaver = make_user("leaver", Role.STAFF, active=False)
    client = login("li")
    token = csrf_token(client, "/cases")
    response = client.post(f"/admin/users/{leaver}/reactivate", data={"csrf_token": token})
    assert response.status_code == 403
    with app.app_context():
        user = db.session.get(User, leaver)
        assert user is not None and not user.active


def test_admins_see_the_admin_menu(admin: FlaskClient) -> None:
    page = admin.get("/admin/users").get_data(as_text=True)
    assert '<a href="/admin/routing">Admin</a>' in page
    assert 'href="/admin/users" aria-current="page"' in page


def _edit_form(**changes: str) -> dict[str, str]:
    form = {
        "display_name": "Liu Grid",
        "role": "grid_worker",
        "grid": "A1",
        "department": "",
        "language": "zh-CN",
        "phone": "",
        "active": "yes",
        "password": "",
    }
    return {key: value for key, value in (form | changes).items() if value is not None}


def test_an_admin_edits_an_account_and_resets_its_password(
    app: Flask, admin: FlaskClient, login: Login
) -> None:
    with app.app_context():
        liu = make_user("liu", Role.GRID_WORKER, grid="A1", display_name="Liu Grid")
    signed_in_elsewhere = login("liu")
    assert f'href="/admin/users/{liu}">liu</a>' in admin.get("/admin/users").get_data(as_text=True)
    page = admin.get(f"/admin/users/{liu}").get_data(as_text=True)
    assert 'value="Liu Grid"' in page and 'id="edit-user"' in page
    form = _edit_form(
        display_name="Liu Supervisor",
        role="admin",
        grid="",
        language="en-US",
        phone="138 0013 8000",
        password="a brand new password",
    )
    shown = _post(admin, f"/admin/users/{liu}", f"/admin/users/{liu}", **form)
    assert "Account liu saved." in shown
    with app.app_context():
        user = db.session.get(User, liu)
        assert user is not None
        assert (user.display_name, user.role, user.grid, user.language, user.phone) == (
            "Liu Supervisor",
            Role.ADMIN,
            "",
            "en-US",
            "+8613800138000",
        )
    # The new password signs in; the old session ended with the reset.
    assert signed_in_elsewhere.get("/admin/users").status_code == 302
    assert login("liu", "a brand new password").get("/admin/users").status_code == 200
    shown = _post(admin, f"/admin/users/{liu}", f"/admin/users/{liu}", **_edit_form(active=None))
    with app.app_context():
        user = db.session.get(User, liu)
        assert user is not None and not user.active and user.check_password("a brand new password")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"password": "elevenchars"}, "The password needs at least 12 characters."),
        ({"phone": "12345"}, "That phone number is not valid"),
        ({"phone": "+86 138 0000 000"}, "That phone number is not valid"),
        ({"grid": ""}, "A grid worker needs a grid."),
        ({"role": "owner"}, "Choose a role."),
        ({"display_name": "x" * 101}, "Name is too long: at most 100 characters."),
    ],
)
def test_a_bad_edit_is_refused_and_nothing_changes(
    app: Flask, admin: FlaskClient, changes: dict[str, str], message: str
) -> None:
    with app.app_context():
        liu = make_user("liu", Role.GRID_WORKER, grid="A1", display_name="Liu Grid")
    shown = _post(admin, f"/admin/users/{liu}", f"/admin/users/{liu}", **_edit_form(**changes))
    assert message in shown.replace("&#39;", "'") and 'class="flash error"' in shown
    with app.app_context():
        user = db.session.get(User, liu)
        assert user is not None
        assert (user.display_name, user.role, user.grid) == ("Liu Grid", Role.GRID_WORKER, "A1")
        assert user.check_password(PASSWORD)


def test_an_admin_keeps_their_own_access(app: Flask, admin: FlaskClient) -> None:
    with app.app_context():
        me = db.session.scalar(select(User.id).where(User.username == "boss"))
    page = f"/admin/users/{me}"
    mine = _edit_form(display_name="Zhao Admin", role="admin", grid="", language="en-US")
    shown = _post(admin, page, page, **(mine | {"role": "staff"}))
    assert "You cannot take away your own administrator role" in shown
    shown = _post(admin, page, page, **_edit_form(**(mine | {"active": None})))
    assert "You cannot deactivate your own account." in shown
    shown = _post(admin, page, page, **(mine | {"phone": "+8613800138000"}))
    assert "Account boss saved." in shown
    with app.app_context():
        boss = db.session.get(User, me)
        assert boss is not None and boss.role == Role.ADMIN and boss.active
        assert boss.phone == "+8613800138000"


def test_the_cli_and_the_page_refuse_a_weak_password_in_the_same_words(
    app: Flask, admin: FlaskClient, env: dict[str, str]
) -> None:
    from click.testing import CliRunner

    from hotline.cli import main

    shown = _post(admin, "/admin/users", "/admin/users", **(NEW_ACCOUNT | {"password": "short"}))
    cli = CliRunner().invoke(
        main, ["users", "create", "liu", "--role", "staff", "--password", "short"], env=env
    )
    message = "The password needs at least 12 characters."
    assert message in shown and cli.output == f"Error: {message}\n"


def test_a_new_role_signs_the_account_out_everywhere(
    app: Flask, admin: FlaskClient, login: Login
) -> None:
    """A session key that was someone's as a grid worker must not become an admin's."""
    with app.app_context():
        liu = make_user("liu", Role.GRID_WORKER, grid="A1")
    before = login("liu")
    assert before.get("/cases").status_code == 200
    form = _edit_form(role="staff", grid="", password="")
    assert "Account liu saved." in _post(
        admin, f"/admin/users/{liu}", f"/admin/users/{liu}", **form
    )
    gone = before.get("/cases")
    assert gone.status_code == 302 and "/login" in gone.headers["Location"]
    assert login("liu").get("/cases").status_code == 200


def test_an_admin_who_changes_their_own_password_goes_on_under_a_new_key(
    app: Flask, admin: FlaskClient, login: Login
) -> None:
    with app.app_context():
        me = db.session.scalar(select(User.id).where(User.username == "boss"))
    elsewhere = login("boss")
    old_key = admin.get_cookie("hotline_session")
    assert old_key is not None
    page = f"/admin/users/{me}"
    form = _edit_form(display_name="Zhao Admin", role="admin", grid="", language="en-US")
    shown = _post(admin, page, page, **(form | {"password": "a brand new password"}))
    assert "Account boss saved." in shown  # still signed in, in this browser
    new_key = admin.get_cookie("hotline_session")
    assert new_key is not None and new_key.value != old_key.value
    for stale in (elsewhere, _browser_with(app, old_key.value)):
        gone = stale.get("/admin/users")
        assert gone.status_code == 302 and "/login" in gone.headers["Location"]


def _browser_with(app: Flask, key: str) -> FlaskClient:
    browser = app.test_client()
    browser.set_cookie("hotline_session", key)
    return browser
