"""What the local line would have sent: one row per call placed and per text sent."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base, UTCDateTime, enum_column, utcnow


class EntryKind(enum.StrEnum):
    CALL = "call"
    TEXT = "text"


class LocalLineEntry(Base):
    """A call or text of the embedded default's local line; nothing reached a phone."""

    __tablename__ = "local_line_entries"
    # Reconciliation asks "what went to this number since then?", as it asks Twilio.
    __table_args__ = (Index("ix_local_line_entries_to_created", "to_phone", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[EntryKind] = mapped_column(enum_column(EntryKind))
    sid: Mapped[str] = mapped_column(String(34), unique=True)  # SM… or CA…, as Twilio's
    to_phone: Mapped[str] = mapped_column(String(32))
    from_phone: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text, default="")  # a text's words
    url: Mapped[str] = mapped_column(String(500), default="")  # a call's TwiML URL
    status_callback: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(20))  # sent; no-answer or completed for calls
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
