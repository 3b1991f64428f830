from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from .labels import actor_label, verb_label
from .models import AuditEntry
from .selectors import audit_chain_verify


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("seq", "created_at", "actor", "verb_name", "target_type", "target_id", "reason")
    list_filter = ("verb", "target_type")
    search_fields = ("verb", "actor_label", "target_id", "reason")
    date_hierarchy = "created_at"
    show_full_result_count = False
    list_per_page = 50
    readonly_fields = [f.name for f in AuditEntry._meta.fields]
    change_list_template = "admin/audit/auditentry/change_list.html"

    @admin.display(description=_("actor"), ordering="actor_label")
    def actor(self, entry):
        return actor_label(entry.actor_label)

    @admin.display(description=_("action"), ordering="verb")
    def verb_name(self, entry):
        return verb_label(entry.verb)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        verify = path("verify/", self.admin_site.admin_view(self.verify_view), name="audit_auditentry_verify")
        return [verify, *super().get_urls()]

    def verify_view(self, request):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Audit chain verification"),
            "verdict": audit_chain_verify(),
        }
        return TemplateResponse(request, "admin/audit/verify.html", context)


from .checkpoints import admin as checkpoints_admin  # noqa: E402,F401  (registers the checkpoint admin)
