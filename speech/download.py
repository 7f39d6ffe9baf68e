"""Downloading a model archive that may be 1.3 GB: progress, and resuming where it broke off.

:func:`download` streams a URL into ``<file>.part`` next to where the archive belongs. If the
download breaks off, the ``.part`` file stays, and the next call asks the server for the rest
only (an HTTP ``Range`` request). ``If-Range`` carries the ``ETag`` (or ``Last-Modified``) seen
the first time, so a server whose file changed in between sends the whole new file instead of
a tail that would not fit. A server that ignores ``Range`` sends the whole file too, which is
then written afresh. The finished file must have the length the server announced.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Final
from urllib.parse import urlparse

import requests

from speech.errors import ModelInstallError

__all__ = [
    "DOWNLOAD_TIMEOUT",
    "Progress",
    "discard",
    "discard_if_empty",
    "download",
    "partial_file",
]

#: Seconds to connect, and to wait for the next bytes: short, so that set-up without a network
#: says so at once instead of hanging; a stalled download can be resumed.
DOWNLOAD_TIMEOUT: Final = (5.0, 30.0)
_BLOCK = 1 << 20

#: Told, after every block, how many bytes the file has and how many it will have (if known).
Progress = Callable[[int, int | None], None]


def partial_file(archive: Path) -> Path:
    return archive.with_name(archive.name + ".part")


def _source_file(part: Path) -> Path:
    """What the ``.part`` file was downloaded from: its URL and the server's validator."""
    return part.with_name(part.name + ".json")


def discard(archive: Path) -> None:
    """Forget a download: its ``.part`` file and what it came from."""
    part = partial_file(archive)
    for file in (part, _source_file(part)):
        file.unlink(missing_ok=True)


def _resumable_size(part: Path, url: str) -> tuple[int, str]:
    """Bytes already downloaded from ``url``, and the validator to resume them with."""
    try:
        source = json.loads(_source_file(part).read_text(encoding="utf-8"))
        size = part.stat().st_size
    except (OSError, ValueError):
        return 0, ""
    if not isinstance(source, dict) or source.get("url") != url:
        return 0, ""
    return size, str(source.get("validator") or "")


def _remember_source(part: Path, url: str, response: requests.Response) -> None:
    validator = response.headers.get("ETag") or response.headers.get("Last-Modified") or ""
    data = {"url": url, "validator": validator}
    _source_file(part).write_text(json.dumps(data), encoding="utf-8")


def _range_total(response: requests.Response) -> int | None:
    """The full length from ``Content-Range: bytes 100-199/200`` (or ``bytes */200``)."""
    total = response.headers.get("Content-Range", "").rpartition("/")[2]
    return int(total) if total.isdigit() else None


def _range_start(response: requests.Response) -> int | None:
    """The first byte sent, from ``Content-Range: bytes 100-199/200``."""
    spec = response.headers.get("Content-Range", "").removeprefix("bytes ").partition("-")[0]
    return int(spec) if spec.isdigit() else None


def _length(response: requests.Response) -> int | None:
    value = response.headers.get("Content-Length", "")
    return int(value) if value.isdigit() else None


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def _write(
    response: requests.Response, part: Path, have: int, total: int | None, progress: Progress | None
) -> int:
    """Append (``have`` > 0) or write the body to ``part``; returns its size at the end."""
    with open(part, "ab" if have else "wb") as handle:
        if progress is not None:
            progress(have, total)
        for block in response.iter_content(chunk_size=_BLOCK):
            handle.write(block)
            have += len(block)
            if progress is not None:
                progress(have, total)
    return have


def _why(error: requests.RequestException, url: str) -> str:
    """The reason in a few words: an operator reads it on one line."""
    host = urlparse(url).hostname or url
    if isinstance(error, requests.HTTPError) and error.response is not None:
        return f"the server answered HTTP {error.response.status_code}"
    if isinstance(error, requests.ConnectTimeout):
        return f"{host} did not answer within {DOWNLOAD_TIMEOUT[0]:.0f} s (no network?)"
    if isinstance(error, requests.ConnectionError) and "Connection broken" not in str(error):
        return f"cannot reach {host} (no network?)"
    if isinstance(error, requests.Timeout):
        return f"{host} stopped sending for {DOWNLOAD_TIMEOUT[1]:.0f} s"
    return f"the connection broke off ({type(error).__name__})"


def download(
    url: str,
    archive: Path,
    *,
    progress: Progress | None = None,
) -> None:
    """Download ``url`` to ``archive``'s ``.part`` file, resuming an earlier attempt's.

    On success the ``.part`` file holds the whole archive (the caller checks and uses it, then
    calls :func:`discard`). Raises :class:`ModelInstallError`; after a broken-off download the
    ``.part`` file is kept for the next attempt.
    """
    part = partial_file(archive)
    part.parent.mkdir(parents=True, exist_ok=True)
    have, validator = _resumable_size(part, url)
    headers = {"Range": f"bytes={have}-"} if have else {}
    if have and validator:
        headers["If-Range"] = validator
    try:
        with requests.get(url, stream=True, timeout=DOWNLOAD_TIMEOUT, headers=headers) as response:
            if response.status_code == 416 and have:
                if _range_total(response) == have:
                    return  # the earlier attempt got everything; only the install was left
                discard(archive)  # longer than the server's file: not a part of it
                return download(url, archive, progress=progress)
            response.raise_for_status()
            resumed = response.status_code == 206 and _range_start(response) == have
            if not resumed:
                have = 0
            total = _range_total(response) if resumed else _length(response)
            _remember_source(part, url, response)
            have = _write(response, part, have, total, progress)
    except requests.RequestException as exc:
        kept = part.stat().st_size if part.exists() else 0
        if not kept:  # nothing worth resuming: leave no trace
            discard(archive)
            discard_if_empty(part.parent)
        again = (
            f" {_megabytes(kept)} are kept: run the same command again to resume." if kept else ""
        )
        raise ModelInstallError(
            f"Downloading the speech model from {url} failed: {_why(exc, url)}.{again}"
        ) from exc
    if total is not None and have != total:
        raise ModelInstallError(
            f"The download from {url} stopped at {_megabytes(have)} of {_megabytes(total)}: "
            "run the same command again to resume."
        )


def discard_if_empty(folder: Path) -> None:
    """Remove the downloads folder once nothing is left in it."""
    with suppress(OSError):
        folder.rmdir()
