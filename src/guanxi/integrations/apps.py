from datetime import time

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "guanxi.integrations"
    label = "integrations"
    verbose_name = _("Webhooks and outgoing e-mail")

    def ready(self) -> None:
        from guanxi.core import events
        from guanxi.core.schedule import register_daily
        from guanxi.customers import personal_data
        from guanxi.integrations import handlers, personal

        events.subscribe(events.ANY, handlers.on_event, many=handlers.on_events)
        personal_data.register_eraser("webhook_deliveries", personal.erase_deliveries)
        # Retries are deferred tasks; this catches deliveries whose task was lost (a worker restored from backup,
        # a backend that cannot defer).
        register_daily("retry_webhooks", "guanxi.integrations.tasks.retry_due_webhooks_task", at=time(5, 0))
