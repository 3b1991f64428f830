import datetime as dt
import hashlib
import secrets

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from audit.services import audit_record
from salesflow.memo import memo_forget, memo_get

from ..models import IntakeKey

KEY_BYTES = 32
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def _hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def intake_key_create(*, actor, label: str = "default") -> tuple[IntakeKey, str]:
    """A new intake key; the full secret is returned once and never stored."""
    # The schema name in the key tells support which tenant a leaked key belongs to.
    prefix = f"sf_{secrets.token_hex(4)}"
    secret = f"{prefix}_{connection.schema_name}_{secrets.token_urlsafe(KEY_BYTES)}"
    with transaction.atomic():
        key = IntakeKey.objects.create(label=label, prefix=prefix, key_hash=_hash_key(secret), created_by=_user_or_none(actor))
        audit_record(actor=actor, verb="intake_key.created", target=key, payload={"label": label, "prefix": prefix})
    return key, secret


def intake_key_revoke(*, actor, key: IntakeKey, reason: str = "") -> IntakeKey:
    with transaction.atomic():
        updated = IntakeKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        memo_forget(_memo_key(key.prefix))
        if updated:
            audit_record(actor=actor, verb="intake_key.revoked", target=key, payload={"prefix": key.prefix}, reason=reason)
    key.refresh_from_db()
    return key


def intake_key_rotate(*, actor, key: IntakeKey) -> tuple[IntakeKey, str]:
    """Revoke `key` and issue its replacement under the same label, in one transaction."""
    with transaction.atomic():
        intake_key_revoke(actor=actor, key=key, reason="rotated")
        return intake_key_create(actor=actor, label=key.label)


def intake_key_authenticate(secret: str) -> IntakeKey | None:
    """The active key matching `secret`, compared in constant time; None for anything else.

    A key found is remembered in this process for a few seconds; a key revoked meanwhile is
    still refused at once: intake confirms it is active in its first statement
    (leads.services.intake), and the revoking process forgets it here.
    """
    prefix = secret[:11]
    candidate = memo_get(_memo_key(prefix), lambda: IntakeKey.objects.filter(prefix=prefix, revoked_at__isnull=True).first())
    if candidate is None:
        memo_forget(_memo_key(prefix))  # unknown keys are not remembered: one created meanwhile works at once
        return None
    if not secrets.compare_digest(candidate.key_hash, _hash_key(secret)):
        return None
    _note_use(candidate)
    return candidate


def _memo_key(prefix: str) -> str:
    return f"leads:intake-key:{prefix}"


def _note_use(key: IntakeKey) -> None:
    """Stamp last use at most once a minute, so busy keys do not cost a write per request."""
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        IntakeKey.objects.filter(stale, pk=key.pk).update(last_used_at=now)
        key.last_used_at = now


def _user_or_none(actor):
    return actor if getattr(actor, "is_authenticated", False) else None
