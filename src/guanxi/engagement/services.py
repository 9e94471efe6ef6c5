"""Every write of interactions and attachments: logging, editing and deleting one's own, attaching files.

Who may log: admins, managers, sales reps and support agents, on customers they can see
(``access.visible_customers``); analysts change nothing. Only the author edits an interaction or attaches files
to it; the author or an admin deletes it. A customer outside the actor's scope is a 404 from the same query.
``actor=None`` is a system job (an integration, an automation rule): the interaction then has no author.
"""

import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from guanxi.accounts.models import User
from guanxi.core import access, events
from guanxi.core.locking import bump_version, check_version
from guanxi.customers.errors import CustomerNotFound
from guanxi.customers.models import Customer
from guanxi.engagement.errors import (
    AttachmentInvalid,
    AttachmentTooLarge,
    InteractionDenied,
    InteractionInvalid,
    InteractionNotFound,
)
from guanxi.engagement.models import Attachment, Interaction
from guanxi.notifications.services import notify

DEFAULT_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENTS = 10
MAX_MENTIONS = 20  # each mention costs a visibility check; a note to more colleagues is a broadcast, not a mention
BODY_LIMIT = 20_000
MAX_DURATION_SECONDS = 7 * 24 * 3600
# Clocks drift; an interaction is something that happened, so more than this in the future is a mistake.
FUTURE_TOLERANCE = timedelta(hours=1)
LOGGING_ROLES = (access.ADMIN, access.MANAGER, access.SALES, access.SUPPORT)
EDITABLE_FIELDS = ("channel", "direction", "subject", "body", "outcome", "duration_seconds", "occurred_at")
AUDITED_FIELDS = ("customer_id", "channel", "direction", "duration_seconds", "occurred_at")
# What was said stays out of the audit trail (only that it changed): an erasure then needs to clear it only here.
TEXT_FIELDS = ("subject", "body", "outcome")
# Django usernames: letters, digits and @ . + - _ ; a mention ends before a trailing dot ("thanks @li.").
MENTION = re.compile(r"(?<![\w@.+-])@([\w.+-]*[\w+-])")
_CONTENT_TYPE = re.compile(r"^[\w.+-]{1,60}/[\w.+-]{1,60}$")


def attachment_max_bytes() -> int:
    """The largest attachment accepted, in bytes (setting ``GUANXI_ATTACHMENT_MAX_BYTES``, default 10 MiB)."""
    return int(getattr(settings, "GUANXI_ATTACHMENT_MAX_BYTES", DEFAULT_ATTACHMENT_MAX_BYTES))


# ----------------------------------------------------------------------------------------------- helpers


def _customer_for_logging(actor: User | None, customer_id: int) -> Customer:
    if actor is None:
        customers = access.visible_customers(None, system=True)
    else:
        if access.role_of(actor) not in LOGGING_ROLES:
            raise InteractionDenied(_("Your role cannot log interactions."))
        customers = access.visible_customers(actor)
    customer = customers.filter(pk=customer_id).first()
    if customer is None:
        raise CustomerNotFound(_("No customer with id %(id)s.") % {"id": customer_id})
    return customer


