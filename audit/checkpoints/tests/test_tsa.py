"""RFC 3161 stamping against a real time-stamp authority: OpenSSL's `openssl ts -reply`,
served over HTTP on loopback by this test (no mock: the request and the token are the real
DER that OpenSSL reads and writes, and `openssl ts -verify` checks the token at the end)."""
import datetime as dt
import http.server
import shutil
import subprocess
import threading
import urllib.request

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from audit.checkpoints import tsa
from audit.checkpoints.services import checkpoint_create
from audit.checkpoints.verification import checkpoints_verify
from audit.models import AuditEntry

from .conftest import as_owner, record_many

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")


def _certificate(subject, issuer, key, issuer_key, *, ca: bool):
    now = dt.datetime.now(dt.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
               .not_valid_after(now + dt.timedelta(days=30))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture
def authority(tmp_path):
    """An OpenSSL TSA behind a loopback HTTP endpoint; yields (url, CA file)."""
    yield from _authority(tmp_path / "tsa-a")


@pytest.fixture
def other_authority(tmp_path):
    yield from _authority(tmp_path / "tsa-b")


def _authority(tmp_path):
    tmp_path.mkdir()
    ca_key, tsa_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    tsa_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test TSA")])
    ca = _certificate(ca_name, ca_name, ca_key, ca_key, ca=True)
    cert = _certificate(tsa_name, ca_name, tsa_key, ca_key, ca=False)
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "tsa.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "tsa.key").write_bytes(tsa_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    (tmp_path / "serial").write_text("01\n")
    (tmp_path / "tsa.cnf").write_text(f"""
[tsa]
default_tsa = tsa_config
[tsa_config]
serial = {tmp_path}/serial
signer_cert = {tmp_path}/tsa.pem
signer_key = {tmp_path}/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256
accuracy = secs:1
ess_cert_id_alg = sha256
""")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            query = tmp_path / "query.tsq"
            query.write_bytes(self.rfile.read(int(self.headers["Content-Length"])))
            reply = subprocess.run(["openssl", "ts", "-reply", "-config", str(tmp_path / "tsa.cnf"), "-queryfile",
                                    str(query)], capture_output=True, check=True).stdout
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/tsa", tmp_path / "ca.pem"
    server.shutdown()


def _stamp_with(settings, url: str) -> None:
    """Checkpoints get stamped by the loopback authority at `url` (plain HTTP on 127.0.0.1 allowed)."""
    settings.SALESFLOW_AUDIT_TSA_URL = url
    settings.SALESFLOW_OUTBOUND_HTTPS_ONLY = False
    settings.SALESFLOW_OUTBOUND_TRUSTED_HOSTS = ["127.0.0.1"]


def test_each_checkpoint_is_stamped_by_the_configured_authority(alpha, authority, settings, tmp_path):
    url, ca_file = authority
    _stamp_with(settings, url)
    record_many(alpha.admin, 2)
    checkpoint = checkpoint_create(reason="manual")
    stamp = checkpoint.stamps.get()
    assert stamp.error == "" and stamp.token
    (tmp_path / "note.txt").write_bytes(checkpoint.note.encode())
    (tmp_path / "token.der").write_bytes(bytes(stamp.token))
    verified = subprocess.run(["openssl", "ts", "-verify", "-data", str(tmp_path / "note.txt"), "-in",
                               str(tmp_path / "token.der"), "-token_in", "-CAfile", str(ca_file)],
                              capture_output=True, text=True)
    assert verified.returncode == 0 and "Verification: OK" in verified.stdout
    assert tsa.token_verify(bytes(stamp.token), checkpoint.note.encode(), trusted=tsa.trusted_certificates(
        ca_file.read_bytes())) <= dt.datetime.now(dt.timezone.utc)


def test_the_pinned_ca_setting_is_checked_when_stamping(alpha, authority, other_authority, settings):
    url, ca_file = authority
    _other_url, other_ca = other_authority
    _stamp_with(settings, url)
    settings.SALESFLOW_AUDIT_TSA_CERTIFICATE = str(ca_file)
    record_many(alpha.admin, 1)
    assert checkpoint_create(reason="manual").stamps.get().error == ""
    settings.SALESFLOW_AUDIT_TSA_CERTIFICATE = other_ca.read_text()  # PEM text works too
    record_many(alpha.admin, 1)
    stamp = checkpoint_create(reason="manual").stamps.get()
    assert stamp.token is None
    assert stamp.error == "the signer certificate is not the pinned TSA certificate nor issued by it"


def _reply(url: str, data: bytes, nonce: int) -> bytes:
    request = urllib.request.Request(url, data=tsa.timestamp_request(data, nonce),
                                     headers={"Content-Type": "application/timestamp-query"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.read()


def _openssl_accepts(token: bytes, data: bytes, ca_file, tmp_path) -> bool:
    (tmp_path / "data.bin").write_bytes(data)
    (tmp_path / "token.der").write_bytes(token)
    result = subprocess.run(["openssl", "ts", "-verify", "-data", str(tmp_path / "data.bin"), "-in",
                             str(tmp_path / "token.der"), "-token_in", "-CAfile", str(ca_file)], capture_output=True)
    return result.returncode == 0


@pytest.fixture
def real_token(authority, tmp_path):
    url, ca_file = authority
    data = b"alpha.localhost\n5\nAAAA\n"
    answer = _reply(url, data, 77)
    trusted = tsa.trusted_certificates(ca_file.read_bytes())
    token = tsa.timestamp_token(answer, data, 77, trusted=trusted)
    assert _openssl_accepts(token, data, ca_file, tmp_path)
    return token, data, answer, trusted, ca_file


def test_a_token_with_a_changed_signature_is_refused(real_token, tmp_path):
    token, data, _answer, trusted, ca_file = real_token
    tampered = token[:-1] + bytes([token[-1] ^ 0x01])  # the SignerInfo's signature ends the token
    assert not _openssl_accepts(tampered, data, ca_file, tmp_path)
    with pytest.raises(tsa.TimestampFailed, match="CMS signature does not verify"):
        tsa.token_verify(tampered, data, 77, trusted=trusted)
    with pytest.raises(tsa.TimestampFailed, match="CMS signature does not verify"):
        tsa.token_verify(tampered, data, 77, trusted=[])  # also against the certificate the token carries


def test_a_token_whose_tstinfo_was_changed_is_refused(real_token, tmp_path):
    token, data, _answer, trusted, ca_file = real_token
    policy = bytes.fromhex("06042a030401")  # 1.2.3.4.1, the authority's policy, inside the signed TSTInfo
    assert token.count(policy) == 1
    tampered = token.replace(policy, bytes.fromhex("06042a030402"))
    assert not _openssl_accepts(tampered, data, ca_file, tmp_path)
    with pytest.raises(tsa.TimestampFailed, match="message digest differs"):
        tsa.token_verify(tampered, data, 77, trusted=trusted)


def test_a_token_for_other_data_or_another_nonce_is_refused(real_token):
    token, data, answer, trusted, _ca_file = real_token
    with pytest.raises(tsa.TimestampFailed, match="message imprint differs"):
        tsa.token_verify(token, data + b"x", 77, trusted=trusted)
    with pytest.raises(tsa.TimestampFailed, match="nonce"):
        tsa.timestamp_token(answer, data, 78, trusted=trusted)


def test_a_token_from_another_authority_is_refused_when_one_is_pinned(real_token, other_authority):
    _token, data, _answer, trusted, _ca_file = real_token
    other_url, _other_ca = other_authority
    foreign = _reply(other_url, data, 5)
    assert tsa.timestamp_token(foreign, data, 5, trusted=[])  # well formed, signed by its own certificate
    with pytest.raises(tsa.TimestampFailed, match="not the pinned TSA certificate"):
        tsa.timestamp_token(foreign, data, 5, trusted=trusted)


def test_garbage_is_refused_in_words():
    with pytest.raises(tsa.TimestampFailed, match="not a TimeStampResp"):
        tsa.timestamp_token(b"\x30\x03\x02\x01", b"a", nonce=5)
    with pytest.raises(tsa.TimestampFailed, match="not a well-formed time-stamp token"):
        tsa.token_verify(b"\x30\x03\x02\x01\x00", b"a", 5, trusted=[])


def test_an_internal_authority_is_refused_by_the_outbound_rules(alpha, settings):
    settings.SALESFLOW_AUDIT_TSA_URL = "https://169.254.169.254/tsa"
    record_many(alpha.admin, 1)
    stamp = checkpoint_create(reason="manual").stamps.get()
    assert stamp.token is None and stamp.error.startswith("endpoint refused")


def test_an_answer_for_another_request_is_refused():
    request_for_a = tsa.timestamp_request(b"a", nonce=5)
    with pytest.raises(tsa.TimestampFailed):
        tsa.timestamp_token(b"\x30\x05\x30\x03\x02\x01\x00", b"a", nonce=5)  # granted, but no token
    with pytest.raises(tsa.TimestampFailed):
        tsa.timestamp_token(b"\x30\x05\x30\x03\x02\x01\x02", b"a", nonce=5)  # rejection
    assert request_for_a.startswith(b"\x30")


def test_verify_audit_checks_stored_tokens_again(alpha, authority, settings):
    url, _ca_file = authority
    _stamp_with(settings, url)
    record_many(alpha.admin, 2)
    first = checkpoint_create(reason="manual")
    record_many(alpha.admin, 2)
    second = checkpoint_create(reason="manual")
    verdict = checkpoints_verify(count=AuditEntry.objects.count())
    assert verdict.intact and verdict.stamps == 2
    assert str(verdict).endswith("; 2 time stamps verified")

    # The first checkpoint's stamp replaced by the (genuine) stamp of the second: a valid token, wrong note.
    as_owner([("UPDATE audit_checkpointstamp SET token = %s WHERE checkpoint_id = %s",
               [bytes(second.stamps.get().token), first.pk])])
    verdict = checkpoints_verify(count=AuditEntry.objects.count())
    assert verdict.stamps == 1
    assert verdict.problems == [
        f"checkpoint at tree size {first.tree_size} (signed {first.created_at:%Y-%m-%d %H:%M} UTC): its time stamp "
        f"from {url} does not verify: the token does not stamp our checkpoint (message imprint differs)"]


def test_a_token_younger_than_its_row_is_caught(alpha, authority, settings):
    url, _ca_file = authority
    _stamp_with(settings, url)
    record_many(alpha.admin, 1)
    checkpoint = checkpoint_create(reason="manual")
    stamp = checkpoint.stamps.get()
    as_owner([("UPDATE audit_checkpointstamp SET created_at = created_at - interval '1 hour' WHERE id = %s", [stamp.pk])])
    verdict = checkpoints_verify(count=AuditEntry.objects.count())
    assert verdict.stamps == 0 and len(verdict.problems) == 1
    assert "after it was stored" in verdict.problems[0]
