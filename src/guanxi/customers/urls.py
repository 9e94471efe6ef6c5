from django.urls import path

from guanxi.customers import views, views_duplicates

app_name = "customers"
urlpatterns = [
    path("", views.customer_list, name="list"),
    path("new/", views.customer_create, name="create"),
    path("lookup/", views_duplicates.collision_warning, name="lookup"),
    path("duplicates/", views_duplicates.duplicate_queue, name="duplicates"),
    path("duplicates/<int:candidate_id>/", views_duplicates.duplicate_review, name="duplicate"),
    path("duplicates/<int:candidate_id>/dismiss/", views_duplicates.duplicate_dismiss, name="duplicate-dismiss"),
    path("merges/", views_duplicates.merge_history, name="merges"),
    path("merges/<int:merge_id>/undo/", views_duplicates.merge_undo, name="merge-undo"),
    path("<int:customer_id>/", views.customer_detail, name="detail"),
    path("<int:customer_id>/edit/", views.customer_edit, name="edit"),
    path("<int:customer_id>/delete/", views.customer_delete, name="delete"),
]
