"""Admin of the evidence part: the credit policy (audited), the finance secret (rotated here,
shown once) and read-only views of evidence, reviews, confirmations and prepayments."""
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from audit.admin_mixins import AuditedAdminMixin
from followups.admin import ReadOnlyAdminMixin

from .models import CreditPolicy, CustomerConfirmation, Evidence, EvidenceReview, FinanceSecret, Prepayment
from .services.finance_secret import finance_secret_issue


@admin.register(CreditPolicy)
class CreditPolicyAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "strong_points", "medium_points", "weak_points", "prepayment_points")

    def has_add_permission(self, request):
        return not CreditPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "opportunity", "source", "level", "points", "state", "created_by")
    list_filter = ("source", "level", "state")
    list_select_related = ("opportunity", "created_by")
    raw_id_fields = ("opportunity", "followup", "created_by")


@admin.register(EvidenceReview)
class EvidenceReviewAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("at", "evidence", "action", "points_before", "points_after", "reviewer", "reason")
    list_select_related = ("evidence", "reviewer")


@admin.register(CustomerConfirmation)
class CustomerConfirmationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "opportunity", "rep_name", "met_on", "expires_at", "confirmed_at", "user_agent")
    list_select_related = ("opportunity",)


@admin.register(Prepayment)
class PrepaymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("received_at", "reference", "opportunity", "amount", "currency", "via", "recorded_by")
    search_fields = ("reference",)
    list_select_related = ("opportunity", "recorded_by")


@admin.action(description=_("Rotate the finance webhook secret (the new one is shown once)"))
def rotate_secret(modeladmin, request, queryset):
    secret = finance_secret_issue(actor=request.user)
    messages.warning(request, _("New finance secret (shown once; give it to the finance system now): %(secret)s")
                     % {"secret": secret})


@admin.register(FinanceSecret)
class FinanceSecretAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The secret itself is never shown again: only its last characters and who issued it."""

    list_display = ("__str__", "rotated_at", "rotated_by")
    exclude = ("ciphertext",)
    actions = [rotate_secret]

    def has_change_permission(self, request, obj=None):
        # The changelist's action form needs change permission; editing stays impossible (no editable fields).
        return obj is None and request.user.is_superuser
