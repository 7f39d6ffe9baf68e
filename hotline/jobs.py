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
* `@periodic(seconds)` declares a beat job next to the code it runs; `beat_schedule()` gathers
  them. Each run holds a lock in the database (`job_locks`), so a second beat started by
  mistake, or a slow run overlapping the next tick, never runs a job twice at once.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ParamSpec, TypeVar

from celery import Task, shared_task
from flask import current_app, has_app_context
from flask_sqlalchemy.session import Session
from sqlalchemy import Executable, String, event, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, ORMExecuteState, SessionTransaction, mapped_column

from hotline.db import Base, UTCDateTime, db, moved_one_row, utcnow

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")

_PENDING = "hotline.tasks_after_commit"
_WROTE = "hotline.wrote"


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
    """Runs in the Flask app's context; publishes after the caller's transaction commits."""

    flask_app: Any = None  # set by hotline.celery_app.celery_init_app

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with self.flask_app.app_context():
            return self.run(*args, **kwargs)

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
    """Who runs a periodic job now, and until when at most (a killed worker's lock expires)."""

    __tablename__ = "job_locks"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64), default="")
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


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


def release_lock(name: str, token: str) -> None:
    db.session.rollback()  # whatever the job left unfinished is not ours to commit
    db.session.execute(
        update(JobLock)
        .where(JobLock.name == name, JobLock.holder == token)
        .values(holder="", expires_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


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
            token = acquire_lock(name, lock_for)
            if token is None:
                log.info("%s is already running elsewhere: this run skipped", name)
                return None
            try:
                return function(*args, **kwargs)
            finally:
                release_lock(name, token)

        return shared_task(name=name)(run_once)

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
