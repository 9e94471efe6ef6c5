"""Background jobs, thin. Both run daily through the scheduler (core.schedule); a second run changes nothing."""

from datetime import date, datetime

from django_tasks import task

from guanxi.core.context import system_context
from guanxi.loyalty import services, tiering


@task(queue_name="default")
def expire_points_task(today: str | None = None) -> dict:
    """Expire what is left of the lots whose expiry date has passed (FIFO allocations, ``expire:<lot id>``)."""
    with system_context("job"):
        written = services.expire_points(today=date.fromisoformat(today) if today else None)
    return {"expired_lots": written}


@task(queue_name="default")
def review_tiers_task(now: str | None = None) -> dict:
    """Move every member to the tier their rolling window qualifies for (downgrades happen here)."""
    with system_context("job"):
        moved = tiering.review_tiers(now=datetime.fromisoformat(now) if now else None)
    return {"tier_changes": moved}
