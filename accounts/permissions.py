"""What an account may do beyond cases (who may see which case: cases.permissions)."""

from __future__ import annotations

from accounts.models import Role, User


def can_manage(user: User) -> bool:
    """Accounts, routing rules, imports: admins only."""
    return user.role == Role.ADMIN
