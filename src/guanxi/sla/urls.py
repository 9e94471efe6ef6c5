from django.urls import path

from guanxi.sla import views

app_name = "sla"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("settings/", views.settings_page, name="settings"),
    path("settings/policies/", views.save_policy, name="policy_create"),
    path("settings/policies/<int:policy_id>/", views.save_policy, name="policy"),
    path("settings/calendars/<int:calendar_id>/hours/", views.save_hours, name="hours"),
    path("settings/calendars/<int:calendar_id>/holidays/", views.add_holiday, name="holiday_add"),
    path(
        "settings/calendars/<int:calendar_id>/holidays/<int:holiday_id>/remove/",
        views.remove_holiday,
        name="holiday_remove",
    ),
]
