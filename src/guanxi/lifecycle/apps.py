from datetime import time

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LifecycleConfig(AppConfig):
    name = "guanxi.lifecycle"
    label = "lifecycle"
    verbose_name = _("Lifecycle stages")

    def ready(self) -> None:
        from guanxi.core import events
        from guanxi.core.schedule import register_daily
        from guanxi.customers import personal_data
        from guanxi.customers.merge import register_related
        from guanxi.customers.panels import Panel, register_panel
        from guanxi.lifecycle import handlers, panels, selectors
        from guanxi.lifecycle.fields import register_contact_fields, register_fields

        register_fields()
        register_contact_fields()
        events.subscribe("order.placed", handlers.on_order_placed)
        events.subscribe("orders.placed", handlers.on_orders_placed)
        events.subscribe("customer.created", handlers.on_customer_created, many=handlers.on_customers_created)
        events.subscribe("scores.updated", handlers.on_scores_updated)
        # A merge leaves stages alone: the merged-away record keeps its own stage and history, and the survivor
        # is re-decided by the next evaluation (like its scores), so that undoing a merge restores everything.
        register_related("lifecycle.CustomerStage", on_merge="keep")
        register_related("lifecycle.StageTransition", on_merge="keep")
        # After the nightly scoring (02:00), which already re-evaluates; this run catches the passing of time
        # for customers whose scores did not change and installations that do not score.
        personal_data.register_exporter("lifecycle_stages", selectors.export_for)
        register_daily("lifecycle_stages", "guanxi.lifecycle.tasks.evaluate_stages_task", at=time(2, 40))
        register_panel(Panel("lifecycle-stage", "lifecycle/_stage_panel.html", panels.stage, 5, "main"))
        try:
            from guanxi.engagement.timeline import TimelineSource, register_source
        except ImportError:  # pragma: no cover - engagement not installed
            return
        register_source(TimelineSource("stages", _("Stage changes"), panels.timeline))
