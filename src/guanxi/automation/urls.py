from django.urls import path

from guanxi.automation import views

app_name = "automation"
urlpatterns = [
    path("", views.rule_list, name="rules"),
    path("rules/new/", views.rule_edit, name="rule_new"),
    path("rules/dry-run/", views.dry_run, name="dry_run"),
    path("rules/<int:rule_id>/", views.rule_edit, name="rule"),
    path("rules/<int:rule_id>/runs/", views.rule_runs, name="runs"),
    path("templates/", views.template_list, name="templates"),
    path("templates/new/", views.template_edit, name="template_new"),
    path("templates/<int:template_id>/", views.template_edit, name="template"),
]
