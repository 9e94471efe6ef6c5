from django.urls import path

from guanxi.quality import views

app_name = "quality"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("scorecards/", views.scorecards, name="scorecards"),
    path("coaching/", views.coaching, name="coaching"),
    path("coaching/sessions/", views.record_training, name="record_training"),
]
