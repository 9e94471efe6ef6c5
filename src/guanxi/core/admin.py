from django.contrib import admin

from guanxi.core.models import AuditEntry, Event


class ReadOnlyAdmin(admin.ModelAdmin):
    """Events and audit entries are append-only: the admin shows them and changes nothing."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "type", "subject_type", "subject_id", "actor")
    list_filter = ("type", "subject_type")
    search_fields = ("type",)


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = (
        "at",
        "actor_label",
        "action",
        "subject_type",
        "subject_id",
        "subject_label",
        "ip_address",
    )
    list_filter = ("action", "subject_type")
    search_fields = ("actor_label", "subject_label")
