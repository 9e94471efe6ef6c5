from django.urls import path

from guanxi.loyalty import views

app_name = "loyalty"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("programme/", views.programme_edit, name="programme"),
    path("tiers/<int:tier_id>/", views.tier_edit, name="tier"),
    path("campaigns/", views.campaign_create, name="campaign_create"),
    path("campaigns/<int:campaign_id>/active/", views.campaign_toggle, name="campaign_toggle"),
    path("customers/<int:customer_id>/redeem/", views.redeem, name="redeem"),
    path("customers/<int:customer_id>/adjust/", views.adjust, name="adjust"),
]
