from django.urls import path  # noqa: F401

# Public pages: no login; reachable by a secret token.
app_name = "tickets_public"
urlpatterns: list = []
