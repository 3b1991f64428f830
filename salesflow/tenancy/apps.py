from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "salesflow.tenancy"
    label = "tenancy"
    verbose_name = "Tenancy"
