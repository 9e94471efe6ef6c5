from django.urls import path

from guanxi.lifecycle import views

app_name = "lifecycle"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("stages/", views.stages, name="stages"),
    path("stages/new/", views.stage_edit, name="stage_new"),
    path("stages/<int:definition_id>/", views.stage_edit, name="stage_edit"),
]
