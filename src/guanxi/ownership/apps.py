from datetime import time

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OwnershipConfig(AppConfig):
    name = "guanxi.ownership"
    label = "ownership"
    verbose_name = _("Ownership and public pool")

    def ready(self) -> None:
        from guanxi.core import events
        from guanxi.core.schedule import register_daily
        from guanxi.customers.merge import register_related
        from guanxi.customers.panels import Panel, register_panel
        from guanxi.ownership import handlers, panels

        events.subscribe("customer.created", handlers.on_customer_created, many=handlers.on_customers_created)
        events.subscribe("customer.updated", handlers.on_customer_updated)
        events.subscribe("customer.merged", handlers.on_customer_merged)
        events.subscribe("customer.merge_undone", handlers.on_customer_merged)
        # A merge leaves these rows with the merged-away record: its history and requests stay its own.
        for label in ("ownership.OwnershipChange", "ownership.TransferRequest", "ownership.ReleaseWarning"):
            register_related(label, on_merge="keep")
        register_panel(Panel("ownership-actions", "ownership/_actions_panel.html", panels.actions, 20, "actions"))
        # After the nightly scoring, so that a customer who ordered yesterday is not released.
        register_daily("release_idle", "guanxi.ownership.tasks.release_idle_customers_task", at=time(3, 0))
        register_panel(Panel("ownership-history", "ownership/_history_panel.html", panels.history, 20, "main"))
