from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from audit.admin_mixins import AuditedAdminMixin
from salesflow.formatting import format_amount

from .models import (
    Account,
    ActionTemplate,
    Contact,
    FollowUp,
    Opportunity,
    SlaAlert,
    SlaPolicy,
    Stage,
    StageReminder,
    StageRequirement,
)


class ReadOnlyAdminMixin:
    """Rows written only by services (timed, audited) or the scan: admins look, never edit."""

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RequirementInline(admin.TabularInline):
    model = StageRequirement
    extra = 0


class ReminderInline(admin.TabularInline):
    model = StageReminder
    extra = 0


@admin.register(Stage)
class StageAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("position", "code", "name_zh", "name_en", "outcome", "probability")
    list_display_links = ("code",)
    inlines = [RequirementInline, ReminderInline]

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        from audit.services import audit_record

        if formset.has_changed():
            audit_record(
                actor=request.user, verb="stage.action_pack_changed", target=form.instance,
                payload={"via": "admin", "inline": formset.model._meta.model_name},
            )


@admin.register(SlaPolicy)
class SlaPolicyAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "golden_hours", "yellow_after_days", "red_after_days", "stagnation_working_days")

    def has_add_permission(self, request):
        return not SlaPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ActionTemplate)
class ActionTemplateAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("position", "code", "title_zh", "title_en", "kind", "action", "is_visit_outcome", "active")
    list_display_links = ("code",)
    list_filter = ("active", "is_visit_outcome", "kind")

    def has_delete_permission(self, request, obj=None):
        return False  # follow-ups keep pointing at their template: deactivate instead


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0


@admin.register(Account)
class AccountAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "industry", "region", "owner", "light")
    search_fields = ("name",)
    list_filter = ("light",)
    raw_id_fields = ("owner",)
    inlines = [ContactInline]


@admin.register(Opportunity)
class OpportunityAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only here: stage moves and clocks go through the services (audited, timed)."""

    list_display = ("name", "account", "owner", "stage", "amount_display", "light", "is_stagnant", "next_due_at")

    @admin.display(description=_("amount"), ordering="amount")
    def amount_display(self, obj):
        return format_amount(obj.amount)
    list_filter = ("stage", "light", "is_stagnant", "is_open")
    search_fields = ("name", "account__name")
    list_select_related = ("account", "owner", "stage")


@admin.register(FollowUp)
class FollowUpAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("occurred_at", "opportunity", "author", "kind", "action")
    list_select_related = ("opportunity", "author")
    list_filter = ("kind", "action")


@admin.register(SlaAlert)
class SlaAlertAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("raised_at", "kind", "opportunity", "owner", "lapse")
    list_filter = ("kind",)
    list_select_related = ("opportunity", "owner")
