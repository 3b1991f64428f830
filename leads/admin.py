from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from .models import IntakeKey
from .services import intake_key_create, intake_key_revoke, intake_key_rotate


@admin.register(IntakeKey)
class IntakeKeyAdmin(admin.ModelAdmin):
    list_display = ("label", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "created_at", "created_by", "last_used_at", "revoked_at")
    fields = ("label", *readonly_fields)
    actions = ["rotate", "revoke"]

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the audit log keeps referring to the key

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        key, secret = intake_key_create(actor=request.user, label=obj.label)
        obj.pk = key.pk
        messages.warning(request, _("New intake key (shown only this once): %(secret)s") % {"secret": secret})

    @admin.action(description=_("Rotate: revoke and issue a replacement"))
    def rotate(self, request, queryset):
        for key in queryset.filter(revoked_at__isnull=True):
            _, secret = intake_key_rotate(actor=request.user, key=key)
            messages.warning(request, _("Replacement for %(label)s (shown only this once): %(secret)s") % {"label": key.label, "secret": secret})

    @admin.action(description=_("Revoke"))
    def revoke(self, request, queryset):
        for key in queryset:
            intake_key_revoke(actor=request.user, key=key, reason="revoked in admin")
