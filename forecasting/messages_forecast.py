"""Message keys of the forecast (stored alerts, read in the reader's language), and how an amount reads."""
from django.utils.translation import gettext_lazy as _

from salesflow.formatting import format_amount_short
from salesflow.i18n import define, param_kind

define({
    "forecast.below.title": _("Forecast below 70%% of committed: %(scope)s, week of %(week)s"),
    "forecast.below.body": _("Credit-weighted %(weighted)s against committed %(committed)s (warning line %(warning)s)."),
})


def register_param_kinds() -> None:
    param_kind("amount", lambda value: format_amount_short(value))
