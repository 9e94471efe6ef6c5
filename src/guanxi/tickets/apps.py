from datetime import time

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "guanxi.tickets"
    label = "tickets"
    verbose_name = _("Service desk: tickets, queues and replies")

    def ready(self) -> None:
        from guanxi.automation.actions import register_action
        from guanxi.automation.triggers import register_trigger
        from guanxi.core.access import register_support_scope
        from guanxi.core.schedule import register_daily
        from guanxi.customers import personal_data
        from guanxi.customers.merge import register_related
        from guanxi.customers.panels import Panel, register_panel
        from guanxi.engagement.timeline import TimelineSource, register_source
        from guanxi.lifecycle.funnel import register_support_signal
        from guanxi.tickets import integration, selectors

        # Support agents see the customers behind the tickets of their team's queues or assigned to them.
        register_support_scope(selectors.support_scope)
        integration.register_fields()
        register_support_signal("has_ticket")
        register_trigger("ticket.created", _("Ticket created"))
        register_trigger("ticket.resolved", _("Ticket resolved"))
        register_trigger("ticket.reopened", _("Ticket reopened"))
        register_action(integration.OPEN_TICKET)
        register_panel(Panel("tickets", "tickets/_customer_panel.html", integration.customer_panel, 15, "main"))
        register_source(TimelineSource("tickets", _("Tickets"), integration.timeline))
        personal_data.register_exporter("tickets", integration.export_tickets)
        personal_data.register_exporter("ticket_messages", integration.export_messages)
        personal_data.register_eraser("tickets", integration.erase_tickets)
        personal_data.register_eraser("ticket_messages", integration.erase_messages)
        # A customer merge moves the loser's tickets onto the survivor.
        register_related("tickets.Ticket", on_merge="move")
        register_daily("tickets_auto_close", "guanxi.tickets.tasks.close_resolved_task", at=time(2, 15))
