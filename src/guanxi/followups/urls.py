from django.urls import path

from guanxi.followups import views

app_name = "followups"
urlpatterns = [
    path("", views.follow_up_list, name="list"),
    path("customers/<int:customer_id>/add/", views.create, name="create"),
    path("<int:follow_up_id>/done/", views.done, name="done"),
    path("<int:follow_up_id>/cancel/", views.cancel, name="cancel"),
    path("<int:follow_up_id>/edit/", views.edit, name="edit"),
    path("silent/", views.silent, name="silent"),
    path("calendar/", views.calendar, name="calendar"),
    path("calendar/<str:token>.ics", views.feed, name="feed"),
    path("policies/", views.policies, name="policies"),
    path("policies/<slug:key>/", views.policy_edit, name="policy"),
]
