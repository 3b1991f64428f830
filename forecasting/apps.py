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
