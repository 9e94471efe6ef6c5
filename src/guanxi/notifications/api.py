from django.http import HttpRequest
from ninja import Query, Router

from guanxi.core.pagination import paginate
from guanxi.core.schemas import ERRORS, Id
from guanxi.notifications import selectors, services
from guanxi.notifications.schemas import NotificationList, NotificationOut, NotificationQuery, ReadAllOut

router = Router(tags=["notifications"])


@router.get("", response={200: NotificationList, **ERRORS})
def list_notifications(request: HttpRequest, filters: Query[NotificationQuery]):
    """Your notifications, newest first, with the number still unread."""
    page = paginate(
        selectors.user_notifications(request.auth, unread_only=filters.unread),
        limit=filters.limit,
        offset=filters.offset,
    )
    return {
        "items": page.items,
        "total": page.total,
        "unread": selectors.unread_count(request.auth),
        "limit": filters.limit,
        "offset": filters.offset,
    }


@router.post("/read-all", response={200: ReadAllOut, **ERRORS})
def read_all(request: HttpRequest):
    """Mark all your notifications read."""
    return {"marked": services.mark_all_read(user=request.auth)}


@router.post("/{notification_id}/read", response={200: NotificationOut, **ERRORS})
def read(request: HttpRequest, notification_id: Id):
    """Mark one of your notifications read. Someone else's notification is not found."""
    return services.mark_read(user=request.auth, notification_id=notification_id)
