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
    path("", include("guanxi.web.urls")),
]
handler404 = "guanxi.web.views.not_found"
