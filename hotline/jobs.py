"""Celery tasks, the hotline's way: in an app context, published after commit, periodic with a lock.

* `HotlineTask` is every task's base class. It runs each task inside an app context (a
  database session per task, closed at its end, as for a request), and its `delay()` /
  `apply_async()` called while the database session holds uncommitted writes does not publish
  at once: the task is published when that transaction commits, and never if it rolls back.
  A worker can therefore never look for a row that is not committed yet, and a rolled-back
  request leaves no task behind. Called outside a writing transaction, it publishes at once.
* A publish that fails after the commit (the broker is down) is logged, not raised: the data
  is committed, and every job keeps its state in the database where a periodic sweep finds it
  again (the outbox, the dispatcher, stalled recordings).
* A task that meets a database error (the server restarting, a connection cut, SQLite busy)
  is retried after 1, 2, 4 ... 30 s, for about two minutes; after that the database sweeps
  re-send it, as they do every lost task. Every task is idempotent, so a retry is harmless.
* `@periodic(seconds)` declares a beat job next to the code it runs; `beat_schedule()` gathers
  them. Each run holds a lock in the database (`job_locks`), so a second beat started by
  mistake, or a slow run overlapping the next tick, never runs a job twice at once. A periodic
  job is not retried: its next tick is its retry.
* `heartbeat(beat, every, at_most)` calls `beat` from a thread while a long step runs, so a
  task can keep a lease on its row alive and a lapsed lease means its worker died.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ParamSpec, TypeVar

from celery import Task, shared_task
from flask import current_app, has_app_context
from flask_sqlalchemy.session import Session
from sqlalchemy import Executable, String, event, select, update
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Mapped, ORMExecuteState, SessionTransaction, mapped_column

from hotline.clock import now
from hotline.db import Base, UTCDateTime, db, moved_one_row, utcnow

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")

_PENDING = "hotline.tasks_after_commit"
_WROTE = "hotline.wrote"
# What a database that is restarting, unreachable or busy raises; worth trying again.
DATABASE_ERRORS = (OperationalError, InterfaceError)
DATABASE_RETRIES = 8  # 1 + 2 + 4 + 8 + 16 + 30 + 30 + 30 s: about two minutes
DATABASE_BACKOFF_MAX_S = 30


# ------------------------------------------------------------------ publish after commit
@dataclass(frozen=True)
class _Deferred:
    task: HotlineTask
    args: tuple[Any, ...] | None
    kwargs: dict[str, Any] | None
    options: dict[str, Any]
    undo: Executable | None = None  # gives a claimed row back if the publish fails

    def publish(self) -> None:
        try:
            if self.kwargs or self.options:
                Task.apply_async(self.task, self.args, self.kwargs, **self.options)
            else:
                self.task.delay(*(self.args or ()))  # nothing pending now: goes straight out
        except Exception:
            log.exception("could not publish %s%s", self.task.name, self.args)
            self.give_back()

    def give_back(self) -> None:
        """Undo the claim at once, so the next sweep retries it; if that fails too, the stale
        sweep finds the row later."""
        if self.undo is None:
            return
        try:
            with db.engine.begin() as connection:  # the session may not be used after commit
                connection.execute(self.undo)
        except Exception:
            log.exception("could not give back the claim of %s%s", self.task.name, self.args)


class HotlineTask(Task):
    """Runs in the Flask app's context; publishes after the caller's transaction commits;
    tries again after a database error."""

    flask_app: Any = None  # set by hotline.celery_app.celery_init_app
    retry_on_database_errors = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with self.flask_app.app_context():
            try:
                return self.run(*args, **kwargs)
            except DATABASE_ERRORS as error:
                if not self.retry_on_database_errors:
                    raise
                # The session's transaction died with its connection: drop it, so that the
                # retry is published now (not "after a commit" that will never come).
                db.session.remove()
                log.warning("%s met a database error, will retry: %s", self.name, error)
                raise self.retry(
                    exc=error,
                    countdown=database_backoff(self.request.retries),
                    max_retries=DATABASE_RETRIES,
                ) from error

    def apply_async(
        self,
        args: tuple[Any, ...] | None = None,
        kwargs: dict[str, Any] | None = None,
        **options: Any,
    ) -> Any:
        session = _writing_session()
        if session is None:
            return super().apply_async(args, kwargs, **options)
        session.info.setdefault(_PENDING, []).append(_Deferred(self, args, kwargs, options))
        return None


def database_backoff(retries: int) -> int:
    """Seconds before retry number `retries` + 1 after a database error."""
    return int(min(DATABASE_BACKOFF_MAX_S, 2**retries))


def _writing_session() -> Session | None:
    """The app's database session, if it holds writes that are not committed yet."""
    if not has_app_context():
        return None
    session = db.session()
    if not session.in_transaction():
        return None
    if session.new or session.dirty or session.deleted or session.info.get(_WROTE):
        return session
    return None


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _context: Any) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


