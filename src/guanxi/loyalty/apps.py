from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoyaltyConfig(AppConfig):
    name = "guanxi.loyalty"
    label = "loyalty"
    verbose_name = _("Membership and points")

    def ready(self) -> None:
        from guanxi.core import events
        from guanxi.loyalty import handlers

        events.subscribe("order.placed", handlers.on_order_placed)
        events.subscribe("orders.placed", handlers.on_orders_placed, many=handlers.on_orders_placed_many)
        events.subscribe("order.refunded", handlers.on_order_refunded)
