from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "guanxi.sla"
    label = "sla"
    verbose_name = _("Service levels and business hours")

    def ready(self) -> None:
        from guanxi.automation.triggers import register_trigger
        from guanxi.core import events
        from guanxi.core.schedule import register_every
        from guanxi.sla import panels, services
        from guanxi.tickets.panels import TicketPanel, register_ticket_panel

        # The clock follows the ticket in the same transaction as each change.
        events.subscribe("ticket.created", services.on_ticket_created)
        events.subscribe("ticket.status_changed", services.on_status_changed)
        events.subscribe("ticket.replied", services.on_replied)
        events.subscribe("ticket.priority_changed", services.on_priority_changed)
        register_trigger("ticket.sla_breached", _("Ticket SLA breached"))
        register_every("sla_breaches", "guanxi.sla.tasks.check_breaches_task", minutes=5)
        register_ticket_panel(TicketPanel("sla", "sla/_ticket_panel.html", panels.ticket_clock, 10))
