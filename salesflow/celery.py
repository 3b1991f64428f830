import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesflow.settings.dev")

# tenant-schemas-celery stamps each message with the schema it was sent from and runs
# the task inside that schema: task code never passes schema names around by hand.
app = CeleryApp("salesflow")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
