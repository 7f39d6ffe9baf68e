"""The spool: webhooks kept on disk while the database does not answer, stored when it does."""

from __future__ import annotations

import fcntl
import json
import multiprocessing
import os
import stat
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from cases.models import Recording
from hotline import spool
from hotline.cli import main
from tests.conftest import HOTLINE_NUMBER
from tests.ivr.test_phone_line import count

CALL_SID = "CA" + "7" * 32
RECORDING_STATUS = spool.Webhook(
    "/ivr/recording-status",
    "",
    {"CallSid": CALL_SID, "RecordingSid": "RE" + "7" * 32, "RecordingStatus": "completed"},
    "2026-03-02T02:00:00+00:00",
)


def webhook(number: int) -> spool.Webhook:
    return spool.Webhook(
        "/ivr/recorded",
        "",
        {"CallSid": CALL_SID, "RecordingSid": f"RE{number:032x}", "To": HOTLINE_NUMBER},
        "2026-03-02T02:00:00+00:00",
    )


def test_a_kept_webhook_is_whole_private_and_fsynced_with_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: set[int] = set()
    real_fsync = os.fsync

    def fsync(descriptor: int) -> None:
        synced.add(os.fstat(descriptor).st_ino)
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", fsync)
    path = spool.keep(tmp_path, RECORDING_STATUS)
    assert path.parent == tmp_path / "spool" and spool.waiting(tmp_path) == [path]
    assert json.loads(path.read_text())["form"] == RECORDING_STATUS.form
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # The file, the rename into the spool, and the spool folder's own creation survive a crash.
    assert {path.stat().st_ino, path.parent.stat().st_ino, tmp_path.stat().st_ino} <= synced
    assert list(path.parent.glob("*.tmp")) == []


def _keep_many(args: tuple[Path, int]) -> int:
    data_dir, first = args
    for number in range(first, first + 50):
        spool.keep(data_dir, webhook(number))
    return os.getpid()


def test_web_processes_keeping_at_once_lose_nothing(tmp_path: Path) -> None:
    with multiprocessing.get_context("fork").Pool(4) as pool:
        pids = pool.map(_keep_many, [(tmp_path, first) for first in range(0, 200, 50)])
    assert len(set(pids)) == 4
    kept = [json.loads(path.read_text()) for path in spool.waiting(tmp_path)]
    sids = {record["form"]["RecordingSid"] for record in kept}
    assert sids == {f"RE{number:032x}" for number in range(200)}


def test_an_unreadable_or_refused_file_is_set_aside_and_the_rest_are_stored(
    app: Flask, env: dict[str, str]
) -> None:
    data_dir = Path(env["HOTLINE_DATA_DIR"])
    folder = data_dir / "spool"
    folder.mkdir(parents=True)
    (folder / "00000000000000000001-1-torn.json").write_text('{"path": "/ivr/recor')
    refused = spool.Webhook("/ivr/recording-status", "", {"RecordingSid": "not-a-sid"}, "")
    spool.keep(data_dir, refused)  # answered 400: it will never be taken
    kept = spool.keep(data_dir, RECORDING_STATUS)

    assert spool.replay(app) == spool.Replay(stored=1, set_aside=2)
    assert not kept.exists() and spool.waiting(data_dir) == []
    assert len(list((folder / "set-aside").glob("*.json"))) == 2
    assert count(app, Recording) == 1


def test_one_process_replays_a_machines_spool_at_a_time(app: Flask, env: dict[str, str]) -> None:
    data_dir = Path(env["HOTLINE_DATA_DIR"])
    kept = spool.keep(data_dir, RECORDING_STATUS)
    with open(data_dir / "spool" / ".replay.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another web process is replaying
        assert spool.replay(app) == spool.Replay()
    assert kept.exists() and count(app, Recording) == 0
    assert spool.replay(app) == spool.Replay(stored=1)


def test_the_replay_command_says_what_it_stored_and_what_waits(
    app: Flask, down_app: Flask, env: dict[str, str], tmp_path: Path
) -> None:
    data_dir = Path(env["HOTLINE_DATA_DIR"])
    spool.keep(data_dir, RECORDING_STATUS)
    down_env = {**env, "HOTLINE_DATABASE_URL": down_app.config["SQLALCHEMY_DATABASE_URI"]}
    waiting = CliRunner().invoke(main, ["spool", "replay"], env=down_env)
    assert waiting.exit_code == 1 and "waiting for the database 1" in waiting.output
    stored = CliRunner().invoke(main, ["spool", "replay"], env=env)
    assert stored.exit_code == 0 and "stored 1" in stored.output
    assert count(app, Recording) == 1


def test_the_web_process_replays_its_spool_on_its_own(app: Flask, env: dict[str, str]) -> None:
    data_dir = Path(env["HOTLINE_DATA_DIR"])
    spool.keep(data_dir, RECORDING_STATUS)
    spool.start_replayer(app, every_s=0.1)
    for _ in range(200):  # at most about 20 s; a pass takes milliseconds
        if not spool.waiting(data_dir):
            break
        time.sleep(0.1)
    assert spool.waiting(data_dir) == [] and count(app, Recording) == 1