def _own_interaction(actor: User, interaction_id: int, *, for_delete: bool = False) -> Interaction:
    """The interaction, locked, if ``actor`` may see its customer; otherwise not found. Then: only its author
    may change it (admins may also delete it)."""
    if access.role_of(actor) is None:
        raise InteractionNotFound(_("No interaction with id %(id)s.") % {"id": interaction_id})
    interaction = (
        access.restrict(Interaction.objects.select_for_update(of=("self",)), actor, via="customer")
        .filter(pk=interaction_id)
        .first()
    )
    if interaction is None or not access.can_see_personal_data(actor):
        raise InteractionNotFound(_("No interaction with id %(id)s.") % {"id": interaction_id})
    allowed = interaction.author_id == actor.pk or (for_delete and access.role_of(actor) == access.ADMIN)
    if not allowed:
        raise InteractionDenied(_("Only the author can change this interaction."))
    return interaction


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    """Validate the editable fields in ``data`` (all of them when logging); raise InteractionInvalid."""
    errors: dict[str, list[str]] = {}
    if "channel" in data and data["channel"] not in Interaction.Channel.values:
        errors["channel"] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(Interaction.Channel.values)}]
    if "direction" in data and data["direction"] not in Interaction.Direction.values:
        errors["direction"] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(Interaction.Direction.values)}]
    for name, limit in (("subject", 300), ("outcome", 300), ("body", BODY_LIMIT)):
        if name in data:
            data[name] = str(data[name] or "").replace("\x00", "").strip()
            if len(data[name]) > limit:
                errors[name] = [_("At most %(limit)s characters.") % {"limit": limit}]
    duration = data.get("duration_seconds")
    if duration is not None and (
        not isinstance(duration, int) or isinstance(duration, bool) or not 0 <= duration <= MAX_DURATION_SECONDS
    ):
        errors["duration_seconds"] = [
            _("A whole number of seconds between 0 and %(max)s.") % {"max": MAX_DURATION_SECONDS}
        ]
    occurred_at = data.get("occurred_at")
    if "occurred_at" in data:
        if occurred_at is None:
            data["occurred_at"] = timezone.now()
        elif not isinstance(occurred_at, datetime):
            errors["occurred_at"] = [_("A date and time is required.")]
        else:
            if timezone.is_naive(occurred_at):
                occurred_at = data["occurred_at"] = timezone.make_aware(occurred_at)
            if occurred_at > timezone.now() + FUTURE_TOLERANCE:
                errors["occurred_at"] = [_("An interaction cannot lie in the future.")]
    if data.get("channel") == Interaction.Channel.NOTE:
        data["direction"] = Interaction.Direction.INTERNAL  # a note is never sent to the customer
    if errors:
        raise InteractionInvalid(_("The interaction is not valid."), **errors)
    return data


def _require_content(interaction: Interaction, *, has_attachments: bool) -> None:
    if not (interaction.subject or interaction.body or interaction.outcome or has_attachments):
        raise InteractionInvalid(
            _("Say what happened: a subject, a note or an outcome."),
            subject=[_("Enter a subject, a note or an outcome.")],
        )


def _audit_state(interaction: Interaction | None) -> dict[str, Any]:
    if interaction is None:
        return {}
    state = events.snapshot(interaction, AUDITED_FIELDS)
    # The length stands in for the text: the trail shows that it changed, not what it says.
    state.update({name: f"[{len(getattr(interaction, name))} characters]" for name in TEXT_FIELDS})
    return state


def mentioned_usernames(text: str) -> list[str]:
    """The usernames written as ``@username`` in ``text``, in order, without repeats."""
    return list(dict.fromkeys(MENTION.findall(text or "")))


def _apply_mentions(interaction: Interaction, customer: Customer, actor: User | None) -> list[User]:
    """Store who the interaction mentions and notify the newly mentioned. Only active colleagues who may see the
    customer's personal data count: a mention never reveals a customer to someone outside its scope."""
    names = mentioned_usernames(f"{interaction.subject}\n{interaction.body}")[:MAX_MENTIONS]
    candidates = User.objects.filter(username__in=names, is_active=True) if names else User.objects.none()
    allowed = [
        user
        for user in candidates
        if (actor is None or user.pk != actor.pk)
        and access.can_see_personal_data(user)
        and access.visible_customers(user).filter(pk=customer.pk).exists()
    ]
    before = set(interaction.mentions.values_list("pk", flat=True))
    interaction.mentions.set(allowed)
    new = [user for user in allowed if user.pk not in before]
    author = actor.get_username() if actor else _("Guanxi")
    for user in new:
        notify(
            user,
            "interaction.mention",
            gettext_noop("%(author)s mentioned you in a note about %(customer)s."),
            f"/customers/{customer.pk}/",
            params={"author": author, "customer": customer.display_name},
        )
    return new


def _safe_name(name: str) -> str:
    name = unicodedata.normalize("NFC", str(name or "")).strip()
    if (
        not name
        or name in (".", "..")
        or "/" in name
        or "\\" in name
        or any(unicodedata.category(c)[0] == "C" for c in name)
    ):
        raise AttachmentInvalid(
            _("The file needs a plain name (no folders, no control characters)."),
            file=[_("The file needs a plain name (no folders, no control characters).")],
        )
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 199 - len(ext)] + dot + ext) if dot and len(ext) < 20 else name[:200]
    return name


def _content_type(value: str | None) -> str:
    value = (value or "").split(";")[0].strip().lower()
    return value if _CONTENT_TYPE.match(value) else "application/octet-stream"


