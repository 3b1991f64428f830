from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ForecastingConfig(AppConfig):
    name = "forecasting"
    verbose_name = _("Forecasting")

    def ready(self):
        from . import tasks_forecast  # noqa: F401  registers the forecast's Celery tasks (not named tasks.py)
        from .evidence_setup import evidence_ready
        from .messages_forecast import register_param_kinds

        evidence_ready()
        register_param_kinds()

        from audit.labels import register

        from . import messages_targets  # noqa: F401  (registers the heatmap's message keys)

        register({
            "target.set": _("target set"),
            "target.cleared": _("target cleared"),
            "target.created": _("target created"),
            "target.changed": _("target changed"),
            "target.deleted": _("target deleted"),
            "targetpolicy.changed": _("heatmap thresholds changed"),
            "heatmap.sent": _("deviation heatmap sent"),
            "demo.targets_seeded": _("demo targets seeded"),
        })
