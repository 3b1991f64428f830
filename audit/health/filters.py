import django_filters
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from salesflow.org.models import Member, Region, Team
from salesflow.org.selectors import tenant_settings_get

from .periods import ROLLING_KEY, recent_months
from .selectors import region_subtree


def period_choices(now) -> list[tuple[str, str]]:
    months = recent_months(now, tz=tenant_settings_get().tzinfo)
    return [(ROLLING_KEY, _("last 30 days"))] + [(p.key, p.key) for p in reversed(months)]


class HealthFilter(django_filters.FilterSet):
    """The health page's scope: a period, and a region or team among those the viewer sees."""

    period = django_filters.ChoiceFilter(label=_("period"), method="keep", empty_label=None, choices=[])
    region = django_filters.ModelChoiceFilter(label=_("region"), queryset=Region.objects.none(), method="in_region",
                                              empty_label=_("all regions"))
    team = django_filters.ModelChoiceFilter(label=_("team"), queryset=Team.objects.none(), empty_label=_("all teams"))

    class Meta:
        model = Member
        fields = ["period", "region", "team"]

    def __init__(self, data=None, *args, members, **kwargs):
        super().__init__(data, *args, queryset=members, **kwargs)
        self.filters["period"].extra["choices"] = period_choices(timezone.now())
        team_ids = set(members.exclude(team__isnull=True).values_list("team_id", flat=True))
        teams = Team.objects.filter(pk__in=team_ids).select_related("region")
        self.filters["team"].queryset = teams
        self.filters["region"].queryset = Region.objects.filter(
            pk__in={t.region_id for t in teams} | set(members.exclude(region__isnull=True).values_list("region_id", flat=True))
        )

    def keep(self, queryset, name, value):
        return queryset

    def in_region(self, queryset, name, value):
        regions = region_subtree(value.pk)
        return queryset.filter(team__region_id__in=regions) | queryset.filter(team__isnull=True, region_id__in=regions)

    @property
    def period_key(self) -> str:
        if self.is_bound and self.form.is_valid():
            return self.form.cleaned_data.get("period") or ROLLING_KEY
        return ROLLING_KEY
