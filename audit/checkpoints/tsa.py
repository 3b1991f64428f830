"""RFC 3161 time stamps for checkpoints: the request in DER built here, sent by the outbound
rules (https only, public addresses only, no redirects, bounded answer).

The answer is accepted when its status is granted and its token (parsed with asn1crypto,
checked with `cryptography`) carries our message imprint and nonce, signed attributes that
name the TSTInfo, its digest and the signer's certificate (ESSCertID), and a CMS signature
over them that verifies with a time-stamping certificate valid at the stamp's time. With
SALESFLOW_AUDIT_TSA_CERTIFICATE set, that certificate must be the pinned one or issued by a
pinned CA; without it, only the certificate the token carries is checked (integrity, not trust).
"""
import datetime as dt
import hashlib
import secrets

from asn1crypto import cms, core, tsp
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID
from django.conf import settings

from salesflow.notifications import outbound
from salesflow.notifications.errors import PermanentFailure, TemporaryFailure

SHA256_OID = bytes.fromhex("0609608648016503040201")  # 2.16.840.1.101.3.4.2.1, DER
GRANTED = ("granted", "granted_with_mods")


class TimestampFailed(Exception):
    pass


def _der(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + content


def _der_int(value: int) -> bytes:
    return _der(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True))


def timestamp_request(data: bytes, nonce: int) -> bytes:
    """TimeStampReq v1 over SHA-256(data), with a nonce, asking for the TSA's certificate."""
    imprint = _der(0x30, _der(0x30, SHA256_OID + b"\x05\x00") + _der(0x04, hashlib.sha256(data).digest()))
    return _der(0x30, _der_int(1) + imprint + _der_int(nonce) + b"\x01\x01\xff")


HASHES = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}


def _hash(name: str):
    if name not in HASHES:
        raise TimestampFailed(f"the token uses digest {name}, not one of {', '.join(HASHES)}")
    return HASHES[name]()


def _digest(name: str, data: bytes) -> bytes:
    digest = hashes.Hash(_hash(name))
    digest.update(data)
    return digest.finalize()


def trusted_certificates(pem: str | bytes | None = None) -> list[x509.Certificate]:
    """The pinned TSA certificate(s) and/or issuing CA(s): PEM text, or a file named in settings."""
    if pem is None:
        source = settings.SALESFLOW_AUDIT_TSA_CERTIFICATE
        if not source:
            return []
        try:
            pem = source if "-----BEGIN" in source else open(source, "rb").read()
        except OSError as exc:
            raise TimestampFailed(f"the pinned TSA certificate cannot be read ({exc.strerror})") from exc
    try:
        return x509.load_pem_x509_certificates(pem.encode() if isinstance(pem, str) else pem)
    except ValueError as exc:
        raise TimestampFailed("the pinned TSA certificate is not PEM") from exc


def _attribute(signed_attrs, name: str):
    values = [attr["values"] for attr in signed_attrs if attr["type"].native == name]
    if len(values) != 1 or len(values[0]) != 1:
        raise TimestampFailed(f"the token's signed attributes hold no single {name}")
    return values[0][0]


def _signer_certificate(signed_data, signer, trusted: list[x509.Certificate]) -> x509.Certificate:
    """The certificate the signer info names (sid), from the token or the pinned ones."""
    sid = signer["sid"]
    candidates = [x509.load_der_x509_certificate(c.chosen.dump()) for c in signed_data["certificates"] or []
                  if c.name == "certificate"] + trusted
    for cert in candidates:
        if sid.name == "issuer_and_serial_number":
            wanted = sid.chosen
            if (cert.serial_number == wanted["serial_number"].native
                    and cert.issuer.public_bytes() == wanted["issuer"].dump()):
                return cert
        else:
            try:
                ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
            except x509.ExtensionNotFound:
                continue
            if ski == sid.chosen.native:
                return cert
    raise TimestampFailed("the token's signer certificate is neither in the token nor pinned")


def _check_trust(cert: x509.Certificate, trusted: list[x509.Certificate], at: dt.datetime, signed_attrs) -> None:
    """The signer is a time-stamping certificate valid at the stamp's time, bound by the signed
    ESSCertID(v2), and (when certificates are pinned) one of them or issued by one of them."""
    try:
        usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        usages = []
    if ExtendedKeyUsageOID.TIME_STAMPING not in usages:
        raise TimestampFailed("the signer certificate is not for time stamping")
    if not cert.not_valid_before_utc <= at <= cert.not_valid_after_utc:
        raise TimestampFailed("the signer certificate was not valid at the stamp's time")
    names = {attr["type"].native for attr in signed_attrs}
    if "signing_certificate_v2" in names:
        ess = _attribute(signed_attrs, "signing_certificate_v2")["certs"][0]
        algorithm = ess["hash_algorithm"]["algorithm"].native
        bound = _digest(algorithm, cert.public_bytes(serialization.Encoding.DER)) == ess["cert_hash"].native
    elif "signing_certificate" in names:
        ess = _attribute(signed_attrs, "signing_certificate")["certs"][0]
        bound = cert.fingerprint(hashes.SHA1()) == ess["cert_hash"].native
    else:
        raise TimestampFailed("the token does not name its signer certificate (no ESSCertID)")
    if not bound:
        raise TimestampFailed("the token's ESSCertID does not match the signer certificate")
    if not trusted:
        return
    for anchor in trusted:
        if cert == anchor:
            return
        try:
            cert.verify_directly_issued_by(anchor)
            return
        except (ValueError, TypeError, InvalidSignature):
            continue
    raise TimestampFailed("the signer certificate is not the pinned TSA certificate nor issued by it")