def _store(interaction: Interaction, upload: Any, actor: User | None, written: list) -> Attachment:
    """Save one uploaded file under MEDIA_ROOT/attachments/<yyyy>/<mm>/ with a random name.

    ``upload`` is a Django ``File`` (an ``UploadedFile`` from a form or the API) or ``(name, bytes[,
    content_type])``. The stored file is appended to ``written`` (see ``_FilesUndone``)."""
    if isinstance(upload, tuple):
        name, content, *rest = upload
        content_type = rest[0] if rest else ""
        upload = ContentFile(content, name=name)
    elif isinstance(upload, File):
        content_type = getattr(upload, "content_type", "") or ""
    else:
        raise AttachmentInvalid(_("Not a file."), file=[_("Not a file.")])
    name = _safe_name(getattr(upload, "name", "") or "")
    size = upload.size or 0
    if size <= 0:
        raise AttachmentInvalid(_("The file “%(name)s” is empty.") % {"name": name}, file=[_("The file is empty.")])
    limit = attachment_max_bytes()
    if size > limit:
        raise AttachmentTooLarge(
            _("The file “%(name)s” is %(size)s bytes; the limit is %(limit)s bytes.")
            % {"name": name, "size": size, "limit": limit},
            size=size,
            limit=limit,
        )
    attachment = Attachment(
        interaction=interaction,
        name=name,
        size=size,
        content_type=_content_type(content_type),
        uploaded_by=actor,
    )
    attachment.file.save("upload", upload, save=False)
    written.append((attachment.file.storage, attachment.file.name))
    attachment.save()
    return attachment


class _FilesUndone:
    """Delete the files written inside the block if the block raises (their rows roll back with it).

    A rollback of an outer transaction after the service returned is not covered; ``guanxi`` never wraps these
    services in a wider transaction that can fail afterwards."""

    def __init__(self) -> None:
        self.written: list = []

    def __enter__(self) -> list:
        return self.written

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            for storage, name in self.written:
                storage.delete(name)


def delete_file_after_commit(storage, name: str) -> None:
    """Remove a stored file once the transaction that dropped its row commits (never before)."""
    if name:
        transaction.on_commit(lambda: storage.delete(name))


# ----------------------------------------------------------------------------------------------- use cases


@transaction.atomic
def log_interaction(
    *,
    actor: User | None,
    customer_id: int,
    channel: str,
    direction: str = "outbound",
    subject: str = "",
    body: str = "",
    outcome: str = "",
    duration_seconds: int | None = None,
    occurred_at: datetime | None = None,
    attachments: Iterable[Any] = (),
    follow_up_id: int | None = None,
) -> Interaction:
    """Record a contact with a customer (or an internal note about them).

    A note is always internal. ``@username`` in the subject or body mentions a colleague: stored, and they get an
    inbox notification linking to the customer, if they may see the customer. Attachments are size-limited
    (``GUANXI_ATTACHMENT_MAX_BYTES``). ``follow_up_id`` says which follow-up this contact completes (the followups
    app reacts to the event). Emits ``interaction.logged`` with the interaction as subject and payload
    ``{customer_id, interaction_id, channel, direction, author_id, follow_up_id}``, with an audit entry (the
    subject, body and outcome are not copied into the audit trail, only their lengths).
    """
    customer = _customer_for_logging(actor, customer_id)
    attachments = list(attachments)
    if len(attachments) > MAX_ATTACHMENTS:
        raise AttachmentInvalid(
            _("At most %(n)s files per interaction.") % {"n": MAX_ATTACHMENTS},
            file=[_("At most %(n)s files per interaction.") % {"n": MAX_ATTACHMENTS}],
        )
    if follow_up_id is not None and (
        not isinstance(follow_up_id, int) or isinstance(follow_up_id, bool) or follow_up_id < 1
    ):
        raise InteractionInvalid(_("The interaction is not valid."), follow_up_id=[_("Not a follow-up id.")])
    data = _clean(
        {
            "channel": channel,
            "direction": direction,
            "subject": subject,
            "body": body,
            "outcome": outcome,
            "duration_seconds": duration_seconds,
            "occurred_at": occurred_at,
        }
    )
    now = timezone.now()
    interaction = Interaction(customer=customer, author=actor, created_at=now, **data)
    _require_content(interaction, has_attachments=bool(attachments))
    interaction.save()
    with _FilesUndone() as written:
        for upload in attachments:
            _store(interaction, upload, actor, written)
        _apply_mentions(interaction, customer, actor)
        _record_logged(interaction, customer, actor, follow_up_id)
    return interaction


