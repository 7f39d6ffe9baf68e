"""Staff accounts and their server-side sessions."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from hotline.db import Base, UTCDateTime, enum_column, utcnow


class Role(enum.StrEnum):
    ADMIN = "admin"  # everything, including accounts; the supervisor escalations go to
    STAFF = "staff"  # every case
    GRID_WORKER = "grid_worker"  # the cases of their grid
    DEPARTMENT = "department"  # the cases assigned to them


# Least powerful first: the admin page lists roles in this order and a new account starts
# with the first, so that forgetting to choose never makes an administrator.
ROLES_BY_POWER = (Role.DEPARTMENT, Role.GRID_WORKER, Role.STAFF, Role.ADMIN)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    grid: Mapped[str] = mapped_column(String(50), default="")  # for grid workers
    department: Mapped[str] = mapped_column(String(100), default="")  # for departments
    language: Mapped[str] = mapped_column(String(10), default="zh-CN")
    phone: Mapped[str] = mapped_column(String(20), default="")
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Flask-Login's user protocol
    is_anonymous = False

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return str(self.id)

    @property
    def name(self) -> str:
        return self.display_name or self.username

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


class WebSession(Base):
    """A browser session kept on the server; the cookie holds only a random key."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
