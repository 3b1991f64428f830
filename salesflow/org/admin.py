from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from audit.admin_mixins import AuditedAdminMixin
from salesflow.memo import MemoForgettingAdminMixin

from .forms import RosterUploadForm
from .models import Holiday, Member, Region, Team, TenantSettings, VocabularyEntry
from .roster import COLUMNS, roster_import
from .selectors import ROSTER_MEMO_KEY
from .services import tenant_settings_update
from .vocabularies import VocabularyChoiceField, VocabularyMultipleChoiceField, vocabulary_entry_problems, vocabulary_forget


admin.site.unregister(get_user_model())


@admin.register(get_user_model())
class AuditedUserAdmin(AuditedAdminMixin, UserAdmin):
    audit_verb_prefix = "user"


@admin.register(TenantSettings)
class TenantSettingsAdmin(admin.ModelAdmin):
    list_display = ("display_name", "time_zone", "default_language", "weekend_days", "intake_rate_limit")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        # Through the service: validated, audited and the per-tenant cache refreshed.
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        tenant_settings_update(actor=request.user, reason="admin", **changes)


@admin.register(Holiday)
class HolidayAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("date", "name", "is_workday")
    date_hierarchy = "date"


class RegionForm(forms.ModelForm):
    """An organisation region is a value of the region list, so reps' regions and leads' regions match."""

    name = VocabularyChoiceField("region", label=_("name"))

    class Meta:
        model = Region
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["name"].keep([self.instance.name])


@admin.register(Region)
class RegionAdmin(MemoForgettingAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    memo_keys = (ROSTER_MEMO_KEY,)
    form = RegionForm
    list_display = ("name", "parent", "director")
    autocomplete_fields = ("director",)
    search_fields = ("name",)


@admin.register(Team)
class TeamAdmin(MemoForgettingAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    memo_keys = (ROSTER_MEMO_KEY,)
    list_display = ("name", "region", "manager")
    list_filter = ("region",)
    autocomplete_fields = ("manager",)
    search_fields = ("name",)


class MemberForm(forms.ModelForm):
    """A rep's industries and product lines are picked from the tenant's lists."""

    industries = VocabularyMultipleChoiceField("industry", label=_("industries"))
    product_lines = VocabularyMultipleChoiceField("product_line", label=_("product lines"))

    class Meta:
        model = Member
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["industries"].keep(self.instance.industries or [])
        self.fields["product_lines"].keep(self.instance.product_lines or [])


@admin.register(Member)
class MemberAdmin(MemoForgettingAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    memo_keys = (ROSTER_MEMO_KEY,)
    form = MemberForm
    list_display = ("full_name", "user", "role", "team", "region", "years_experience", "capacity", "availability")
    list_filter = ("role", "availability", "region", "team")
    search_fields = ("full_name", "user__username", "user__email")
    list_select_related = ("user", "team", "region")
    autocomplete_fields = ("user",)
    change_list_template = "admin/org/member/change_list.html"

    def get_urls(self):
        upload = path("import/", self.admin_site.admin_view(self.import_view), name="org_member_import")
        return [upload, *super().get_urls()]

    def import_view(self, request):
        form = RosterUploadForm(request.POST or None, request.FILES or None)
        errors: list[str] = []
        if request.method == "POST" and form.is_valid():
            decoded = form.cleaned_data["file"]
            result = roster_import(actor=request.user, text=decoded.text, source="admin upload", encoding=decoded.encoding)
            if result.ok:
                messages.success(request, _("Roster imported (read as %(encoding)s): %(c)d created, %(u)d updated.") % {
                    "encoding": result.encoding, "c": result.created, "u": result.updated})
                return redirect("admin:org_member_changelist")
            errors = result.errors
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Import roster"),
            "form": form,
            "errors": errors,
            "columns": ",".join(COLUMNS),
        }
        return TemplateResponse(request, "admin/org/member/import.html", context, status=400 if errors else 200)


class VocabularyEntryForm(forms.ModelForm):
    class Meta:
        model = VocabularyEntry
        fields = ("kind", "code", "label_zh", "label_en", "synonyms", "position", "active")

    def _post_clean(self):
        super()._post_clean()
        if not self.errors:
            for name, problems in vocabulary_entry_problems(self.instance).items():
                for problem in problems:
                    self.add_error(name if name in self.fields else None, problem)


@admin.register(VocabularyEntry)
class VocabularyEntryAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """The tenant's lists. Codes stay once saved (records hold them): relabel, add synonyms or
    deactivate instead; nothing is deleted."""

    audit_verb_prefix = "vocabulary"
    form = VocabularyEntryForm
    list_display = ("code", "label_zh", "label_en", "synonym_list", "kind", "position", "active")
    list_display_links = ("code",)
    list_editable = ("position", "active")
    list_filter = ("kind", "active")
    search_fields = ("code", "label_zh", "label_en")
    ordering = ("kind", "position", "code")

    @admin.display(description=_("synonyms"))
    def synonym_list(self, entry):
        return "、".join(entry.synonyms) or "—"

    def get_readonly_fields(self, request, obj=None):
        return ("kind", "code") if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        transaction.on_commit(vocabulary_forget)
