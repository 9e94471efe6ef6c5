from datetime import time

from django.apps import AppConfig
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class FollowupsConfig(AppConfig):
    name = "guanxi.followups"
    label = "followups"
    verbose_name = _("Follow-ups and regular return visits")

    def ready(self) -> None:
        from guanxi.core import events
        from guanxi.core.schedule import register_daily
        from guanxi.customers import personal_data
        from guanxi.customers.merge import register_related
        from guanxi.customers.panels import Panel, register_panel
        from guanxi.engagement.timeline import TimelineSource, register_source
        from guanxi.followups import handlers, panels, personal, services

        # Logging a contact completes the follow-up it was for, in the same transaction.
        events.subscribe("interaction.logged", services.on_interaction_logged)
        # A customer's new owner takes over the follow-ups the previous one can no longer see.
        events.subscribe("customer.owner_changed", handlers.on_owner_changed)
        events.subscribe("customer.updated", handlers.on_customer_updated)
        # A merge moves the loser's follow-ups onto the survivor (undo moves them back).
        # Two open follow-ups for the same purpose (one welcome sequence step, say) cannot both survive a merge:
        # the survivor's stays, the loser's is set aside with the merge record (undo puts it back).
        register_related(
            "followups.FollowUp",
            on_merge="move",
            unique_with=("dedupe_key",),
            unique_when=Q(status="open") & ~Q(dedupe_key=""),
        )
        personal_data.register_exporter("follow_ups", personal.export_follow_ups)
        personal_data.register_eraser("follow_ups", personal.erase_follow_ups)
        register_panel(Panel("follow-ups", "followups/_customer_panel.html", panels.customer_follow_ups, 5, "main"))
        register_source(TimelineSource("follow_ups", _("Follow-ups"), panels.timeline))
        # Overdue events early, so automation reacts before the working day; reminders before it starts.
        register_daily("follow_ups_overdue", "guanxi.followups.tasks.mark_overdue_task", at=time(0, 30))
        register_daily("follow_up_reminders", "guanxi.followups.tasks.send_reminders_task", at=time(7, 30))
