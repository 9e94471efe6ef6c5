from datetime import time

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SegmentsConfig(AppConfig):
    name = "guanxi.segments"
    label = "segments"
    verbose_name = _("Segments and scores")

    def ready(self) -> None:
        from guanxi.core.schedule import register_daily
        from guanxi.customers.merge import register_related
        from guanxi.customers.panels import Panel, register_panel

        register_panel(Panel("recommendations", "segments/_customer_panel.html", _recommendations_panel, order=40))
        # Derived from the merged-away customer's own orders: the next scoring run recommends for the survivor.
        register_related("segments.Recommendation", on_merge="remove")
        register_daily("score", "guanxi.segments.tasks.score_customers_task", at=time(2, 0))


def _recommendations_panel(request, customer):
    # Imported on first use: the views pull in pandas, Ibis and scikit-learn, seconds that every CLI command and
    # worker start would otherwise pay in AppConfig.ready().
    from guanxi.segments.views import recommendations_panel

    return recommendations_panel(request, customer)
