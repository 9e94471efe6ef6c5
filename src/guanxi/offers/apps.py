from datetime import time

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OffersConfig(AppConfig):
    name = "guanxi.offers"
    label = "offers"
    verbose_name = _("Offers, coupons and campaigns")

    def ready(self) -> None:
        from guanxi.automation.actions import register_action
        from guanxi.automation.triggers import register_trigger
        from guanxi.core.schedule import register_daily
        from guanxi.customers import personal_data
        from guanxi.customers.merge import register_related
        from guanxi.customers.panels import Panel, register_panel
        from guanxi.engagement.timeline import TimelineSource, register_source
        from guanxi.offers import automation, fields, panels, personal

        register_action(automation.ISSUE_OFFER)
        fields.register_fields()
        register_trigger("coupon.redeemed", _("Coupon redeemed"))
        # A merge moves the loser's coupons to the survivor; a campaign membership moves unless the survivor is
        # in the same campaign already (then the loser's is set aside with the merge record, undo restores it).
        register_related("offers.Coupon", on_merge="move")
        register_related("offers.CampaignMember", on_merge="move", unique_with=("campaign",))
        personal_data.register_exporter("coupons", personal.export_coupons)
        personal_data.register_exporter("campaigns", personal.export_campaigns)
        personal_data.register_eraser("coupons", personal.erase_coupons)
        register_panel(Panel("coupons", "offers/_customer_panel.html", panels.customer_coupons, 9, "main"))
        register_source(TimelineSource("coupons", _("Coupons"), panels.timeline))
        # Expiry just after midnight (a coupon expires at its time of day, the daily job marks it);
        # birthdays in the morning, before the shops open.
        register_daily("offers_expire_coupons", "guanxi.offers.tasks.expire_coupons_task", at=time(0, 20))
        register_daily("offers_birthday_bonus", "guanxi.offers.tasks.birthday_bonus_task", at=time(6, 0))
