from django.contrib import admin

from guanxi.customers.models import Customer, CustomFieldDefinition, Tag


@admin.register(CustomFieldDefinition)
class CustomFieldDefinitionAdmin(admin.ModelAdmin):
    list_display = ("key", "label", "label_zh_hans", "field_type", "required", "active")
    list_filter = ("field_type", "active")


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ("name",)


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    """Read-only here: customer changes go through the pages and the API, which audit them."""

    list_display = ("display_name", "kind", "owner", "team", "source", "created_at", "deleted_at")
    list_filter = ("kind", "source", "team")
    search_fields = ("display_name", "search_text")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
