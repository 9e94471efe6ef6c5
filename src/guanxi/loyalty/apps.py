from datetime import time

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoyaltyConfig(AppConfig):
    name = "guanxi.loyalty"
    label = "loyalty"
    verbose_name = _("Membership and points")

    def ready(self) -> None:
        from guanxi.automation.actions import register_action
        from guanxi.automation.triggers import register_trigger
        from guanxi.core import events
        from guanxi.core.schedule import register_daily
        from guanxi.customers import personal_data
        from guanxi.customers.merge import register_related
        from guanxi.customers.panels import Panel, register_panel
        from guanxi.engagement.timeline import TimelineSource, register_source
        from guanxi.loyalty import automation, fields, handlers, panels, personal

        # Points are earned in the placing transaction and taken back in the refunding one.
        events.subscribe("order.placed", handlers.on_order_placed)
        events.subscribe("orders.placed", handlers.on_orders_placed, many=handlers.on_orders_placed_many)
        events.subscribe("order.refunded", handlers.on_order_refunded)
        # A merge moves the loser's ledger and tier history to the survivor; the loser's membership row is
        # removed (kept in the merge record for undo) and the survivor's cache rebuilt from the moved ledger.
        register_related("loyalty.PointsEntry", on_merge="move")
        register_related("loyalty.TierChange", on_merge="move")
        register_related("loyalty.Membership", on_merge="remove")
        events.subscribe("customer.merged", handlers.on_customer_merged)
        events.subscribe("customer.merge_undone", handlers.on_merge_undone)
        personal_data.register_exporter("membership", personal.export_membership)
        personal_data.register_exporter("points", personal.export_points)
        personal_data.register_eraser("membership", personal.erase_membership)
        fields.register_fields()
        register_panel(Panel("membership", "loyalty/_customer_panel.html", panels.customer_membership, 8, "main"))
        register_source(TimelineSource("points", _("Points"), panels.timeline))
        register_trigger("member.tier_changed", _("Membership tier changed"))
        register_action(automation.GRANT_POINTS)
        # Expiry just after midnight (lots expire at the end of their day); tiers reviewed after it.
        register_daily("loyalty_expire_points", "guanxi.loyalty.tasks.expire_points_task", at=time(0, 10))
        register_daily("loyalty_review_tiers", "guanxi.loyalty.tasks.review_tiers_task", at=time(0, 40))
