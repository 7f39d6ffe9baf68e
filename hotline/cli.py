"""The `hotline` command: run the whole thing, or each process on its own, and admin chores."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from flask import Flask

from accounts.editing import AccountChanges, AccountRefused, apply_changes, new_account
from accounts.models import Role, User
from cases.api_tokens import create_token
from cases.recordings import queue_transcription, start_over
from cases.residents_import import COLUMNS, import_residents
from cases.services import case_by_number
from hotline import migrate, spool
from hotline.app import create_app
from hotline.config import Settings
from hotline.db import db
from hotline.i18n import FALLBACK, LOCALES, staff_text
from hotline.server import serve
from hotline.simulate import simulate
from setup_check import (
    EVERY_CHECK,
    NETWORK,
    OFFLINE,
    Finding,
    Severity,
    blocks_calls,
    findings,
    in_words,
    twilio_credentials,
)
from setup_check.checks import Check
from speech.cli import speech_group

CELERY_APP = "hotline.worker"
LISTENING_WAIT_S = 30  # how long the start-up's network checks wait for the web to listen
log = logging.getLogger("hotline.setup_check")


@contextmanager
def _app_context() -> Iterator[Flask]:
    """An app context for one command; its database connections are closed at the end."""

    app = create_app()
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


def _celery(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", CELERY_APP, *args]


@click.group()
def main() -> None:
    """A phone and text hotline for elderly residents."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--processes", default=2, show_default=True, type=int, help="web processes")
@click.option("--threads", default=8, show_default=True, type=int, help="threads per process")
def run(host: str, port: int, processes: int, threads: int) -> None:
    """Everything on one machine: migrate, then web, worker and beat together."""
    settings = Settings.from_env()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    _migrate(settings)
    _log_setup_check(OFFLINE)
    _log_setup_check_when_listening(host, port)
    worker = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        _celery("worker", "--beat", "-Q", "celery,speech", "--loglevel", "INFO")
    )
    stopping = threading.Event()
    threading.Thread(target=_exit_with, args=(worker, stopping), daemon=True).start()
    try:
        _serve(host, port, processes, threads)
    finally:
        stopping.set()
        _stop_worker(worker)


def _stop_worker(worker: subprocess.Popen[bytes], grace_s: float = 30) -> None:
    """A warm shutdown lets running tasks finish; one still busy after `grace_s` is killed
    rather than left running without its web app (its recording is re-queued by the sweep)."""
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def _exit_with(worker: subprocess.Popen[bytes], stopping: threading.Event) -> None:
    """A web app without its worker would take messages nobody transcribes: stop loudly."""
    code = worker.wait()
    if not stopping.is_set():
        click.echo(f"the Celery worker exited with code {code}; stopping the hotline", err=True)
        os.kill(os.getpid(), signal.SIGTERM)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--processes", default=2, show_default=True, type=int, help="web processes")
@click.option("--threads", default=8, show_default=True, type=int, help="threads per process")
def web(host: str, port: int, processes: int, threads: int) -> None:
    """The web app alone (webhooks, API, staff pages)."""
    _log_setup_check(OFFLINE)
    _log_setup_check_when_listening(host, port)
    _serve(host, port, processes, threads)


def _serve(host: str, port: int, processes: int, threads: int) -> None:
    click.echo(f"hotline listening on http://{host}:{port}")
    serve(host, port, processes, threads)


@main.command(context_settings={"ignore_unknown_options": True})
@click.option("--queues", "-Q", default="celery,speech", show_default=True)
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
def worker(queues: str, celery_args: tuple[str, ...]) -> None:
    """A Celery worker; use `-Q speech` for a transcription-only machine."""
    # Twilio is asked too (a few seconds at most): the worker is what calls its REST API.
    _log_setup_check((*OFFLINE, twilio_credentials))
    command = _celery("worker", "-Q", queues, "--loglevel", "INFO", *celery_args)
    os.execv(sys.executable, command)  # noqa: S606 - replace this process with Celery's


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
def beat(celery_args: tuple[str, ...]) -> None:
    """The scheduler: exactly one per deployment."""
    os.execv(sys.executable, _celery("beat", "--loglevel", "INFO", *celery_args))  # noqa: S606