def _record_logged(interaction: Interaction, customer: Customer, actor: User | None, follow_up_id: int | None) -> None:
    events.record(
        "interaction.logged",
        subject=interaction,
        actor=actor,
        payload={
            "customer_id": customer.pk,
            "interaction_id": interaction.pk,
            "channel": interaction.channel,
            "direction": interaction.direction,
            "author_id": actor.pk if actor else None,
            "follow_up_id": follow_up_id,
        },
        audit_action="create",
        changes=events.diff({}, _audit_state(interaction)),
    )


@transaction.atomic
def update_interaction(*, actor: User, interaction_id: int, version: int | None, data: dict[str, Any]) -> Interaction:
    """Change the author's own interaction; only the fields in ``data`` change (EDITABLE_FIELDS).

    A stale ``version`` is a 409 (StaleVersion). Newly mentioned colleagues are notified. Emits
    ``interaction.updated`` with the field changes in the audit entry.
    """
    interaction = _own_interaction(actor, interaction_id)
    check_version(interaction, version)
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise InteractionInvalid(
            _("The interaction is not valid."), **{name: [_("This field cannot be changed.")] for name in unknown}
        )
    data = _clean(dict(data))
    before = _audit_state(interaction)
    for name, value in data.items():
        setattr(interaction, name, value)
    _require_content(interaction, has_attachments=interaction.attachments.exists())
    bump_version(interaction)
    interaction.save()
    customer = interaction.customer
    _apply_mentions(interaction, customer, actor)
    events.record(
        "interaction.updated",
        subject=interaction,
        actor=actor,
        payload={"customer_id": customer.pk, "interaction_id": interaction.pk, "version": interaction.version},
        audit_action="update",
        changes=events.diff(before, _audit_state(interaction)),
    )
    return interaction


@transaction.atomic
def delete_interaction(*, actor: User, interaction_id: int, version: int | None) -> None:
    """Delete the author's own interaction (admins: any they can see) with its attachments' files.

    A stale ``version`` is a 409. Emits ``interaction.deleted`` with an audit entry.
    """
    interaction = _own_interaction(actor, interaction_id, for_delete=True)
    check_version(interaction, version)
    events.record(
        "interaction.deleted",
        subject=interaction,
        actor=actor,
        payload={"customer_id": interaction.customer_id, "interaction_id": interaction.pk},
        audit_action="delete",
        changes=events.diff(_audit_state(interaction), {}),
    )
    interaction.delete()  # the attachments' files go after commit (handlers.on_attachment_deleted)


@transaction.atomic
def add_attachment(*, actor: User, interaction_id: int, upload: Any) -> Attachment:
    """Attach a file to the author's own interaction (size limit ``GUANXI_ATTACHMENT_MAX_BYTES``: 413
    ``attachment_too_large``; an empty file or a name with folders or control characters: 422).
    Emits ``interaction.attachment_added`` with an audit entry."""
    interaction = _own_interaction(actor, interaction_id)
    if interaction.attachments.count() >= MAX_ATTACHMENTS:
        raise AttachmentInvalid(
            _("At most %(n)s files per interaction.") % {"n": MAX_ATTACHMENTS},
            file=[_("At most %(n)s files per interaction.") % {"n": MAX_ATTACHMENTS}],
        )
    with _FilesUndone() as written:
        attachment = _store(interaction, upload, actor, written)
        bump_version(interaction)
        interaction.save(update_fields=["version", "updated_at"])
        _record_attachment(interaction, attachment, actor)
    return attachment


def _record_attachment(interaction: Interaction, attachment: Attachment, actor: User) -> None:
    events.record(
        "interaction.attachment_added",
        subject=interaction,
        actor=actor,
        payload={
            "customer_id": interaction.customer_id,
            "interaction_id": interaction.pk,
            "attachment_id": attachment.pk,
            "size": attachment.size,
        },
        audit_action="update",
        changes={"attachments": [None, f"[{attachment.size} bytes]"]},
    )
