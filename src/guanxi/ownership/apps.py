from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OwnershipConfig(AppConfig):
    name = "guanxi.ownership"
    label = "ownership"
    verbose_name = _("Ownership and public pool")

    def ready(self) -> None:
        from guanxi.core import events
        from guanxi.customers.panels import Panel, register_panel
        from guanxi.ownership import handlers, panels

        events.subscribe("customer.created", handlers.on_customer_created)
        events.subscribe("customer.updated", handlers.on_customer_updated)
        register_panel(Panel("ownership-actions", "ownership/_actions_panel.html", panels.actions, 20, "actions"))
        register_panel(Panel("ownership-history", "ownership/_history_panel.html", panels.history, 20, "main"))
