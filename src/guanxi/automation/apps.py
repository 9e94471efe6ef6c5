from datetime import time

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutomationConfig(AppConfig):
    name = "guanxi.automation"
    label = "automation"
    verbose_name = _("Automation rules and playbooks")

    def ready(self) -> None:
        from guanxi.automation import engine
        from guanxi.core import events
        from guanxi.core.schedule import register_daily
        from guanxi.customers.merge import register_related

        # Every event type: which ones trigger something is data (the rules), not code.
        events.subscribe(events.ANY, engine.on_event, many=engine.on_events)
        # After scoring (02:00), idle release (03:00) and the lifecycle's nightly stages, so that daily rules
        # see today's tiers and stages.
        register_daily("automation_daily_rules", "guanxi.automation.tasks.run_daily_rules_task", at=time(5, 0))
        # A merged-away customer's run log stays its own history.
        register_related("automation.RuleRun", on_merge="keep")
