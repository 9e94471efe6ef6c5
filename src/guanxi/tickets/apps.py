from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "guanxi.tickets"
    label = "tickets"
    verbose_name = _("Service desk: tickets, queues and replies")

    def ready(self) -> None:
        pass
