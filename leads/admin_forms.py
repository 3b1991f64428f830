"""Admin forms that pick from the tenant's vocabularies instead of taking typed codes."""
from decimal import Decimal

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from salesflow.org.models import Role, VocabularyKind
from salesflow.org.vocabularies import VocabularyMultipleChoiceField, vocabulary_choices

from .models import BudgetGrade, LeadPolicy, RoutingRule

CONDITION_FIELDS = {"industries": "industry", "regions": "region", "product_lines": "product_line",
                    "channels": "channel", "tiers": "tier"}
POINTS_MIN, POINTS_MAX = 0, 100


def vocabulary_list_filter(kind: str, field: str):
    """An admin list filter offering the `kind` list's labels in the reader's language."""

    class VocabularyFilter(admin.SimpleListFilter):
        title = VocabularyKind(kind).label
        parameter_name = field

        def lookups(self, request, model_admin):
            return vocabulary_choices(kind)

        def queryset(self, request, queryset):
            return queryset.filter(**{field: self.value()}) if self.value() else queryset

    return VocabularyFilter


class RepChoiceField(forms.ModelMultipleChoiceField):
    """Reps by name and team, not by username."""

    def label_from_instance(self, user):
        member = user.member
        return f"{member.full_name} · {member.team.name}" if member.team_id else member.full_name


class RoutingRuleForm(forms.ModelForm):
    budget_grades = forms.MultipleChoiceField(label=_("budget grades"), choices=BudgetGrade.choices, required=False,
                                              widget=forms.CheckboxSelectMultiple)
    industries = VocabularyMultipleChoiceField("industry", label=_("industries"))
    regions = VocabularyMultipleChoiceField("region", label=_("regions"))
    product_lines = VocabularyMultipleChoiceField("product_line", label=_("product lines"))
    channels = VocabularyMultipleChoiceField("channel", label=_("channels"))
    tiers = VocabularyMultipleChoiceField("tier", label=_("tiers"))
    pool_users = RepChoiceField(label=_("explicit reps"), required=False, queryset=get_user_model().objects.none(),
                                widget=FilteredSelectMultiple(_("explicit reps"), is_stacked=False))

    class Meta:
        model = RoutingRule
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in CONDITION_FIELDS:  # a rule keeps values since deactivated until someone unticks them
            self.fields[name].keep(getattr(self.instance, name) or [])
        self.fields["pool_users"].queryset = (
            get_user_model().objects.filter(member__role=Role.REP).select_related("member__team")
            .order_by("member__team__name", "member__full_name")
        )

    def clean(self):
        data = super().clean()
        low, high = data.get("score_min"), data.get("score_max")
        if low is not None and high is not None and low > high:
            self.add_error("score_max", _("The upper bound cannot be below the lower bound."))
        return data


def _points_field(label) -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=POINTS_MIN, max_value=POINTS_MAX, initial=0)


class LeadPolicyForm(forms.ModelForm):
    """Scoring weights as one bounded number per budget grade, channel and tier of the tenant's lists.

    The JSON columns are written from these fields only, so a weight for a value the lists do not
    hold, or outside 0–100, cannot be saved."""

    industry_match_weight = forms.DecimalField(
        label=_("points per industry-match point"), min_value=Decimal(0), max_value=Decimal(1), max_digits=5,
        decimal_places=2, help_text=_("Industry match runs 0–100, so 0.40 gives at most 40 points."))

    class Meta:
        model = LeadPolicy
        fields = ("industry_match_weight", "pool_hold_hours", "pool_cooling_hours")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.groups: dict[str, list[str]] = {}
        for grade in BudgetGrade.values:
            self._add("grade_points", grade, _("Budget grade %(grade)s") % {"grade": grade})
        for kind, column in ((VocabularyKind.CHANNEL, "channel_points"), (VocabularyKind.TIER, "tier_points")):
            for code, label in vocabulary_choices(kind):
                self._add(column, code, label)

    def _add(self, column: str, code: str, label) -> None:
        name = f"{column}__{code}"
        self.fields[name] = _points_field(label)
        self.initial.setdefault(name, int((getattr(self.instance, column) or {}).get(code, 0)))
        self.groups.setdefault(column, []).append(name)

    def points(self, column: str) -> dict[str, int]:
        return {name.split("__", 1)[1]: self.cleaned_data[name] for name in self.groups.get(column, [])}
