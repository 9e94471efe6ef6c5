from django.contrib import admin
from django.urls import include, path

from guanxi.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("guanxi.accounts.urls")),
    path("customers/", include("guanxi.customers.urls")),
    path("imports/", include("guanxi.imports.urls")),
    path("analytics/", include("guanxi.segments.urls")),
    path("ownership/", include("guanxi.ownership.urls")),
    path("notifications/", include("guanxi.notifications.urls")),
    path("privacy/", include("guanxi.privacy.urls")),
    path("interactions/", include("guanxi.engagement.urls")),
    path("follow-ups/", include("guanxi.followups.urls")),
    path("lifecycle/", include("guanxi.lifecycle.urls")),
    path("automation/", include("guanxi.automation.urls")),
    path("webhooks/", include("guanxi.integrations.urls")),
    path("tickets/", include("guanxi.tickets.urls")),
    path("sla/", include("guanxi.sla.urls")),
    path("surveys/", include("guanxi.surveys.urls")),
    path("service-quality/", include("guanxi.quality.urls")),
    path("loyalty/", include("guanxi.loyalty.urls")),
    path("offers/", include("guanxi.offers.urls")),
    path("deals/", include("guanxi.deals.urls")),
    # public, no login: the ticket form and status page, survey answers (each by a secret token)
    path("help/", include("guanxi.tickets.public_urls")),
    path("survey/", include("guanxi.surveys.public_urls")),
    path("", include("guanxi.web.urls")),
]
handler404 = "guanxi.web.views.not_found"
