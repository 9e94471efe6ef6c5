"""Reads of the inbox: a user only ever sees their own notifications."""

from django.db.models import QuerySet

from guanxi.notifications.models import Notification


def user_notifications(user, *, unread_only: bool = False) -> QuerySet:
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    notifications = Notification.objects.filter(user=user)
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    return notifications.order_by("-created_at", "-id")


def unread_count(user) -> int:
    return user_notifications(user, unread_only=True).count()
