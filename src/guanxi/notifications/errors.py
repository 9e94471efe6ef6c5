from guanxi.core.errors import NotFound


class NotificationNotFound(NotFound):
    code = "notification_not_found"
