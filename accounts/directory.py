"""Who the hotline tells: supervisors and grid workers with a phone to text."""

from __future__ import annotations

from sqlalchemy import select

from accounts.models import Role, User
from hotline.db import db


def supervisors() -> list[User]:
    """Every active administrator with a phone number: escalations and alerts go to them."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.role == Role.ADMIN, User.active.is_(True), User.phone != "")
            .order_by(User.id)
        )
    )


def grid_workers(grid: str) -> list[User]:
    """The active grid workers of a grid who have a phone (visit tasks go to them)."""
    if not grid:
        return []
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.role == Role.GRID_WORKER,
                User.grid == grid,
                User.active.is_(True),
                User.phone != "",
            )
            .order_by(User.id)
        )
    )
