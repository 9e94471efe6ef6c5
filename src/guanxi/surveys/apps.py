from datetime import time

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveysConfig(AppConfig):
    name = "guanxi.surveys"
    label = "surveys"
    verbose_name = _("Satisfaction surveys")

    def ready(self) -> None:
        from guanxi.automation.actions import register_action
        from guanxi.automation.triggers import register_trigger
        from guanxi.core import events
        from guanxi.core.schedule import register_daily
        from guanxi.customers import personal_data
        from guanxi.customers.merge import register_related
        from guanxi.customers.panels import Panel, register_panel
        from guanxi.engagement.timeline import TimelineSource, register_source
        from guanxi.surveys import automation, panels, personal, services

        # A resolved ticket invites its customer to the after-ticket survey, in the ticket's transaction.
        events.subscribe("ticket.resolved", services.on_ticket_resolved)
        register_trigger("survey.answered", _("Survey answered"))
        register_trigger("survey.detractor", _("Survey detractor (NPS 0-6 or CSAT 1-2)"))
        register_action(automation.NOTIFY_RESPONSE_TEAM)
        # A merge moves the loser's responses onto the survivor; its links stay with the merged-away record (one open
        # invitation per customer and survey holds on the survivor).
        register_related("surveys.Invitation", on_merge="keep")
        register_related("surveys.Response", on_merge="move")
        personal_data.register_exporter("survey_responses", personal.export_responses)
        personal_data.register_eraser("survey_responses", personal.erase_responses)
        register_panel(Panel("surveys", "surveys/_customer_panel.html", panels.customer_responses, 40, "main"))
        register_source(TimelineSource("surveys", _("Surveys"), panels.timeline))
        register_daily("segment_surveys", "guanxi.surveys.tasks.send_segment_surveys_task", at=time(10, 0))
