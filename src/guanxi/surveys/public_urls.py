from django.urls import path

from guanxi.surveys import public_views

# Public pages: no login; reachable by a secret token.
app_name = "surveys_public"
urlpatterns = [
    path("thanks/", public_views.thanks, name="thanks"),
    path("<str:token>/", public_views.form, name="form"),
]
