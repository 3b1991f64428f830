"""Requests to endpoints a tenant configured: only where they may go, and nothing echoed back.

- DingTalk and WeCom robots live on one official host each; any other host is refused.
- https only unless `SALESFLOW_OUTBOUND_HTTPS_ONLY` is off (development, tests).
- The host is resolved here and every address it resolves to must be public: loopback,
  private, link-local (cloud metadata), CGNAT, multicast and reserved ranges are refused.
  The connection then goes to the address that was checked (pinned), so a DNS answer that
  changes between the check and the connect (rebinding) cannot redirect it; TLS still
  verifies the certificate against the host name.
- Redirects are not followed; an answer is read up to 64 KiB and only its status and the
  robot's error code are reported, never its text.

`SALESFLOW_OUTBOUND_TRUSTED_HOSTS` names hosts exempt from the host and address checks: the
test suite's local robot sinks, nothing in production.
"""
import http.client
import ipaddress
import socket
import ssl
import urllib.parse
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .errors import OutcomeUnknown, PermanentFailure, TemporaryFailure

OFFICIAL_ROBOT_HOSTS = {"dingtalk": "oapi.dingtalk.com", "wecom": "qyapi.weixin.qq.com"}
MAX_ANSWER_BYTES = 65536


class EndpointRefused(PermanentFailure):
    """The endpoint is not one we send to; `message` is for the person who configured it."""

    def __init__(self, message):
        super().__init__(f"endpoint refused: {message}")
        self.message = message

    @classmethod
    def official_host(cls, host: str) -> "EndpointRefused":
        return cls(_("This kind of channel only sends to its official robot address, %(host)s.") % {"host": host})

    @classmethod
    def https_only(cls) -> "EndpointRefused":
        return cls(_("Only https:// addresses are allowed."))

    @classmethod
    def internal(cls) -> "EndpointRefused":
        return cls(_("Internal and private addresses are not allowed."))


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes


def _trusted(host: str) -> bool:
    return host.lower() in {h.lower() for h in settings.SALESFLOW_OUTBOUND_TRUSTED_HOSTS}


def endpoint_check(url: str, *, kind: str) -> urllib.parse.SplitResult:
    """The parsed URL when a channel of `kind` may post to it; EndpointRefused otherwise (no DNS)."""
    parts = urllib.parse.urlsplit(url)
    host = (parts.hostname or "").rstrip(".").lower()
    if parts.scheme not in ("http", "https") or not host:
        raise EndpointRefused(_("Enter a full https:// address."))
    if parts.username or parts.password:
        raise EndpointRefused(_("The address must not contain a user name or password."))
    if _trusted(host):
        return parts
    official = OFFICIAL_ROBOT_HOSTS.get(kind)
    if official is not None and (host != official or parts.port not in (None, 443 if parts.scheme == "https" else 80)):
        raise EndpointRefused.official_host(official)
    if parts.scheme != "https" and settings.SALESFLOW_OUTBOUND_HTTPS_ONLY:
        raise EndpointRefused.https_only()
    _literal_check(host)
    return parts


def _literal_check(host: str) -> None:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
            raise EndpointRefused.internal() from None
        return
    if not address_is_public(address):
        raise EndpointRefused.internal()


def address_is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    # is_global is False for loopback, private, link-local (169.254.169.254), CGNAT 100.64/10,
    # documentation and reserved ranges; multicast is refused explicitly.
    return address.is_global and not address.is_multicast


def _resolve(host: str, port: int) -> str:
    """The address to connect to: every address `host` resolves to must be public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise TemporaryFailure(f"network: cannot resolve {host}: {exc.strerror}") from exc
    addresses = [info[4][0] for info in infos]
    if not _trusted(host):
        for value in addresses:
            if not address_is_public(ipaddress.ip_address(value.split("%", 1)[0])):
                raise EndpointRefused.internal()
    return addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host, port, *, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, port, *, address, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, body: bytes, *, kind: str, timeout: float, content_type: str = "application/json; charset=utf-8") -> Answer:
    """POST `body` to `url` once. TemporaryFailure: not delivered; OutcomeUnknown: sent, no answer."""
    parts = endpoint_check(url, kind=kind)
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    address = _resolve(parts.hostname, port)
    connection_cls = _PinnedHTTPSConnection if https else _PinnedHTTPConnection
    connection = connection_cls(parts.hostname, port, address=address, timeout=timeout)
    path = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
    try:
        try:
            connection.request("POST", path, body=body, headers={"Content-Type": content_type})
        except ssl.SSLCertVerificationError as exc:
            raise PermanentFailure("TLS certificate not valid for the host") from exc
        except (OSError, http.client.HTTPException) as exc:
            raise TemporaryFailure(f"network: not delivered ({type(exc).__name__})") from exc
        try:
            response = connection.getresponse()
            raw = response.read(MAX_ANSWER_BYTES)
        except (OSError, http.client.HTTPException) as exc:
            # The request went out; whether the robot posted it is unknown.
            raise OutcomeUnknown(f"no answer after sending ({type(exc).__name__})") from exc
    finally:
        connection.close()
    return Answer(status=response.status, body=raw)
