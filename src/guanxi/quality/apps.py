from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QualityConfig(AppConfig):
    name = "guanxi.quality"
    label = "quality"
    verbose_name = _("Service-process analysis and coaching")

    def ready(self) -> None:
        pass
