from django.urls import path

from guanxi.imports import views

app_name = "imports"
urlpatterns = [
    path("", views.job_list, name="jobs"),
    path("new/", views.upload, name="upload"),
    path("<int:job_id>/", views.job_detail, name="detail"),
    path("<int:job_id>/mapping/", views.mapping, name="mapping"),
    path("<int:job_id>/preview/", views.preview, name="preview"),
    path("<int:job_id>/start/", views.start, name="start"),
    path("<int:job_id>/rejected.csv", views.rejected_csv, name="rejected"),
    path("export/customers.<str:fmt>", views.export_customers, name="export"),
]
