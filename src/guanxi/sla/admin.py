from django.contrib import admin

from guanxi.sla.models import BusinessCalendar, Holiday, SLAPolicy, TicketClock


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 1
    ordering = ("-date",)


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ("name", "time_zone", "is_default", "updated_at")
    inlines = [HolidayInline]


@admin.register(SLAPolicy)
class SLAPolicyAdmin(admin.ModelAdmin):
    list_display = ("name", "priority", "tier", "first_response_minutes", "resolution_minutes", "calendar", "active")
    list_filter = ("priority", "tier", "active")
    list_editable = ("first_response_minutes", "resolution_minutes", "active")


@admin.register(TicketClock)
class TicketClockAdmin(admin.ModelAdmin):
    """Read-only: clocks follow the ticket events."""

    list_display = ("ticket", "policy", "first_response_due_at", "resolution_due_at", "paused_at", "stopped_at")
    list_select_related = ("ticket", "policy")
    raw_id_fields = ("ticket",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
