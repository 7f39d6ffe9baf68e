"""Secrets made once per install and kept in the data directory, owner-only."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path


def instance_secret(path: Path, remedy: str) -> str:
    """The secret kept in `path`, made by whichever process gets here first.

    A secret made per process would make processes reject each other's signatures. The first
    process creates the file (0600, O_EXCL); the others read it, waiting while it is written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
            file.write(secrets.token_hex(32))
    except FileExistsError:
        pass
    for _ in range(50):  # another process may be between creating and writing it
        key = path.read_text().strip()
        if key:
            return key
        time.sleep(0.01)
    raise RuntimeError(f"{path} is empty: {remedy}")
