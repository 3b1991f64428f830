"""Message keys of targets and the weekly deviation heatmap (salesflow.i18n)."""
from django.utils.translation import gettext_lazy as _

from salesflow.i18n import define

define({
    "heatmap.title": _("Target deviation heatmap %(week)s: %(scope)s"),
    "heatmap.body": _("%(period)s · %(expected)s%% of the target expected by now.\n%(lines)s\nGreen ✓ on track (≥ %(green)s points), yellow ! behind (≥ %(yellow)s), red ✕ far behind."),
    "heatmap.body.both": _("%(sections)s\nGreen ✓ on track (≥ %(green)s points), yellow ! behind (≥ %(yellow)s), red ✕ far behind."),
    "heatmap.body.off_track": _("%(sections)s\nOnly the cells behind are listed; the page has the whole map. Green ✓ on track (≥ %(green)s points), yellow ! behind (≥ %(yellow)s), red ✕ far behind."),
    "heatmap.body.counts": _("%(sections)s\nThe map is too large for a message; open the page for every cell. Green ✓ on track (≥ %(green)s points), yellow ! behind (≥ %(yellow)s), red ✕ far behind."),
    "heatmap.section": _("%(kind)s %(period)s · %(expected)s%% of the target expected by now.\n%(lines)s"),
    "heatmap.kind.month": _("Month"),
    "heatmap.kind.quarter": _("Quarter"),
    "heatmap.counts": _("✕ red %(red)s, ! yellow %(yellow)s, ✓ green %(green)s"),
    "heatmap.all_on_track": _("Every cell is on track."),
    "heatmap.more_rows": _("… and %(n)s more rows behind, on the page."),
    "heatmap.row": _("- %(row)s: %(cells)s"),
    "heatmap.cell": _("%(line)s %(band)s %(deviation)s"),
    "heatmap.cell.none": _("%(line)s no target"),
    "heatmap.all_lines": _("all lines"),
    "heatmap.band.green": _("✓ green"),
    "heatmap.band.yellow": _("! yellow"),
    "heatmap.band.red": _("✕ red"),
    "heatmap.scope.company": _("company by region"),
    "heatmap.scope.region": _("your regions"),
    "heatmap.scope.team": _("your teams"),
    "heatmap.empty": _("No targets are set for this period in your scope."),
})
