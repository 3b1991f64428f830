from django import forms
from django.contrib import admin, messages
from django.db import connection, transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from audit.admin_mixins import AuditedAdminMixin
from audit.services import audit_record
from salesflow.csvtext import CsvEncodingError, csv_decode

from salesflow.org.vocabularies import vocabulary_labels

from .admin_forms import CONDITION_FIELDS, LeadPolicyForm, RoutingRuleForm, vocabulary_list_filter
from .messages import lead_field_label
from .models import ImportJob, IntakeKey, Lead, LeadPolicy, RoutingDecision, RoutingRule
from .services import intake_key_create, intake_key_revoke, intake_key_rotate, lead_merge, routing_plan
from .services.routing import rules_forget
from .services.scoring import lead_policy_forget
from .services.imports import import_error_report, import_job_start, import_preview
from .services.validation import FIELDS


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
            _key, secret = intake_key_rotate(actor=request.user, key=key)
            messages.warning(request, _("Replacement for %(label)s (shown only this once): %(secret)s") % {"label": key.label, "secret": secret})

    @admin.action(description=_("Revoke"))
    def revoke(self, request, queryset):
        for key in queryset:
            intake_key_revoke(actor=request.user, key=key, reason="revoked in admin")


@admin.register(RoutingRule)
class RoutingRuleAdmin(AuditedAdminMixin, admin.ModelAdmin):
    audit_verb_prefix = "routing_rule"
    form = RoutingRuleForm
    list_display = ("position", "name", "enabled", "strategy", "pool_label", "conditions")
    list_display_links = ("name",)
    list_editable = ("position", "enabled")
    filter_horizontal = ("pool_teams", "pool_regions")
    actions = ["dry_run_selected"]
    fieldsets = (
        (None, {"fields": ("name", "position", "enabled")}),
        (_("When (empty = any)"), {"fields": ("budget_grades", "industries", "regions", "product_lines", "channels", "tiers", "score_min", "score_max")}),
        (_("Rep pool"), {"fields": ("pool_label", "pool_teams", "pool_regions", "pool_users", "match_lead_region",
                                    "match_lead_product_line", "match_lead_industry", "min_years_experience", "new_hires_only")}),
        (_("Strategy"), {"fields": ("strategy", "min_close_rate")}),
    )

    @admin.display(description=_("conditions"))
    def conditions(self, rule):
        parts = [f"{_('budget grades')}: {'、'.join(rule.budget_grades)}"] if rule.budget_grades else []
        for name, kind in CONDITION_FIELDS.items():
            if getattr(rule, name):
                parts.append(f"{RoutingRule._meta.get_field(name).verbose_name}: {'、'.join(vocabulary_labels(kind, getattr(rule, name)))}")
        if rule.score_min is not None or rule.score_max is not None:
            low = rule.score_min if rule.score_min is not None else ""
            high = rule.score_max if rule.score_max is not None else ""
            parts.append(f"{_('score')} {low}…{high}")
        return "; ".join(parts) or "—"

    # Routing reads a cached copy of the rules: every change made here drops it after commit.
    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        transaction.on_commit(rules_forget)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        transaction.on_commit(rules_forget)

    def get_urls(self):
        return [path("dry-run/", self.admin_site.admin_view(self.dry_run_view), name="leads_routingrule_dry_run")] + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "dry_run_url": reverse("admin:leads_routingrule_dry_run")}
        return super().changelist_view(request, extra_context)

    @admin.action(description=_("Dry-run the selected rules as a draft rule set"))
    def dry_run_selected(self, request, queryset):
        ids = ",".join(str(pk) for pk in queryset.values_list("pk", flat=True))
        return redirect(f"{reverse('admin:leads_routingrule_dry_run')}?rules={ids}")

    def dry_run_view(self, request):
        """Where the last N leads would go under the current (or a draft) rule set; nothing is written."""
        try:
            count = max(1, min(int(request.GET.get("n", 50)), 500))
        except ValueError:
            count = 50
        rules = RoutingRule.objects.prefetch_related("pool_teams", "pool_regions", "pool_users").order_by("position", "id")
        draft_ids = [int(x) for x in request.GET.get("rules", "").split(",") if x.isdigit()]
        rules = list(rules.filter(pk__in=draft_ids) if draft_ids else rules.filter(enabled=True))
        rows = []
        for lead in Lead.objects.exclude(status="merged").order_by("-created_at")[:count]:
            plan = routing_plan(lead, rules=rules)
            rows.append({"lead": lead, "plan": plan, "would": plan.first.full_name if plan.first else _("public pool"),
                         "actual": lead.owner.get_username() if lead.owner_id else _("public pool")})
        context = {**self.admin_site.each_context(request), "title": _("Routing dry run"), "rows": rows, "rules": rules,
                   "draft": bool(draft_ids), "count": count, "opts": self.model._meta}
        return TemplateResponse(request, "admin/leads/routingrule/dry_run.html", context)


