from django.contrib import admin

from audit.admin_mixins import AuditedAdminMixin

from . import admin_evidence  # noqa: F401  (admin of evidence, gates and prepayments)
from .models_targets import HeatmapReport, Target, TargetPolicy


@admin.register(Target)
class TargetAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("period_start", "period_kind", "level", "region", "team", "rep", "product_line", "amount", "owner", "deadline")
    list_filter = ("period_kind", "level", "period_start")
    raw_id_fields = ("rep", "owner", "updated_by")
    readonly_fields = ("updated_at", "updated_by")


@admin.register(TargetPolicy)
class TargetPolicyAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "green_from", "yellow_from")

    def has_add_permission(self, request):
        return not TargetPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(HeatmapReport)
class HeatmapReportAdmin(admin.ModelAdmin):
    list_display = ("iso_week", "recipient", "scope", "period_start", "sent_at")
    list_filter = ("iso_week",)
    readonly_fields = ("iso_week", "recipient", "scope", "period_start", "cells", "sent_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
