"""Webhooks the database could not take, kept on this machine's disk until it can.

While the database does not answer, the phone line still answers Twilio (ivr.degraded), and so
does the text line (sms.degraded); what Twilio told them that must not be lost (a recording,
the emergency key, a survey answer, a resident's text) is kept here (`on_database_error`): one
file per webhook in `$HOTLINE_DATA_DIR/spool/`, its path and form fields as JSON. Each is
written under a temporary name, fsynced, renamed and its directory fsynced, so a file holds a
whole webhook or does not exist, and web processes never share a file.

`replay` sends each file, oldest first, through the app again as Twilio's request would go
(signed with the carrier's token), so the webhook's own code stores it, knowing when it first
came (`received_at`); what was stored is deleted. Every webhook kept here is idempotent (a
RecordingSid is stored once, a call has one emergency case, a survey one answer, a MessageSid
one text), so a file replayed twice, after a crash between storing and deleting it, adds
nothing. While the database does not answer the pass stops and the files wait; a file that
cannot be read, or that the app refuses, is moved to `spool/set-aside/` and logged, and never
blocks the rest.

Each web process replays its machine's spool every REPLAY_EVERY_S in a background thread
(`start_replayer`, called by `hotline web` and `hotline run`), one process at a time (a lock
file); `hotline spool replay` does one pass by hand.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, request
from sqlalchemy.exc import SQLAlchemyError
from twilio.request_validator import RequestValidator
from werkzeug.test import EnvironBuilder

from hotline.config import Settings
from hotline.db import db, describe, unreachable
from hotline.settings import EXTENSION_KEY as SETTINGS_KEY
from hotline.settings import current_settings
from hotline.telephony import current_telephony

log = logging.getLogger(__name__)
REPLAY_EVERY_S = 15
# In a replayed request's WSGI environ (no header sets them): that it is one, and when the
# webhook first came.
REPLAYING = "hotline.spool.replaying"
RECEIVED_AT = "hotline.spool.received_at"
SUFFIX = ".json"
SET_ASIDE = "set-aside"


@dataclass(frozen=True)
class Webhook:
    """What is kept of a request: enough to make it again. No headers, so no signature."""

    path: str
    query: str
    form: dict[str, str]
    received_at: str = ""

    @classmethod
    def of_request(cls) -> Webhook:
        return cls(
            path=request.path,
            query=request.query_string.decode(),
            form=request.form.to_dict(),
            received_at=datetime.now(UTC).isoformat(),
        )


@dataclass
class Replay:
    """What one pass did: stored (and deleted), set aside, still waiting for the database."""

    stored: int = 0
    set_aside: int = 0
    waiting: int = 0


def spool_dir(data_dir: Path) -> Path:
    return data_dir / "spool"


def replaying() -> bool:
    """Whether the current request is a replay from the spool (never a request from outside)."""
    return bool(request.environ.get(REPLAYING))


def received_at() -> datetime | None:
    """When the replayed request first came (None for a live request, or an old file)."""
    kept = request.environ.get(RECEIVED_AT) if replaying() else None
    try:
        moment = datetime.fromisoformat(kept) if kept else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


# ------------------------------------------------------------------ keeping
def keep(data_dir: Path, webhook: Webhook) -> Path:
    """Write the webhook durably; returns its file. Raises OSError if the disk refuses."""
    folder = spool_dir(data_dir)
    _make_dir(folder)
    name = f"{time.time_ns():020d}-{os.getpid()}-{secrets.token_hex(4)}{SUFFIX}"
    temporary = folder / f"{name}.tmp"  # not *.json: a replay never reads a half-written file
    data = json.dumps(asdict(webhook), ensure_ascii=False).encode()
    with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    path = folder / name
    os.replace(temporary, path)
    _fsync_dir(folder)  # the rename itself survives a power cut
    return path


def _make_dir(folder: Path) -> None:
    if folder.is_dir():
        return
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    _fsync_dir(folder.parent)


def _fsync_dir(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def waiting(data_dir: Path) -> list[Path]:
    """The kept webhooks not stored yet, oldest first."""
    folder = spool_dir(data_dir)
    return sorted(folder.glob(f"*{SUFFIX}")) if folder.is_dir() else []


def set_aside_files(data_dir: Path) -> list[Path]:
    """The kept webhooks the hotline could not store, for whoever runs it to look at."""
    folder = spool_dir(data_dir) / SET_ASIDE
    return sorted(folder.glob(f"*{SUFFIX}")) if folder.is_dir() else []


# ------------------------------------------------------------------ a webhook's database error
def on_database_error(error: SQLAlchemyError, must_keep: bool) -> bool:
    """What a webhook does first on a database error: keep the request in the spool if its news
    must not be lost. False if it had to be kept and could not be.

    A replay from the spool meets the error again instead: the replay decides whether to wait
    for the database or set the file aside."""
    if replaying():
        raise error
    _roll_back()
    level = logging.WARNING if unreachable(error) else logging.ERROR
    log.log(level, "%s answered without the database: %s", request.path, describe(error))
    if not must_keep:
        return True
    try:
        keep(current_settings().data_dir, Webhook.of_request())
    except OSError:
        log.exception("could not keep %s in the spool: what it said is lost", request.path)
        return False
    return True


def _roll_back() -> None:
    try:
        db.session.rollback()
    except SQLAlchemyError:  # the connection is gone; the session is discarded at teardown
        log.debug("rollback after a database error failed too", exc_info=True)


# ------------------------------------------------------------------ replaying
class _NotNow(Exception):
    """The database does not answer yet (or webhooks cannot be signed): keep the rest."""


class _Refused(Exception):
    """The file is not a webhook, or the app will never take it: set it aside."""


def replay(app: Flask) -> Replay:
    """Store every kept webhook the database now takes (one pass; see the module's doc)."""
    settings: Settings = app.extensions[SETTINGS_KEY]
    files = waiting(settings.data_dir)
    result = Replay()
    if not files:
        return result
    with _replay_lock(spool_dir(settings.data_dir)) as mine:
        if not mine:
            return result  # another web process on this machine is replaying
        for index, path in enumerate(files):
            try:
                _replay_file(app, path)
            except _NotNow as why:
                result.waiting = len(files) - index
                log.warning("%d webhooks wait in the spool: %s", result.waiting, why)
                break
            except _Refused as refusal:
                _set_aside(path, str(refusal))
                result.set_aside += 1
                continue
            path.unlink()
            result.stored += 1
    if result.stored:
        log.info("stored %d webhooks from the spool", result.stored)
    return result


def _replay_file(app: Flask, path: Path) -> None:
    try:
        webhook = _read(path)
    except (OSError, ValueError, TypeError, KeyError) as error:
        raise _Refused(f"unreadable: {error}") from error
    try:
        status = _dispatch(app, webhook)
    except SQLAlchemyError as error:
        if unreachable(error):
            raise _NotNow("the database does not answer") from error
        raise _Refused(f"the database refused it: {describe(error)}") from error
    except _NotNow:
        raise
    except Exception as error:
        log.exception("replaying %s from the spool failed", webhook.path)
        raise _Refused(f"failed: {describe(error)}") from error
    if not 200 <= status < 300:
        raise _Refused(f"answered {status}")


def _read(path: Path) -> Webhook:
    record: Mapping[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    form = record["form"]
    if not isinstance(form, dict) or not all(isinstance(v, str) for v in form.values()):
        raise ValueError("form is not a mapping of strings")
    webhook_path = str(record["path"])
    if not webhook_path.startswith("/"):
        raise ValueError("path is not an absolute path")
    return Webhook(webhook_path, str(record.get("query", "")), form, str(record["received_at"]))


def _dispatch(app: Flask, webhook: Webhook) -> int:
    """The webhook through the app, exactly as Twilio's request would go; its status code.

    Each in a request context of its own, so each has its own database session, as a request
    from Twilio would."""
    builder = EnvironBuilder(
        path=webhook.path,
        query_string=webhook.query,
        method="POST",
        data=webhook.form,
        headers=[("X-Twilio-Signature", _signature(app, webhook))],
        environ_overrides={REPLAYING: True, RECEIVED_AT: webhook.received_at},
    )
    try:
        with app.request_context(builder.get_environ()):
            return app.full_dispatch_request().status_code
    finally:
        builder.close()


def _signature(app: Flask, webhook: Webhook) -> str:
    """Signed as Twilio signs, with the carrier's token, so the webhook's check passes."""
    with app.app_context():
        token = current_telephony().webhook_auth_token
        url = current_settings().public_url + webhook.path
    if not token:
        raise _NotNow("no auth token to sign them with (TWILIO_AUTH_TOKEN)")
    url += f"?{webhook.query}" if webhook.query else ""
    return str(RequestValidator(token).compute_signature(url, webhook.form))


def _set_aside(path: Path, reason: str) -> None:
    """Out of the way, kept for whoever runs the hotline (who may move it back to retry)."""
    folder = path.parent / SET_ASIDE
    folder.mkdir(mode=0o700, exist_ok=True)
    os.replace(path, folder / path.name)
    log.error("spooled webhook %s set aside in %s: %s", path.name, folder, reason)


@contextmanager
def _replay_lock(folder: Path) -> Iterator[bool]:
    """One replayer per machine at a time: True if this process holds the lock."""
    with open(folder / ".replay.lock", "a") as lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def start_replayer(app: Flask, every_s: float = REPLAY_EVERY_S) -> threading.Thread:
    """Replay this machine's spool now and every `every_s` seconds, in a daemon thread."""

    def replay_forever() -> None:
        while True:
            try:
                replay(app)
            except Exception:  # a bad pass must not end the thread: the next one may do
                log.exception("replaying the spool failed")
            time.sleep(every_s)

    thread = threading.Thread(target=replay_forever, name="spool-replayer", daemon=True)
    thread.start()
    return thread