@admin.register(LeadPolicy)
class LeadPolicyAdmin(AuditedAdminMixin, admin.ModelAdmin):
    audit_verb_prefix = "lead_policy"
    form = LeadPolicyForm
    list_display = ("__str__", "industry_match_weight", "pool_hold_hours", "pool_cooling_hours")
    readonly_fields = ("web_form_embed",)
    POINT_GROUPS = (("grade_points", _("Points per budget grade")), ("channel_points", _("Points per channel")),
                    ("tier_points", _("Points per customer tier")))

    def get_fieldsets(self, request, obj=None):
        form = self.get_form(request, obj)(instance=obj)
        return [
            (None, {"fields": ("industry_match_weight",)}),
            *[(title, {"fields": form.groups.get(column, []), "classes": ("points",)}) for column, title in self.POINT_GROUPS],
            (_("Public pool"), {"fields": ("pool_hold_hours", "pool_cooling_hours")}),
            (_("Web form"), {"fields": ("web_form_embed",)}),
        ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        # The point fields depend on the tenant's lists: the admin must not drop them as unknown.
        return super().get_form(request, obj, change=change, **{**kwargs, "fields": LeadPolicyForm.Meta.fields})

    def has_add_permission(self, request):
        return not LeadPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        for column, _title in self.POINT_GROUPS:
            setattr(obj, column, form.points(column))
        super().save_model(request, obj, form, change)
        transaction.on_commit(lead_policy_forget)

    @admin.display(description=_("web form: embed on your site"))
    def web_form_embed(self, obj):
        domain = connection.tenant.get_primary_domain() if hasattr(connection.tenant, "get_primary_domain") else None
        host = domain.domain if domain else "<your-host>"
        snippet = f'<iframe src="https://{host}/form/" width="100%" height="720" style="border:0" title="Contact"></iframe>'
        return format_html("<code>{}</code>", snippet)


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = ("id", "created_at", "company", "contact_name", "channel", "budget_grade", "score", "status", "owner")
    list_filter = ("status", vocabulary_list_filter("channel", "channel"), "budget_grade",
                   vocabulary_list_filter("tier", "tier"))
    search_fields = ("company", "contact_name", "phone_normalized", "email_normalized", "external_id")
    readonly_fields = [f.name for f in Lead._meta.fields]
    actions = ["merge_into_oldest"]
    list_select_related = ("owner",)

    def has_add_permission(self, request):
        return False  # leads come in through intake, the form, import or manual entry, all routed

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Merge the selected leads into the oldest"))
    def merge_into_oldest(self, request, queryset):
        leads = list(queryset.exclude(status="merged").order_by("created_at", "id"))
        if len(leads) < 2:
            messages.error(request, _("Select at least two leads."))
            return
        for other in leads[1:]:
            lead_merge(actor=request.user, keep=leads[0], merge=other, reason="merged in admin")
        messages.success(request, _("Merged %(n)d leads into #%(id)d.") % {"n": len(leads) - 1, "id": leads[0].pk})


@admin.register(RoutingDecision)
class RoutingDecisionAdmin(admin.ModelAdmin):
    list_display = ("decided_at", "lead", "outcome", "rule_name", "assignee", "reason")
    list_filter = ("outcome", "strategy", "rule")
    readonly_fields = [f.name for f in RoutingDecision._meta.fields]
    list_select_related = ("lead", "assignee")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class MappingForm(forms.Form):
    def __init__(self, *args, header, guess, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "—")] + [(name, lead_field_label(name)) for name in FIELDS]  # in the reader's language
        for index, name in enumerate(header):
            self.fields[str(index)] = forms.ChoiceField(label=name or f"#{index + 1}", choices=choices, required=False, initial=guess.get(str(index), ""))

    def clean(self):
        data = super().clean()
        chosen = [v for v in data.values() if v]
        if len(chosen) != len(set(chosen)):
            raise forms.ValidationError(_("Each field may be mapped from one column only."))
        if "contact_name" not in chosen:
            raise forms.ValidationError(_("Map a column to contact_name."))
        return data


