"""Background jobs, thin. Both run daily through the scheduler (core.schedule); a second run the same day
changes nothing."""

from datetime import date

from django_tasks import task

from guanxi.core.context import system_context
from guanxi.followups import jobs


@task(queue_name="default")
def mark_overdue_task(today: str | None = None) -> dict:
    """Emit follow_up.overdue once for every open follow-up that passed its due date."""
    with system_context("job"):
        marked = jobs.mark_overdue(today=date.fromisoformat(today) if today else None)
    return {"marked": marked}


@task(queue_name="default")
def send_reminders_task(today: str | None = None) -> dict:
    """E-mail each assignee the follow-ups due today or overdue (one e-mail per user and day)."""
    with system_context("job"):
        summary = jobs.send_reminders(today=date.fromisoformat(today) if today else None)
    return {"users": summary.users, "follow_ups": summary.follow_ups}
