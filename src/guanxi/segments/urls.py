from django.urls import path

from guanxi.segments import views

app_name = "segments"
urlpatterns = [
    path("", views.analytics_dashboard, name="dashboard"),
    path("forecast/", views.forecast, name="forecast"),
]
