from django.urls import path

from guanxi.deals import views

app_name = "deals"
urlpatterns = [
    path("", views.board, name="board"),
    path("new/", views.create, name="create"),
    path("leads/", views.leads, name="leads"),
    path("analytics/", views.analytics_page, name="analytics"),
    path("pipelines/", views.pipeline_settings, name="pipelines"),
    path("<int:deal_id>/", views.detail, name="detail"),
    path("<int:deal_id>/move/", views.move, name="move"),
    path("<int:deal_id>/win/", views.close, {"outcome": "won"}, name="win"),
    path("<int:deal_id>/lose/", views.close, {"outcome": "lost"}, name="lose"),
    path("<int:deal_id>/reopen/", views.close, {"outcome": "reopen"}, name="reopen"),
]
