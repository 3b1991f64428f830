from django.db import models
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin


class Tenant(TenantMixin):
    """A customer company: one PostgreSQL schema holds all of its data."""

    name = models.CharField(_("name"), max_length=200)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # The migrated template every new tenant is cloned from; never served.
    is_template = models.BooleanField(default=False)

    auto_create_schema = True
    auto_drop_schema = True

    class Meta:
        verbose_name = _("tenant")
        verbose_name_plural = _("tenants")

    def __str__(self):
        return f"{self.name} ({self.schema_name})"


class Domain(DomainMixin):
    class Meta:
        verbose_name = _("domain")
        verbose_name_plural = _("domains")


class TenantAuditKey(models.Model):
    """A tenant's Ed25519 checkpoint signing key. Public schema only: the private half never
    enters a tenant schema, and is stored encrypted (AES-GCM under a key derived from the
    SECRET-grade setting `SALESFLOW_AUDIT_KEY_SECRET`, bound to the tenant's schema name)."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="audit_key", verbose_name=_("tenant"))
    name = models.CharField(_("key name"), max_length=253)
    public_key = models.BinaryField(_("public key"))
    private_key_sealed = models.BinaryField()
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("audit signing key")
        verbose_name_plural = _("audit signing keys")

    def __str__(self):
        return self.name
