from django.urls import path

from guanxi.integrations import views

app_name = "integrations"
urlpatterns = [
    path("", views.endpoint_list, name="endpoints"),
    path("new/", views.endpoint_create, name="endpoint_create"),
    path("<int:endpoint_id>/", views.endpoint_edit, name="endpoint"),
    path("<int:endpoint_id>/<str:action>/", views.endpoint_action, name="endpoint_action"),
    path("deliveries/", views.delivery_list, name="deliveries"),
    path("deliveries/<int:delivery_id>/", views.delivery_detail, name="delivery"),
    path("deliveries/<int:delivery_id>/redeliver/", views.redeliver, name="redeliver"),
]
