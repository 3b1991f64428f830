"""Message keys of the weekly health report (salesflow.i18n): stored with their figures, read in
each recipient's language. Bodies are Markdown that also reads as plain text (robots render it,
e-mails get an HTML part from it)."""
from django.utils.translation import gettext_lazy as _

from salesflow.i18n import define

define({
    "health.weekly.title": _("Action health, week %(week)s: %(scope)s"),
    "health.weekly.body": _(
        "%(figures)s\n\n"
        "Reps below a healthy value (%(below_count)s):\n\n%(reps)s\n\n"
        "Customers without key-person touches (%(uncovered_count)s):\n\n%(customers)s"
    ),
    "health.weekly.density": _("- Touch density: %(value)s per customer (healthy ≥ %(limit)s; last week %(previous)s) %(mark)s"),
    "health.weekly.depth": _("- Key-person depth: %(value)s%% of open opportunities (healthy ≥ %(limit)s%%; last week %(previous)s%%) %(mark)s"),
    "health.weekly.timeliness": _("- First touch: median %(value)s (healthy ≤ %(limit)s h; last week %(previous)s) %(mark)s"),
    "health.weekly.rep": _("- %(name)s: %(figures)s"),
    "health.weekly.customer": _("- %(account)s · %(opportunity)s (%(owner)s): %(people)s"),
    "health.weekly.no_key_people": _("no key person on record"),
    "health.weekly.none": _("- none"),
    "health.weekly.more": _("- … and %(count)s more on the health page"),
    "health.weekly.scope_all": _("your whole organisation"),
    "health.weekly.scope_people": _("%(count)s people"),
    "health.weekly.healthy": _("✓"),
    "health.weekly.unhealthy": _("✗ below"),
    "health.weekly.no_data": _("no data"),
    "health.figure.density": _("density"),
    "health.figure.depth": _("depth"),
    "health.figure.timeliness": _("first touch"),
})
