from django.urls import path

from guanxi.engagement import views

app_name = "engagement"
urlpatterns = [
    path("", views.recent, name="recent"),
    path("customers/<int:customer_id>/new/", views.log_form, name="form"),
    path("customers/<int:customer_id>/log/", views.log, name="log"),
    path("customers/<int:customer_id>/timeline/", views.timeline_fragment, name="timeline"),
    path("<int:interaction_id>/edit/", views.edit, name="edit"),
    path("<int:interaction_id>/delete/", views.delete, name="delete"),
    path("attachments/<int:attachment_id>/", views.download, name="download"),
]