class ImportUploadForm(forms.ModelForm):
    class Meta:
        model = ImportJob
        fields = ("file",)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError(_("The file is larger than 50 MB."))
        try:
            csv_decode(upload.read())
        except CsvEncodingError as exc:
            raise forms.ValidationError(str(exc)) from None
        finally:
            upload.seek(0)
        return upload


MAX_IMPORT_BYTES = 50 * 1024 * 1024


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ("created_at", "file", "encoding", "status", "progress", "created_leads", "duplicate_rows", "bad_rows")
    form = ImportUploadForm
    fields = ("file",)

    @admin.display(description=_("progress"))
    def progress(self, job):
        return f"{job.processed_rows}/{job.total_rows} ({job.percent} %)"

    @admin.display(description=_("bad rows"))
    def bad_rows(self, job):
        return len(job.errors)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.created_by = request.user
        super().save_model(request, obj, form, change)
        audit_record(actor=request.user, verb="lead_import.uploaded", target=obj, payload={"file": obj.file.name})

    def response_add(self, request, obj, post_url_continue=None):
        return redirect("admin:leads_importjob_change", obj.pk)

    def get_urls(self):
        return [
            path("<int:job_id>/progress/", self.admin_site.admin_view(self.progress_view), name="leads_importjob_progress"),
            path("<int:job_id>/errors.csv", self.admin_site.admin_view(self.errors_view), name="leads_importjob_errors"),
        ] + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = get_object_or_404(ImportJob, pk=object_id)
        try:
            header, sample, guess = import_preview(job)
        except CsvEncodingError as exc:
            context = {**self.admin_site.each_context(request), "title": str(job), "job": job, "refused": str(exc),
                       "opts": self.model._meta}
            return TemplateResponse(request, "admin/leads/importjob/job.html", context, status=400)
        form = MappingForm(request.POST or None, header=header, guess=guess)
        if request.method == "POST" and job.status == ImportJob.Status.PREVIEW and form.is_valid():
            import_job_start(actor=request.user, job=job, mapping={k: v for k, v in form.cleaned_data.items() if v})
            messages.success(request, _("Import started."))
            return redirect("admin:leads_importjob_change", job.pk)
        context = {**self.admin_site.each_context(request), "title": str(job), "job": job, "header": header,
                   "sample": sample, "form": form, "opts": self.model._meta}
        return TemplateResponse(request, "admin/leads/importjob/job.html", context)

    def progress_view(self, request, job_id):
        job = get_object_or_404(ImportJob, pk=job_id)
        return TemplateResponse(request, "admin/leads/importjob/_progress.html", {"job": job})

    def errors_view(self, request, job_id):
        job = get_object_or_404(ImportJob, pk=job_id)
        response = HttpResponse(import_error_report(job), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
        return response
