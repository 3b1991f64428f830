"""Message keys of targets and the weekly deviation heatmap (salesflow.i18n)."""
from django.utils.translation import gettext_lazy as _

from salesflow.i18n import define

define({
    "heatmap.title": _("Target deviation heatmap %(week)s: %(scope)s"),
    "heatmap.body": _("%(period)s · %(expected)s%% of the target expected by now.\n%(lines)s\nGreen ✓ on track (≥ %(green)s points), yellow ! behind (≥ %(yellow)s), red ✕ far behind."),
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