# -- the set-up check ------------------------------------------------------------------------


@main.command()
@click.option("--offline", is_flag=True, help="Do not ask Twilio or fetch the public URL.")
def check(offline: bool) -> None:
    """What keeps this install from taking calls, and what to do about it.

    Exit status 1 when something blocks calls: Twilio's credentials unset or rejected, Twilio
    told to call a local address, or a database that cannot be read. Warnings exit with 0.
    """
    with _app_context():
        found = findings(OFFLINE if offline else EVERY_CHECK)
    for finding in found:
        click.echo(f"[{_label(finding)}] {in_words(finding)}")
    if not found:
        click.echo(staff_text(FALLBACK, "setup.cli_all_clear"))
        return
    blocking = sum(finding.severity == Severity.BLOCKING for finding in found)
    summary = staff_text(
        FALLBACK, "setup.cli_summary", blocking=blocking, warnings=len(found) - blocking
    )
    click.echo(summary)
    if blocks_calls(found):
        raise SystemExit(1)


def _label(finding: Finding) -> str:
    return staff_text(FALLBACK, f"setup.{finding.severity.value}")


def _log_setup_check(checks: tuple[Check, ...]) -> None:
    """Log what the set-up check finds, as warnings; a start never fails because of it."""
    if not logging.getLogger().handlers:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        with _app_context():
            found = findings(checks)
    except Exception:  # the check is advice: the process starts anyway, and says why not
        log.exception("the set-up check could not run")
        return
    for finding in found:
        blocking = finding.severity == Severity.BLOCKING
        log.warning("%s%s", f"{_label(finding)}: " if blocking else "", in_words(finding))


def _log_setup_check_when_listening(host: str, port: int) -> None:
    """Ask Twilio and fetch the public URL in the background, once the web listens (the
    public URL is this server, which is not listening yet)."""

    def when_listening() -> None:
        if _listening(host, port, LISTENING_WAIT_S):
            _log_setup_check(NETWORK)

    threading.Thread(target=when_listening, name="setup-check", daemon=True).start()


