from django.urls import path

from guanxi.tickets import views

app_name = "tickets"
urlpatterns = [
    path("", views.ticket_list, name="list"),
    path("new/", views.new, name="new"),
    path("<int:ticket_id>/", views.detail, name="detail"),
    path("<int:ticket_id>/reply/", views.reply, name="reply"),
    path("<int:ticket_id>/status/", views.change_status, name="status"),
    path("<int:ticket_id>/update/", views.update, name="update"),
    path("<int:ticket_id>/merge/", views.merge, name="merge"),
    path("attachments/<int:attachment_id>/", views.download, name="download"),
]
