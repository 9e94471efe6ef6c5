from django.urls import path

from guanxi.surveys import views

app_name = "surveys"
urlpatterns = [
    path("", views.results, name="results"),
    path("export.csv", views.export_csv, name="export"),
    path("new/", views.edit, name="new"),
    path("<int:survey_id>/", views.edit, name="edit"),
]
