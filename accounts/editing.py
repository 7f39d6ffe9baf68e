"""Making and changing staff accounts: one set of rules for `hotline users` and the admin pages.

Every change is checked whole before anything is set, so a refusal leaves the account as it
was; the refusal names what is wrong in the reader's language (`message`) and in English
(`str(error)`, for the command line).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from accounts.models import Role, User
from accounts.sessions import end_sessions_of
from hotline.db import db
from hotline.i18n import FALLBACK, LOCALES, Message, staff_message
from hotline.phones import NotAPhoneNumber, normalise_phone, region_of_locale
from hotline.settings import current_settings

MIN_PASSWORD = 12
LIMITS = {"username": 50, "display_name": 100, "grid": 50, "department": 100}
ENDS_SESSIONS = frozenset({"password", "role", "active"})  # changes that sign the account out


class AccountRefused(ValueError):
    """The account was not made or changed; `message` says why in any language."""

    def __init__(self, key: str, **values: Any) -> None:
        self.message = Message(key, values)
        super().__init__(staff_message(FALLBACK, self.message))


@dataclass(frozen=True)
class AccountChanges:
    """What to set on an account; None leaves a field as it is (phone "" clears it)."""

    display_name: str | None = None
    role: str | None = None
    grid: str | None = None
    department: str | None = None
    language: str | None = None
    phone: str | None = None
    active: bool | None = None
    password: str | None = None


def check_password(password: str) -> None:
    """The one password rule, for the command line and the pages alike."""
    if len(password) < MIN_PASSWORD:
        raise AccountRefused("admin.error.short_password", minimum=MIN_PASSWORD)


def _text(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    text = value.strip()
    if len(text) > LIMITS[name]:
        raise AccountRefused(
            "admin.error.too_long", field=Message(f"admin.{name}"), limit=LIMITS[name]
        )
    return text


def _phone(typed: str | None) -> str | None:
    if typed is None:
        return None
    if not typed.strip():
        return ""  # no phone: no escalation texts
    try:
        return normalise_phone(typed, region_of_locale(current_settings().default_locale))
    except NotAPhoneNumber:
        raise AccountRefused("admin.error.bad_phone") from None


def _role(value: str | None) -> Role | None:
    if value is None:
        return None
    if value not in {role.value for role in Role}:
        raise AccountRefused("admin.error.bad_role")
    return Role(value)


def _checked(changes: AccountChanges) -> dict[str, Any]:
    """The changes as clean values, only those given; the first problem is refused."""
    if changes.language is not None and changes.language not in LOCALES:
        raise AccountRefused("admin.error.bad_language")
    if changes.password is not None:
        check_password(changes.password)
    values = {
        "display_name": _text(changes.display_name, "display_name"),
        "role": _role(changes.role),
        "grid": _text(changes.grid, "grid"),
        "department": _text(changes.department, "department"),
        "language": changes.language,
        "phone": _phone(changes.phone),
        "active": changes.active,
    }
    return {name: value for name, value in values.items() if value is not None}


def _check_role_needs(role: Role, grid: str, department: str) -> None:
    """A grid worker sees their grid's cases and a department its own: both need the name."""
    if role == Role.GRID_WORKER and not grid:
        raise AccountRefused("admin.error.grid_required")
    if role == Role.DEPARTMENT and not department:
        raise AccountRefused("admin.error.department_required")


def apply_changes(user: User, changes: AccountChanges) -> list[str]:
    """Set what `changes` gives; the names of the fields that changed (never their values).

    A new password, a new role or a deactivation signs the account out everywhere (the caller
    commits): no session key outlives a change of what the account may do.
    """
    values = _checked(changes)
    after = {name: values.get(name, getattr(user, name)) for name in ("role", "grid", "department")}
    _check_role_needs(after["role"], after["grid"], after["department"])
    changed = sorted(name for name, value in values.items() if getattr(user, name) != value)
    for name in changed:
        setattr(user, name, values[name])
    if changes.password is not None:
        user.set_password(changes.password)
        changed.append("password")
    if user.id is not None and ENDS_SESSIONS.intersection(changed):
        end_sessions_of(user.id)
    return changed


def new_account(username: str, changes: AccountChanges) -> User:
    """A new account (not yet added to the session); role and password are required."""
    name = _text(username, "username") or ""
    if not name or any(char.isspace() for char in name):
        raise AccountRefused("admin.error.username_required")
    if db.session.scalar(select(User.id).where(User.username == name)) is not None:
        raise AccountRefused("admin.error.username_taken", username=name)
    if changes.role is None:
        raise AccountRefused("admin.error.bad_role")
    if changes.password is None:
        raise AccountRefused("admin.error.short_password", minimum=MIN_PASSWORD)
    user = User(
        username=name,
        display_name="",
        grid="",
        department="",
        phone="",
        language="zh-CN",
        active=True,
    )
    apply_changes(user, changes)
    return user
