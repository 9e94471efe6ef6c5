from django.urls import path

from guanxi.privacy import views

app_name = "privacy"
urlpatterns = [
    path("erasures/", views.erasure_log, name="erasures"),
    path("customers/<int:customer_id>/consents/", views.record_consent, name="record_consent"),
    path("customers/<int:customer_id>/profiling/", views.set_profiling, name="profiling"),
    path("customers/<int:customer_id>/export/", views.export, name="export"),
    path("customers/<int:customer_id>/erase/", views.erase, name="erase"),
]
