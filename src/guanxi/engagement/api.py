"""/api/v1/interactions: log, list, change and delete interactions, attach and download files, and read a
customer's merged timeline."""

from django.http import HttpRequest
from django.urls import reverse
from ninja import File, Query, Router, Status
from ninja.files import UploadedFile

from guanxi.core.pagination import paginate
from guanxi.core.schemas import ERRORS, ErrorOut, Id
from guanxi.customers import selectors as customer_selectors
from guanxi.engagement import downloads, selectors, services, timeline
from guanxi.engagement.models import Attachment, Interaction
from guanxi.engagement.schemas import (
    AttachmentOut,
    InteractionIn,
    InteractionList,
    InteractionOut,
    InteractionPatch,
    InteractionQuery,
    TimelineOut,
    TimelineQuery,
    VersionQuery,
)

router = Router(tags=["interactions"])
UPLOAD_ERRORS = {**ERRORS, 413: ErrorOut}


def _attachment(attachment: Attachment) -> dict:
    return {
        "id": attachment.pk,
        "name": attachment.name,
        "size": attachment.size,
        "content_type": attachment.content_type,
        "url": reverse("api:download_attachment", args=[attachment.pk]),
    }


def _interaction(interaction: Interaction) -> dict:
    return {
        "id": interaction.pk,
        "customer_id": interaction.customer_id,
        "channel": interaction.channel,
        "direction": interaction.direction,
        "subject": interaction.subject,
        "body": interaction.body,
        "outcome": interaction.outcome,
        "duration_seconds": interaction.duration_seconds,
        "occurred_at": interaction.occurred_at,
        "author_id": interaction.author_id,
        "author": interaction.author.get_username() if interaction.author_id else None,
        "mentions": sorted(user.get_username() for user in interaction.mentions.all()),
        "attachments": [_attachment(a) for a in interaction.attachments.all()],
        "created_at": interaction.created_at,
        "version": interaction.version,
    }


@router.get("/timeline", response={200: TimelineOut, **ERRORS})
def customer_timeline(request: HttpRequest, filters: Query[TimelineQuery]):
    """A customer's timeline, newest first: interactions, orders, ownership changes and whatever other apps add
    (follow-ups, stage changes ...). ``kinds`` limits it to some sources; page with ``before=next_before``.
    404 for a customer you cannot see."""
    customer = customer_selectors.get_customer(request.auth, filters.customer_id)
    kinds = [k.strip() for k in filters.kinds.split(",") if k.strip()]
    page = timeline.merged(request.auth, customer, kinds=kinds, before=filters.before, limit=filters.limit)
    return {
        "items": [
            {
                "at": i.at,
                "kind": i.kind,
                "title": i.title,
                "body": i.body,
                "actor": i.actor,
                "link": i.link,
                "icon": i.icon,
            }
            for i in page.items
        ],
        "kinds": page.kinds,
        "next_before": page.next_before,
    }


@router.get("/attachments/{attachment_id}", response={200: None, **ERRORS}, url_name="download_attachment")
def download_attachment(request: HttpRequest, attachment_id: Id):
    """Download an attachment (always ``Content-Disposition: attachment``). 404 unless you may see the
    interaction's customer."""
    return downloads.attachment_response(selectors.get_attachment(request.auth, attachment_id))


@router.get("", response={200: InteractionList, **ERRORS})
def list_interactions(request: HttpRequest, filters: Query[InteractionQuery]):
    """Interactions on the customers you can see, newest first (``occurred_at``). Filter by customer, channel,
    direction, time (``since`` inclusive, ``until`` exclusive) or your own. Analysts get none (personal data)."""
    rows = selectors.interactions(
        request.auth,
        customer_id=filters.customer_id,
        channel=filters.channel or "",
        direction=filters.direction or "",
        since=filters.since,
        until=filters.until,
        author_id=request.auth.pk if filters.mine else None,
    )
    page = paginate(rows, limit=filters.limit, offset=filters.offset)
    return {
        "items": [_interaction(i) for i in page.items],
        "total": page.total,
        "limit": filters.limit,
        "offset": filters.offset,
    }


@router.post("", response={201: InteractionOut, **UPLOAD_ERRORS})
def create_interaction(request: HttpRequest, payload: InteractionIn):
    """Log a call, e-mail, meeting, note ... on a customer you can see. ``@username`` in the subject or body
    notifies that colleague if they may see the customer. With ``follow_up_id`` the follow-up is completed.
    Emits ``interaction.logged``. 403 ``interaction_denied`` for analysts; 404 for a customer you cannot see."""
    interaction = services.log_interaction(actor=request.auth, **payload.dict())
    return Status(201, _interaction(selectors.get_interaction(request.auth, interaction.pk)))


@router.get("/{interaction_id}", response={200: InteractionOut, **ERRORS})
def get_interaction(request: HttpRequest, interaction_id: Id):
    """One interaction with its mentions and attachments."""
    return _interaction(selectors.get_interaction(request.auth, interaction_id))


@router.patch("/{interaction_id}", response={200: InteractionOut, **ERRORS})
def update_interaction(request: HttpRequest, interaction_id: Id, payload: InteractionPatch):
    """Change your own interaction; only the fields sent change. Send the ``version`` you read: a stale one is a
    409 ``stale_version``. 403 ``interaction_denied`` when it is someone else's."""
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    services.update_interaction(actor=request.auth, interaction_id=interaction_id, version=version, data=data)
    return _interaction(selectors.get_interaction(request.auth, interaction_id))


@router.delete("/{interaction_id}", response={204: None, **ERRORS})
def delete_interaction(request: HttpRequest, interaction_id: Id, query: Query[VersionQuery]):
    """Delete your own interaction (admins: any) and its files: ``?version=`` is the version you read (409 if
    stale)."""
    services.delete_interaction(actor=request.auth, interaction_id=interaction_id, version=query.version)
    return Status(204, None)


@router.post("/{interaction_id}/attachments", response={201: AttachmentOut, **UPLOAD_ERRORS})
def upload_attachment(request: HttpRequest, interaction_id: Id, file: File[UploadedFile]):
    """Attach a file to your own interaction (multipart field ``file``). 413 ``attachment_too_large`` above the
    limit (``GUANXI_ATTACHMENT_MAX_BYTES``, default 10 MiB); 422 ``attachment_invalid`` for an empty file or a
    name with folders or control characters."""
    attachment = services.add_attachment(actor=request.auth, interaction_id=interaction_id, upload=file)
    return Status(201, _attachment(attachment))
