from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DealsConfig(AppConfig):
    name = "guanxi.deals"
    label = "deals"
    verbose_name = _("Sales pipeline")

    def ready(self) -> None:
        from guanxi.automation.triggers import register_trigger
        from guanxi.customers import personal_data
        from guanxi.customers.merge import register_related
        from guanxi.customers.panels import Panel, register_panel
        from guanxi.deals import panels, personal
        from guanxi.engagement.timeline import TimelineSource, register_source

        register_trigger("deal.created", _("Deal created"))
        register_trigger("deal.stage_changed", _("Deal moved to another stage"))
        register_trigger("deal.won", _("Deal won"))
        register_trigger("deal.lost", _("Deal lost"))
        # A merge moves the loser's deals (and so their history) onto the survivor; undo moves them back.
        register_related("deals.Deal", on_merge="move")
        personal_data.register_exporter("deals", personal.export_deals)
        personal_data.register_eraser("deals", personal.erase_deals)
        register_panel(Panel("deals", "deals/_customer_panel.html", panels.customer_deals, 6, "main"))
        register_source(TimelineSource("deals", _("Deals"), panels.timeline))
