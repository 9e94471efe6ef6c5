"""The daily follow-up jobs: mark overdue follow-ups (``follow_up.overdue``, once each) and e-mail each assignee
one reminder a day of what is due today or overdue. Both are safe to run twice a day: the second run does
nothing. Return visits are planned by the automation app's scheduled playbook (``services.plan_return_visits``).
"""

import logging
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from guanxi.core import events
from guanxi.followups.models import FollowUp, ReminderSent

logger = logging.getLogger(__name__)
Status = FollowUp.Status


@transaction.atomic
def mark_overdue(*, today: date | None = None, batch_size: int = 1000) -> int:
    """Emit ``follow_up.overdue`` for each open follow-up due before ``today`` not yet marked; return how many.

    The follow-up keeps ``overdue_at`` so the event goes out once; moving the due date clears it.
    """
    today = today or timezone.localdate()
    now = timezone.now()
    marked = 0
    while True:
        batch = list(
            FollowUp.objects.select_for_update(of=("self",))
            .filter(status=Status.OPEN, due_on__lt=today, overdue_at__isnull=True, customer__deleted_at__isnull=True)
            .order_by("pk")[:batch_size]
        )
        if not batch:
            return marked
        FollowUp.objects.filter(pk__in=[f.pk for f in batch]).update(overdue_at=now)
        events.record_many(
            "follow_up.overdue",
            [
                (
                    f,
                    {
                        "customer_id": f.customer_id,
                        "follow_up_id": f.pk,
                        "assignee_id": f.assignee_id,
                        "due_on": f.due_on,
                        "days_overdue": (today - f.due_on).days,
                    },
                    None,
                )
                for f in batch
            ],
        )
        marked += len(batch)


def _language_of(user) -> str:
    return getattr(user, "language", "") or settings.LANGUAGE_CODE


def _link(path: str) -> str:
    return getattr(settings, "GUANXI_BASE_URL", "").rstrip("/") + path


def _send(address: str, subject: str, body: str) -> None:
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address], fail_silently=False)
    except Exception:  # the reminder is a convenience: a mail server outage must not fail the job
        logger.exception("Could not e-mail the follow-up reminder to %s", address)


@dataclass(frozen=True)
class ReminderSummary:
    users: int
    follow_ups: int


def send_reminders(*, today: date | None = None) -> ReminderSummary:
    """E-mail each active assignee with an address one list of their open follow-ups due today or overdue.

    One e-mail per user and day (a ``ReminderSent`` row, unique per user and day, written in the same transaction
    that queues the e-mail after commit). In the user's language when the user model has a ``language`` field,
    otherwise the site's default.
    """
    today = today or timezone.localdate()
    due = (
        FollowUp.objects.filter(
            status=Status.OPEN,
            due_on__lte=today,
            customer__deleted_at__isnull=True,
            assignee__is_active=True,
        )
        .exclude(assignee__email="")
        .select_related("customer", "assignee")
        .order_by("assignee_id", "due_on", "id")
    )
    already = set(ReminderSent.objects.filter(day=today).values_list("user_id", flat=True))
    by_user: dict[int, list[FollowUp]] = {}
    for follow_up in due:
        if follow_up.assignee_id not in already:
            by_user.setdefault(follow_up.assignee_id, []).append(follow_up)
    users = sent = 0
    for follow_ups in by_user.values():
        if _remind(follow_ups[0].assignee, follow_ups, today):
            users += 1
            sent += len(follow_ups)
    return ReminderSummary(users=users, follow_ups=sent)


def _remind(user, follow_ups: list[FollowUp], today: date) -> bool:
    try:
        with transaction.atomic():
            ReminderSent.objects.create(user=user, day=today, follow_ups=len(follow_ups))
            with translation.override(_language_of(user)):
                overdue = sum(1 for f in follow_ups if f.due_on < today)
                subject = _("Follow-ups due: %(count)s (%(overdue)s overdue)") % {
                    "count": len(follow_ups),
                    "overdue": overdue,
                }
                body = render_to_string(
                    "followups/reminder_email.txt",
                    {
                        "user": user,
                        "today": today,
                        "items": [
                            (f, _link(f"/customers/{f.customer_id}/?follow_up={f.pk}"), f.due_on < today)
                            for f in follow_ups
                        ],
                        "page": _link("/follow-ups/"),
                    },
                )
            address = user.email
            transaction.on_commit(lambda: _send(address, subject, body))
    except IntegrityError:  # another run sent it first
        return False
    return True