def _verify_signature(cert: x509.Certificate, signer, signed: bytes) -> None:
    algorithm = signer["signature_algorithm"]
    signature = signer["signature"].native
    kind = algorithm.signature_algo
    try:
        digest = _hash(algorithm.hash_algo)
    except ValueError:  # "rsassa_pkcs1v15" names no hash: the signer's digest algorithm is it
        digest = _hash(signer["digest_algorithm"]["algorithm"].native)
    key = cert.public_key()
    try:
        if kind == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, signed, padding.PKCS1v15(), digest)
        elif kind == "rsassa_pss" and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, signed, padding.PSS(padding.MGF1(digest), padding.PSS.AUTO), digest)
        elif kind == "ecdsa" and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, signed, ec.ECDSA(digest))
        elif kind == "ed25519" and isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, signed)
        else:
            raise TimestampFailed(f"the token's signature ({kind}) does not fit the signer's key")
    except InvalidSignature:
        raise TimestampFailed("the token's CMS signature does not verify with the TSA certificate") from None


def token_verify(token: bytes, data: bytes, nonce: int | None = None, *, trusted=None) -> dt.datetime:
    """Check a TimeStampToken (DER ContentInfo) stamps `data`: the message imprint, the nonce,
    the signed attributes (content type, message digest of the TSTInfo, ESSCertID) and the CMS
    signature over them by a time-stamping certificate (pinned in settings, or the one the
    token carries when none is pinned). Returns the stamp's time; TimestampFailed otherwise."""
    trusted = trusted_certificates() if trusted is None else trusted
    try:
        info = cms.ContentInfo.load(token, strict=True)
        if info["content_type"].native != "signed_data":
            raise TimestampFailed("the token is not CMS SignedData")
        signed_data = info["content"]
        encapsulated = signed_data["encap_content_info"]
        if encapsulated["content_type"].native != "tst_info":
            raise TimestampFailed("the token does not hold a TSTInfo")
        content = encapsulated["content"]
        tst_bytes, tst = content.contents, content.parsed
        imprint = tst["message_imprint"]
        algorithm = imprint["hash_algorithm"]["algorithm"].native
        if _digest(algorithm, data) != imprint["hashed_message"].native:
            raise TimestampFailed("the token does not stamp our checkpoint (message imprint differs)")
        if nonce is not None and tst["nonce"].native != nonce:
            raise TimestampFailed("the token does not carry our nonce")
        if len(signed_data["signer_infos"]) != 1:
            raise TimestampFailed("the token has not exactly one signer")
        signer = signed_data["signer_infos"][0]
        signed_attrs = signer["signed_attrs"]
        if not len(signed_attrs):
            raise TimestampFailed("the token has no signed attributes")
        if _attribute(signed_attrs, "content_type").native != "tst_info":
            raise TimestampFailed("the token's signed content type is not TSTInfo")
        digest_name = signer["digest_algorithm"]["algorithm"].native
        if _attribute(signed_attrs, "message_digest").native != _digest(digest_name, tst_bytes):
            raise TimestampFailed("the token's TSTInfo was changed after signing (message digest differs)")
        stamped_at = tst["gen_time"].native
        cert = _signer_certificate(signed_data, signer, trusted)
        _check_trust(cert, trusted, stamped_at, signed_attrs)
        # What is signed is the DER of the signed attributes as a SET (RFC 5652 §5.4), not as [0].
        _verify_signature(cert, signer, b"\x31" + signed_attrs.dump()[1:])
        return stamped_at
    except TimestampFailed:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise TimestampFailed(f"the token is not a well-formed time-stamp token ({type(exc).__name__})") from exc


def timestamp_token(answer: bytes, data: bytes, nonce: int, *, trusted=None) -> bytes:
    """The verified TimeStampToken (DER ContentInfo) of a granted TimeStampResp for `data`."""
    try:
        response = tsp.TimeStampResp.load(answer, strict=True)
        status = response["status"]["status"].native
    except (ValueError, TypeError, KeyError) as exc:
        raise TimestampFailed("the answer is not a TimeStampResp") from exc
    if status not in GRANTED:
        raise TimestampFailed(f"the authority refused the request (status {status})")
    token = response["time_stamp_token"]
    if isinstance(token, core.Void) or not token.contents:
        raise TimestampFailed("the answer holds no time-stamp token")
    token_verify(token.dump(), data, nonce, trusted=trusted)
    return token.dump()


def timestamp(data: bytes, *, url: str, timeout: float) -> bytes:
    nonce = secrets.randbits(63)
    try:
        answer = outbound.post(url, timestamp_request(data, nonce), kind="tsa", timeout=timeout,
                               content_type="application/timestamp-query")
    except (PermanentFailure, TemporaryFailure) as failure:
        raise TimestampFailed(str(failure)) from failure
    if answer.status != 200:
        raise TimestampFailed(f"the authority answered HTTP {answer.status}")
    return timestamp_token(answer.body, data, nonce)
