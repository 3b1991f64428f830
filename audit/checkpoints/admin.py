from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .keys import verifier_key
from .models import Checkpoint


@admin.register(Checkpoint)
class CheckpointAdmin(admin.ModelAdmin):
    """Signed checkpoints, read-only; the page shows the key anyone can check them with."""

    list_display = ("tree_size", "created_at", "reason", "root_hash", "stamped")
    list_filter = ("reason",)
    readonly_fields = ("tree_size", "root_hash", "origin", "note", "consistency_from", "consistency_proof", "reason",
                       "created_at")
    change_list_template = "admin/audit/checkpoint/change_list.html"
    show_full_result_count = False

    @admin.display(description=_("time-stamped"), boolean=True)
    def stamped(self, checkpoint):
        return checkpoint.stamps.filter(token__isnull=False).exists()

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "verifier_key": str(verifier_key())}
        return super().changelist_view(request, extra_context)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