@event.listens_for(Session, "after_commit")
def _publish_deferred(session: Session) -> None:
    deferred: list[_Deferred] = session.info.pop(_PENDING, [])
    session.info.pop(_WROTE, None)
    for item in deferred:
        item.publish()


@event.listens_for(Session, "after_transaction_end")
def _forget_rolled_back(session: Session, transaction: SessionTransaction) -> None:
    """The outermost transaction ended without a commit: its tasks are never published."""
    if transaction.parent is not None:
        return
    dropped = session.info.pop(_PENDING, [])
    session.info.pop(_WROTE, None)
    if dropped:
        log.debug("not published, the transaction rolled back: %s", [d.task.name for d in dropped])


# ------------------------------------------------------------------ periodic jobs, locked
_SCHEDULE: dict[str, float] = {}


class JobLock(Base):
    """Who runs a periodic job now, and until when at most (a killed worker's lock expires);
    and when its last run that went to the end began."""

    __tablename__ = "job_locks"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64), default="")
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    succeeded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def acquire_lock(name: str, ttl: timedelta) -> str | None:
    """Take the named lock if it is free (or expired); returns the holder's token, or None."""
    _ensure_lock_row(name)
    token = uuid.uuid4().hex
    moment = utcnow()
    taken = moved_one_row(
        update(JobLock)
        .where(JobLock.name == name, JobLock.expires_at <= moment)
        .values(holder=token, expires_at=moment + ttl)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return token if taken else None


def release_lock(name: str, token: str, succeeded_at: datetime | None = None) -> None:
    """Free the lock; `succeeded_at`: the run went to its end, having begun then."""
    db.session.rollback()  # whatever the job left unfinished is not ours to commit
    done = {"succeeded_at": succeeded_at} if succeeded_at is not None else {}
    db.session.execute(
        update(JobLock)
        .where(JobLock.name == name, JobLock.holder == token)
        .values(holder="", expires_at=utcnow(), **done)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def last_success(name: str) -> datetime | None:
    """When the last run of the named periodic job that went to its end began."""
    return db.session.scalar(select(JobLock.succeeded_at).where(JobLock.name == name))


def _ensure_lock_row(name: str) -> None:
    if db.session.get(JobLock, name) is not None:
        return
    try:
        db.session.add(JobLock(name=name, holder="", expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    except IntegrityError:  # another process inserted it first: the same row for both
        db.session.rollback()


def periodic(
    every_seconds: float, lock_for: timedelta = timedelta(minutes=10)
) -> Callable[[Callable[P, R]], Any]:
    """Declare a beat job: a task named after its function, run every `every_seconds`, one run
    at a time across every worker. A run that finds the lock held returns None and does nothing.
    `lock_for` bounds how long a run may take before its lock is considered abandoned."""

    def decorate(function: Callable[P, R]) -> Any:
        name = f"{function.__module__}.{function.__name__}"
        _SCHEDULE[name] = every_seconds

        @functools.wraps(function)
        def run_once(*args: P.args, **kwargs: P.kwargs) -> R | None:
            began = now()
            token = acquire_lock(name, lock_for)
            if token is None:
                log.info("%s is already running elsewhere: this run skipped", name)
                return None
            succeeded = None
            try:
                result = function(*args, **kwargs)
                succeeded = began
                return result
            finally:
                release_lock(name, token, succeeded)

        return shared_task(name=name, retry_on_database_errors=False)(run_once)

    return decorate


def beat_schedule() -> dict[str, dict[str, Any]]:
    """Every job declared with @periodic, for Celery beat."""
    return {name: {"task": name, "schedule": every} for name, every in _SCHEDULE.items()}


def publish(task_name: str, *args: Any, undo: Executable | None = None) -> None:
    """`delay()` by name (after commit, as above), for domain code that the task modules import:
    naming the task instead of importing it keeps dependencies running one way.

    `undo` is a statement that gives back what the caller claimed for this task (a row marked
    as queued); it runs, in its own transaction, only if publishing fails.
    """
    task = current_app.extensions["celery"].tasks[task_name]
    deferred = _Deferred(task, args, None, {}, undo)
    session = _writing_session()
    if session is None:
        deferred.publish()
    else:
        session.info.setdefault(_PENDING, []).append(deferred)


# ------------------------------------------------------------------ keeping a lease alive
@contextmanager
def heartbeat(beat: Callable[[], bool], every: float, at_most: float) -> Iterator[None]:
    """Call `beat` every `every` seconds from a thread, in this app's context, while the block
    runs; for `at_most` seconds at most (a step that hangs lets its lease lapse), and until
    `beat` returns False (the lease is no longer ours). A beat that fails is logged: the next
    one tries again, and if none gets through the lease lapses, as it should."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    stop = threading.Event()

    def run() -> None:
        give_up = time.monotonic() + at_most
        while not stop.wait(every) and time.monotonic() < give_up:
            with app.app_context():
                try:
                    if not beat():
                        return
                except Exception:
                    log.exception("heartbeat %s failed", getattr(beat, "__name__", beat))

    thread = threading.Thread(target=run, name="heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
