"""RFC 3161 stamping against a real time-stamp authority: OpenSSL's `openssl ts -reply`,
served over HTTP on loopback by this test (no mock: the request and the token are the real
DER that OpenSSL reads and writes, and `openssl ts -verify` checks the token at the end)."""
import datetime as dt
import http.server
import shutil
import subprocess
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from audit.checkpoints import tsa
from audit.checkpoints.services import checkpoint_create

from .conftest import record_many

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


def test_each_checkpoint_is_stamped_by_the_configured_authority(alpha, authority, settings, tmp_path):
    url, ca_file = authority
    settings.SALESFLOW_AUDIT_TSA_URL = url
    settings.SALESFLOW_OUTBOUND_HTTPS_ONLY = False
    settings.SALESFLOW_OUTBOUND_TRUSTED_HOSTS = ["127.0.0.1"]
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