def _listening(host: str, port: int, seconds: float) -> bool:
    address = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104 - compared only
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection((address, port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.5)
    return False


@main.group("db")
def db_commands() -> None:
    """Database schema."""


def _migrate(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)  # the embedded default's database
    migrate.upgrade(settings.database_url)


@db_commands.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema up to date."""
    _migrate(Settings.from_env())
    click.echo("database is up to date")


@main.group()
def tokens() -> None:
    """API tokens."""


@tokens.command("create")
@click.option("--name", required=True, help="Who or what will use the token.")
@click.option("--user", "username", default=None, help="Act with this staff account's permissions.")
def tokens_create(name: str, username: str | None) -> None:
    """Make an API token; it is printed once, as the last line, and stored only hashed."""

    with _app_context():
        user = None
        if username:
            user = db.session.scalar(db.select(User).where(User.username == username))
            if user is None:
                raise click.ClickException(f"no user {username}")
        token = create_token(name, user.id if user else None)
    click.echo(f"API token for {name} (shown once; keep it secret):")
    click.echo(token)


@main.group()
def users() -> None:
    """Staff accounts."""


ROLES = click.Choice([role.value for role in Role])
LANGUAGES = click.Choice(list(LOCALES))


def _save_account(change: Callable[[], User]) -> User:
    """Make or change an account with the admin pages' rules; a refusal is the command's error."""
    try:
        user = change()
    except AccountRefused as refusal:
        db.session.rollback()
        raise click.ClickException(str(refusal)) from None
    db.session.add(user)
    db.session.commit()
    return user


@users.command("create")
@click.argument("username")
@click.option("--role", type=ROLES, required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", "display_name", default="", help="Name shown to colleagues.")
@click.option("--grid", default="", help="The grid a grid worker looks after.")
@click.option("--department", default="", help="The department's name.")
@click.option("--language", type=LANGUAGES, default="zh-CN")
@click.option("--phone", default="", help="Mobile number: admins with one get escalation texts.")
def users_create(
    username: str,
    role: str,
    password: str,
    display_name: str,
    grid: str,
    department: str,
    language: str,
    phone: str,
) -> None:
    """Make a staff account (the first one: --role admin --phone +86...)."""
    changes = AccountChanges(
        display_name=display_name,
        role=role,
        grid=grid,
        department=department,
        language=language,
        phone=phone,
        password=password,
    )
    with _app_context():
        _save_account(lambda: new_account(username, changes))
    click.echo(f"created {role} {username}")


@users.command("edit")
@click.argument("username")
@click.option("--role", type=ROLES, default=None)
@click.option("--name", "display_name", default=None, help="Name shown to colleagues.")
@click.option("--grid", default=None, help="The grid a grid worker looks after.")
@click.option("--department", default=None, help="The department's name.")
@click.option("--language", type=LANGUAGES, default=None)
@click.option("--phone", default=None, help='Mobile number; --phone "" removes it.')
@click.option("--active/--inactive", default=None, help="Open or close the account.")
@click.option(
    "--password",
    prompt="New password",
    prompt_required=False,
    hide_input=True,
    confirmation_prompt=True,
    default=None,
    help="A new password (asked for when given without one); signs the account out.",
)
def users_edit(username: str, **options: Any) -> None:
    """Change an account: only the options given change."""
    changes = AccountChanges(**options)
    with _app_context():
        user = db.session.scalar(db.select(User).where(User.username == username))
        if user is None:
            raise click.ClickException(f"no user {username}")
        changed: list[str] = []

        def edit() -> User:
            changed.extend(apply_changes(user, changes))
            return user

        _save_account(edit)
    click.echo(f"updated {username}: {', '.join(changed) or 'nothing changed'}")


@main.group()
def residents() -> None:
    """The residents directory."""


@residents.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--region", default="CN", show_default=True, help="For numbers without +country.")
@click.option(
    "--replace",
    is_flag=True,
    help="The file is the whole truth: absent columns and empty cells clear what was there.",
)
def residents_import(csv_file: Path, region: str, replace: bool) -> None:
    """Import residents from CSV; nothing is imported if any row is bad.

    For residents already in the directory, absent columns and empty cells leave their values
    as they are, unless --replace is given.
    """

    with _app_context():
        report = import_residents(csv_file, region, replace=replace)
    if report.errors:
        for error in report.errors:
            click.echo(error, err=True)
        click.echo(
            f"nothing imported: {len(report.errors)} problem(s). Columns: {', '.join(COLUMNS)}",
            err=True,
        )
        raise SystemExit(1)
    click.echo(f"imported {report.imported} new and updated {report.updated} residents")


@speech_group.command("retranscribe")
@click.argument("case_number")
def retranscribe(case_number: str) -> None:
    """Download and transcribe a case's recording again (e.g. after installing a model)."""
    with _app_context():
        case = case_by_number(case_number)
        if case is None or case.recording is None:
            raise click.ClickException(f"no case {case_number} with a recording")
        start_over(case.recording)
        queued = queue_transcription(case.recording.id)
    click.echo(
        f"case {case_number}: "
        + ("queued for transcription" if queued else "will be retried by beat")
    )


@main.group("spool")
def spool_commands() -> None:
    """Webhooks kept on this machine while the database did not answer."""


@spool_commands.command("replay")
def spool_replay() -> None:
    """Store what this machine's spool holds (`hotline web` does it every 15 s on its own).

    Exit status 1 if some webhooks still wait for the database or were set aside."""
    settings = Settings.from_env()
    app = create_app(settings)  # no app context around it: each webhook gets its own
    try:
        result = spool.replay(app)
    finally:
        with app.app_context():
            db.engine.dispose()
    folder = spool.spool_dir(settings.data_dir)
    click.echo(
        f"stored {result.stored}, waiting for the database {result.waiting}, "
        f"set aside {result.set_aside} (in {folder / spool.SET_ASIDE})"
    )
    if result.waiting or result.set_aside:
        raise SystemExit(1)


main.add_command(speech_group, "speech")
main.add_command(simulate, "simulate")
