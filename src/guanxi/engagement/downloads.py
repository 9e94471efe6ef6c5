"""Serving an attachment: always as a download, never rendered by the browser in our origin."""

from django.http import FileResponse

from guanxi.engagement.errors import AttachmentNotFound
from guanxi.engagement.models import Attachment

# Types a browser handles without running anything; everything else (HTML, SVG, XML, scripts) is served as bytes.
SAFE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain", "text/csv")
SAFE_PREFIXES = ("audio/", "video/", "application/vnd.openxmlformats-", "application/vnd.ms-")


def served_type(content_type: str) -> str:
    if content_type in SAFE_TYPES or content_type.startswith(SAFE_PREFIXES):
        return content_type
    return "application/octet-stream"


def attachment_response(attachment: Attachment) -> FileResponse:
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as exc:
        raise AttachmentNotFound(str(exc)) from exc
    response = FileResponse(
        handle, as_attachment=True, filename=attachment.name, content_type=served_type(attachment.content_type)
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
