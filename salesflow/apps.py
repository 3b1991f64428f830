from django.apps import AppConfig


class SalesflowConfig(AppConfig):
    """The project itself: shell pages, health check and the operator's commands."""

    name = "salesflow"
    verbose_name = "SalesFlow"
