from django.db import models

from .canonical import normalise
from .services import audit_record


def _field_value(value):
    if isinstance(value, models.Model):
        return {"id": value.pk, "label": str(value)}
    if isinstance(value, models.QuerySet):
        return [str(item) for item in value]
    if hasattr(value, "name") and hasattr(value, "size"):  # uploaded file
        return value.name
    try:
        return normalise(value)
    except TypeError:
        return str(value)


class AuditedAdminMixin:
    """Records every add, change and delete made through the admin in the audit log.

    The admin's change views already run inside a transaction, so the entry commits or
    rolls back with the change itself.
    """

    audit_verb_prefix: str | None = None
    audit_redacted_fields = ("password", "password1", "password2")

    def _verb(self, obj, action: str) -> str:
        return f"{self.audit_verb_prefix or obj._meta.model_name}.{action}"

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        changed = {
            name: "(redacted)" if name in self.audit_redacted_fields else _field_value(form.cleaned_data.get(name))
            for name in form.changed_data
        }
        audit_record(
            actor=request.user,
            verb=self._verb(obj, "changed" if change else "created"),
            target=obj,
            payload={"via": "admin", "fields": changed},
        )

    def delete_model(self, request, obj):
        target_type, target_id, label = obj._meta.label_lower, str(obj.pk), str(obj)
        super().delete_model(request, obj)
        audit_record(
            actor=request.user,
            verb=self._verb(obj, "deleted"),
            target_type=target_type,
            target_id=target_id,
            payload={"via": "admin", "label": label},
        )

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)
