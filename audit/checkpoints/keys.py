"""Each tenant's Ed25519 checkpoint key: made on first use, kept in the public schema, the
private half sealed with AES-GCM under a key derived from `SALESFLOW_AUDIT_KEY_SECRET` and
bound to the tenant's schema name (a sealed key copied to another tenant's row won't open)."""
import base64
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import IntegrityError, connection, transaction

from salesflow.tenancy.models import Domain, Tenant, TenantAuditKey

from ..verifier import verify_record


class SigningKeyUnreadable(RuntimeError):
    """The sealed key does not open: SALESFLOW_AUDIT_KEY_SECRET changed or the row was moved."""


@dataclass(frozen=True)
class VerifierKey:
    name: str
    public_key: bytes

    @property
    def key_hash(self) -> bytes:
        return verify_record.key_hash(self.name, self.public_key)

    def __str__(self):
        """The signed-note verifier key: `<name>+<key hash hex>+<base64(0x01 ‖ key)>`."""
        encoded = base64.b64encode(bytes([verify_record.ALG_ED25519]) + self.public_key).decode()
        return f"{self.name}+{self.key_hash.hex()}+{encoded}"


def _sealing_key() -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"salesflow audit signing key",
                info=b"aes-256-gcm v1")
    return hkdf.derive(settings.SALESFLOW_AUDIT_KEY_SECRET.encode())


def _seal(raw: bytes, schema: str) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(_sealing_key()).encrypt(nonce, raw, schema.encode())


def _unseal(sealed: bytes, schema: str) -> bytes:
    from cryptography.exceptions import InvalidTag

    try:
        return AESGCM(_sealing_key()).decrypt(bytes(sealed[:12]), bytes(sealed[12:]), schema.encode())
    except InvalidTag:
        raise SigningKeyUnreadable(f"the audit signing key of {schema} does not open with this installation's secret") from None


def tenant_origin(tenant: Tenant) -> str:
    """The checkpoint origin and key name: the tenant's primary host."""
    domain = Domain.objects.filter(tenant=tenant).order_by("-is_primary", "id").first()
    return domain.domain if domain else f"{tenant.schema_name}.salesflow"


def _current_tenant() -> Tenant:
    return Tenant.objects.get(schema_name=connection.schema_name)


def signing_key_ensure(tenant: Tenant | None = None) -> TenantAuditKey:
    """The tenant's key row, made (once, whoever races) when it has none."""
    tenant = tenant or _current_tenant()
    existing = TenantAuditKey.objects.filter(tenant=tenant).first()
    if existing:
        return existing
    private = Ed25519PrivateKey.generate()
    raw = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    try:
        with transaction.atomic():
            return TenantAuditKey.objects.create(
                tenant=tenant, name=tenant_origin(tenant), public_key=public,
                private_key_sealed=_seal(raw, tenant.schema_name),
            )
    except IntegrityError:
        return TenantAuditKey.objects.get(tenant=tenant)


def verifier_key(tenant: Tenant | None = None) -> VerifierKey:
    row = signing_key_ensure(tenant)
    return VerifierKey(name=row.name, public_key=bytes(row.public_key))


def sign(text: bytes, tenant: Tenant | None = None) -> tuple[VerifierKey, bytes]:
    """(verifier key, Ed25519 signature of `text`) with the tenant's key."""
    tenant = tenant or _current_tenant()
    row = signing_key_ensure(tenant)
    private = Ed25519PrivateKey.from_private_bytes(_unseal(bytes(row.private_key_sealed), tenant.schema_name))
    return VerifierKey(name=row.name, public_key=bytes(row.public_key)), private.sign(text)
