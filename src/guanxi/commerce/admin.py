from django.contrib import admin

from guanxi.commerce.models import Order, Product


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("sku", "name", "category")
    search_fields = ("sku", "name")


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ("external_id", "customer", "ordered_at", "amount", "currency")
    search_fields = ("external_id",)
    date_hierarchy = "ordered_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
