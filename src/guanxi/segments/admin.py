from django.contrib import admin

from guanxi.core.admin import ReadOnlyAdmin
from guanxi.segments.models import ScoreRun


@admin.register(ScoreRun)
class ScoreRunAdmin(ReadOnlyAdmin):
    list_display = ("started_at", "as_of", "status", "customers_scored", "customers_skipped", "finished_at")
    list_filter = ("status",)
