"""Photos and documents attached to a case: checked by their content, kept in the data folder.

A file is taken only when its first bytes say it is a JPEG, PNG, WebP or HEIC photo or a PDF,
whatever its name claims, and only up to HOTLINE_MAX_ATTACHMENT_MB. It is written under
$HOTLINE_DATA_DIR/attachments/<case id>/ with a name of our own (the uploaded name is kept for
people, never used as a path), and read back only through `attachment_file`, which refuses
any path that leads outside that folder.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from cases.errors import Refused
from cases.models import Attachment, Case
from hotline.config import MEGABYTE
from hotline.db import db
from hotline.settings import current_settings

log = logging.getLogger(__name__)
FOLDER = "attachments"
MAX_FILE_NAME = 200
# Shown in the page (an <img>): the types every browser draws. HEIC and PDF are downloaded.
SHOWN_INLINE = ("image/jpeg", "image/png", "image/webp")
# HEIF brands of HEIC photos (iPhones); "mif1"/"msf1" are generic and need "heic" beside them.
HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"}
GENERIC_HEIF_BRANDS = {b"mif1", b"msf1"}
EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/heic": ".heic",
    "application/pdf": ".pdf",
}


@dataclass(frozen=True)
class Upload:
    """A file as it came from a form or the API, before anything is checked."""

    file_name: str
    data: bytes


@dataclass(frozen=True)
class CheckedUpload:
    file_name: str
    data: bytes
    content_type: str


def content_type_of(data: bytes) -> str | None:
    """The type the file's first bytes declare, if it is one we take; None otherwise."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if _is_heic(data):
        return "image/heic"
    return None


def _is_heic(data: bytes) -> bool:
    """An ISO media file whose `ftyp` box names a HEIC brand (AVIF and MP4 do not)."""
    if data[4:8] != b"ftyp":
        return False
    box_size = int.from_bytes(data[:4], "big")
    major = data[8:12]
    compatible = {data[i : i + 4] for i in range(16, min(box_size, len(data), 64), 4)}
    if major in HEIC_BRANDS:
        return True
    return major in GENERIC_HEIF_BRANDS and bool(compatible & HEIC_BRANDS)


def max_bytes() -> int:
    return current_settings().max_attachment_bytes


def check(upload: Upload) -> CheckedUpload:
    """The upload if it is a photo or PDF within the size allowed; else refused, saying why."""
    limit = max_bytes()
    if len(upload.data) > limit:
        raise Refused("intake.refused.file_too_big", limit=limit // MEGABYTE)
    if not upload.data:
        raise Refused("intake.refused.file_empty")
    content_type = content_type_of(upload.data)
    if content_type is None:
        raise Refused("intake.refused.file_type")
    name = "".join(c for c in Path(upload.file_name).name if c.isprintable())
    return CheckedUpload(name[:MAX_FILE_NAME], upload.data, content_type)


def folder() -> Path:
    return current_settings().data_dir / FOLDER


def store(case: Case, upload: CheckedUpload, by_id: int | None) -> tuple[Attachment, Path]:
    """Write the file and add its row (the caller commits, or deletes the returned path)."""
    relative = f"{case.id}/{secrets.token_hex(16)}{EXTENSIONS[upload.content_type]}"
    path = folder() / relative
    try:
        _write(path, upload.data)
    except OSError as error:
        log.error("case %s: the attachment could not be written: %s", case.number, error)
        raise Refused("intake.refused.file_not_stored") from None
    attachment = Attachment(
        case_id=case.id,
        stored_name=relative,
        file_name=upload.file_name,
        content_type=upload.content_type,
        size_bytes=len(upload.data),
        uploaded_by_id=by_id,
    )
    db.session.add(attachment)
    return attachment, path


def _write(path: Path, data: bytes) -> None:
    """Whole or not at all: a crash mid-write leaves a .part file, never a cut photo."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    try:
        with partial.open("xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def attachments_of(case: Case) -> list[Attachment]:
    return list(
        db.session.scalars(
            select(Attachment).where(Attachment.case_id == case.id).order_by(Attachment.id)
        )
    )


def attachment_file(attachment: Attachment) -> Path | None:
    """The attachment's file, only if it lies inside the attachments folder and exists."""
    base = folder().resolve()
    try:
        path = (base / attachment.stored_name).resolve()
    except (OSError, RuntimeError, ValueError):
        return None
    if not path.is_relative_to(base) or path == base or not path.is_file():
        return None
    return path


def remove_files(paths: list[Path]) -> None:
    """Files written for a transaction that did not commit: nothing is left behind."""
    for path in paths:
        path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # the case's folder, if nothing else is in it
            path.parent.rmdir()
