from datetime import time

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "guanxi.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from guanxi.core.schedule import register_daily
        from guanxi.customers.merge import register_defaults

        register_defaults()
        register_daily("find_duplicates", "guanxi.customers.tasks.find_duplicates_task", at=time(4, 0))
