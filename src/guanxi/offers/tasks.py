"""Background jobs, thin. Both run daily through the scheduler (core.schedule); a second run the same day
changes nothing."""

from datetime import date

from django_tasks import task

from guanxi.core.context import system_context
from guanxi.offers import services


@task(queue_name="default")
def expire_coupons_task() -> dict:
    """Mark issued coupons past their expiry as expired."""
    with system_context("job"):
        expired = services.expire_coupons()
    return {"expired": expired}


@task(queue_name="default")
def birthday_bonus_task(today: str | None = None) -> dict:
    """Credit the birthday bonus to members whose birthday is today (once per year)."""
    with system_context("job"):
        credited = services.grant_birthday_bonus(today=date.fromisoformat(today) if today else None)
    return {"credited": credited}
