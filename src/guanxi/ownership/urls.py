from django.urls import path

from guanxi.ownership import views

app_name = "ownership"
urlpatterns = [
    path("", views.pool, name="pool"),
    path("customers/<int:customer_id>/claim/", views.claim, name="claim"),
    path("customers/<int:customer_id>/release/", views.release, name="release"),
    path("customers/<int:customer_id>/transfer/", views.transfer_request, name="transfer"),
    path("transfers/", views.transfer_list, name="transfers"),
    path("transfers/<int:request_id>/<str:decision>/", views.transfer_decide, name="decide"),
    path("rules/", views.rules, name="rules"),
    path("rules/<int:team_id>/", views.rule_edit, name="rule"),
]
