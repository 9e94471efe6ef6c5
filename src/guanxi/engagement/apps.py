from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EngagementConfig(AppConfig):
    name = "guanxi.engagement"
    label = "engagement"
    verbose_name = _("Interactions and the customer timeline")

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from guanxi.customers import personal_data
        from guanxi.customers.merge import register_related
        from guanxi.customers.panels import Panel, register_panel
        from guanxi.engagement import handlers, panels, personal, sources
        from guanxi.engagement.models import Attachment
        from guanxi.ownership.activity import register_activity_table

        sources.register()
        register_panel(Panel("engagement-timeline", "engagement/_panel.html", panels.timeline, 10, "main"))
        # A merge moves every interaction onto the surviving customer (undo moves them back).
        register_related("engagement.Interaction", on_merge="move")
        personal_data.register_exporter("interactions", personal.export_interactions)
        personal_data.register_eraser("interactions", personal.erase_interactions)
        # A logged contact is work on the customer: it keeps the customer from being released to the pool as idle.
        register_activity_table("engagement.Interaction", time_field="occurred_at")
        post_delete.connect(handlers.on_attachment_deleted, sender=Attachment, dispatch_uid="engagement-attachment")
