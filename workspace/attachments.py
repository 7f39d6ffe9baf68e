"""A case's photos and documents (cases.attachments), for whoever may see the case.

Photos are shown in the case page; HEIC photos and PDFs are downloaded. The type sent is the
one read from the file's first bytes when it was taken, and the response may run nothing.
"""

from __future__ import annotations

from flask import Blueprint, abort, send_file
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from cases.attachments import SHOWN_INLINE, attachment_file
from cases.models import Attachment
from cases.permissions import can_view
from hotline.db import db

bp = Blueprint("attachments", __name__)

# Even a file that some browser would take for a page can run no script and load nothing.
NOTHING_RUNS = "default-src 'none'; img-src 'self'; sandbox"


@bp.get("/cases/<int:case_id>/attachments/<int:attachment_id>")
@login_required
def download(case_id: int, attachment_id: int) -> ResponseReturnValue:
    """The file, if the reader may see its case; 404 otherwise, as for the case itself."""
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.case_id != case_id:
        abort(404)
    if not can_view(current_user, attachment.case):
        abort(404)
    path = attachment_file(attachment)
    if path is None:
        abort(404)
    inline = attachment.content_type in SHOWN_INLINE
    response = send_file(
        path,
        mimetype=attachment.content_type,
        as_attachment=not inline,
        download_name=attachment.file_name or path.name,
        conditional=True,
        max_age=0,
    )
    response.cache_control.private = True  # a resident's home, a document: no shared caches
    response.headers["Content-Security-Policy"] = NOTHING_RUNS
    return response
