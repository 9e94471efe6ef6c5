from django.contrib import admin

from guanxi.tickets.models import Queue, TicketCategory


@admin.register(TicketCategory)
class TicketCategoryAdmin(admin.ModelAdmin):
    list_display = ("key", "name", "name_zh_hans", "active", "order")
    list_editable = ("active", "order")
    search_fields = ("key", "name", "name_zh_hans")


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ("name", "name_zh_hans", "team", "assignment", "active")
    list_filter = ("assignment", "active", "team")
    search_fields = ("name", "name_zh_hans")
