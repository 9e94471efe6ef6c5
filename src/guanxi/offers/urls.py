from django.urls import path

from guanxi.offers import views

app_name = "offers"
urlpatterns = [
    path("", views.offer_list, name="list"),
    path("new/", views.offer_edit, name="new"),
    path("<int:offer_id>/edit/", views.offer_edit, name="edit"),
    path("campaigns/", views.campaign_list, name="campaigns"),
    path("campaigns/<int:campaign_id>/", views.campaign_report, name="campaign"),
    path("campaigns/<int:campaign_id>/launch/", views.launch, name="launch"),
    path("customers/<int:customer_id>/issue/", views.issue, name="issue"),
    path("customers/<int:customer_id>/redeem/", views.redeem, name="redeem"),
]
