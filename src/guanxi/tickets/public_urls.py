from django.urls import path

from guanxi.tickets import public_views

# Public pages: no login; the status page is reachable by a secret token.
app_name = "tickets_public"
urlpatterns = [
    path("", public_views.ticket_form, name="form"),
    path("t/<str:token>/", public_views.status_page, name="status"),
]
