"""Every write to the inbox. ``notify`` is the one entry point other apps call.

Notifications are personal messages, not business records: they emit domain events (so automation and
webhooks can follow them) but no audit entries.
"""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core import events
from guanxi.notifications.errors import NotificationNotFound
from guanxi.notifications.models import Notification

logger = logging.getLogger(__name__)

MESSAGE_LIMIT = 500
LINK_LIMIT = 300


def _send_email(address: str, subject: str, body: str) -> None:
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address], fail_silently=False)
    except Exception:  # the inbox already has the message; a mail server outage must not break anything
        logger.exception("Could not e-mail a notification to %s", address)


@transaction.atomic
def notify(
    user, kind: str, message: str, link: str = "", *, params: dict | None = None, email: bool | None = None
) -> Notification | None:
    """Put ``message`` in ``user``'s inbox, in the caller's transaction (it commits or rolls back with it).

    Pass the English message marked with ``gettext_noop`` and its ``params`` (plain strings/numbers): the inbox
    translates it for whoever reads it (``Notification.text``), so a manager reading in Chinese sees Chinese
    whatever language the sender used.

    ``link`` is a path inside the app (``/customers/12/``). With ``email`` (default: the
    ``GUANXI_NOTIFICATION_EMAILS`` setting) the message is also e-mailed to the user's address, after commit.
    Inactive users and users without a primary key get nothing (returns None). Emits ``notification.created``.
    """
    if user is None or not getattr(user, "pk", None) or not user.is_active:
        return None
    notification = Notification.objects.create(
        user=user,
        kind=kind[:64],
        message=str(message)[:MESSAGE_LIMIT],
        params={key: value if isinstance(value, int | float) else str(value) for key, value in (params or {}).items()},
        link=link[:LINK_LIMIT] if link.startswith("/") else "",
        created_at=timezone.now(),
    )
    events.record(
        "notification.created",
        subject=notification,
        payload={"user_id": user.pk, "kind": notification.kind},
    )
    if email is None:
        email = getattr(settings, "GUANXI_NOTIFICATION_EMAILS", False)
    if email and user.email:
        address, body = user.email, notification.text
        if notification.link:
            body += "\n\n" + notification.link
        transaction.on_commit(lambda: _send_email(address, _("Guanxi notification"), body))
    return notification


@transaction.atomic
def mark_read(*, user, notification_id: int) -> Notification:
    """Mark one of ``user``'s notifications read (again is harmless). Another user's id is not found."""
    notification = Notification.objects.select_for_update().filter(pk=notification_id, user=user).first()
    if notification is None:
        raise NotificationNotFound(_("No notification with id %(id)s.") % {"id": notification_id})
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
        events.record("notification.read", subject=notification, actor=user, payload={"user_id": user.pk})
    return notification


@transaction.atomic
def mark_all_read(*, user) -> int:
    """Mark every unread notification of ``user`` read; returns how many changed."""
    count = Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
    if count:
        events.record("notification.all_read", subject=user, actor=user, payload={"count": count})
    return count
