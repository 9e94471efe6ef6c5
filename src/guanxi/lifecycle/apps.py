from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LifecycleConfig(AppConfig):
    name = "guanxi.lifecycle"
    label = "lifecycle"
    verbose_name = _("Lifecycle stages")

    def ready(self) -> None:
        from guanxi.lifecycle.fields import register_fields

        register_fields()
