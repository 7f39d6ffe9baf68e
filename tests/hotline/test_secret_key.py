"""Every web process of one install signs CSRF tokens with the same key."""

from __future__ import annotations

import stat
from pathlib import Path

from hotline.app import create_app
from hotline.config import Settings
from tests.conftest import make_env


def test_processes_without_a_configured_key_share_one_kept_in_the_data_dir(
    tmp_path: Path,
) -> None:
    env = make_env(tmp_path, f"sqlite:///{tmp_path / 'hotline.db'}")
    first = create_app(Settings.from_env(env))
    second = create_app(Settings.from_env(env))
    assert first.secret_key == second.secret_key and len(str(first.secret_key)) == 64
    key_file = tmp_path / "data" / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    configured = create_app(Settings.from_env({**env, "HOTLINE_SECRET_KEY": "from-the-env"}))
    assert configured.secret_key == "from-the-env"
