"""The tenant's finance webhook secret: issued at provisioning, rotated in admin, shown once.

Verifying an HMAC needs the secret itself, so it is kept encrypted (Fernet) with a key from
settings (SALESFLOW_FINANCE_SECRET_KEY, else derived from SECRET_KEY), never in clear.
"""
import base64
import hashlib
import secrets

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from audit.services import audit_record

from ..models import FinanceSecret

SECRET_BYTES = 32


def _fernet() -> Fernet:
    configured = getattr(settings, "SALESFLOW_FINANCE_SECRET_KEY", "")
    material = configured or hashlib.sha256(f"salesflow-finance-secret:{settings.SECRET_KEY}".encode()).digest()
    if isinstance(material, str):
        material = hashlib.sha256(material.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(material))


def finance_secret_issue(*, actor) -> str:
    """A new secret for the current tenant, replacing any earlier one; returned once, stored encrypted."""
    secret = f"sf_fin_{connection.schema_name}_{secrets.token_urlsafe(SECRET_BYTES)}"
    label = actor.get_username() if getattr(actor, "is_authenticated", False) else str(actor)
    with transaction.atomic():
        row, created = FinanceSecret.objects.select_for_update().get_or_create(
            pk=1, defaults={"ciphertext": "", "hint": "", "rotated_by": label},
        )
        row.ciphertext = _fernet().encrypt(secret.encode()).decode()
        row.hint, row.rotated_at, row.rotated_by = secret[-4:], timezone.now(), label
        row.save()
        audit_record(actor=actor, verb="finance_secret.issued", target=row,
                     payload={"ends_with": row.hint, "rotation": not created})
    return secret


def finance_secret_get() -> str | None:
    row = FinanceSecret.objects.filter(pk=1).only("ciphertext").first()
    if row is None or not row.ciphertext:
        return None
    try:
        return _fernet().decrypt(row.ciphertext.encode()).decode()
    except InvalidToken:
        return None


def defaults_install(*, actor) -> dict[str, str]:
    """Provisioning hook: every tenant starts with a finance secret, printed once."""
    from .evidence import credit_policy_get

    credit_policy_get()
    return {"finance secret": finance_secret_issue(actor=actor)}
