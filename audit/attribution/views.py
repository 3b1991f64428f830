"""The attribution page (managers and admins; reps get 403: a rep's own closed deals are too few
for any of these comparisons to mean something, and the page compares people's regions)."""
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.vary import vary_on_headers

from salesflow.org.scoping import is_manager

from .filters import AttributionFilter, attribution_defaults, attribution_regions
from .presentation import cross_view, echo, headline, sides_labelled
from .selectors import MIN_CELL, attribution_sides, closed_deals


@login_required
@vary_on_headers("HX-Request")
def attribution(request):
    """Won vs lost closed deals by trait, one or two regions side by side; htmx asks for the results only."""
    if not is_manager(request.user):
        raise PermissionDenied(_("Attribution is for managers and admins."))
    query = attribution_defaults(request.GET, regions=attribution_regions(request.user))
    attribution_filter = AttributionFilter(query, queryset=closed_deals(user=request.user), user=request.user)
    sides = []
    if attribution_filter.is_valid():
        data = attribution_filter.form.cleaned_data
        left, right = data.get("region"), data.get("compare")
        sides = sides_labelled(attribution_sides(
            deals=attribution_filter.qs, left_region_id=left.pk if left else None,
            right_region_id=right.pk if right else None, window_days=attribution_filter.window_days,
        ))
        regions = [left, right]
        cross = attribution_filter.cross_filters
        panels = [{"side": side, "region": regions[number], "headline": headline(side), "cross": cross_view(side, **cross)}
                  for number, side in enumerate(sides)]
        if len(panels) == 2:
            panels[0]["echo"] = echo(panels[0]["side"], panels[1]["headline"])
            panels[1]["echo"] = echo(panels[1]["side"], panels[0]["headline"])
    else:
        panels = []
    context = {
        "filter": attribution_filter, "panels": panels, "min_cell": MIN_CELL,
        "window_days": attribution_filter.window_days if attribution_filter.is_valid() else None,
    }
    template = "audit/attribution/_results.html" if request.htmx else "audit/attribution/page.html"
    return render(request, template, context)
