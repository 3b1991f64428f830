"""The address a request came from, believing X-Forwarded-For only from our own proxies.

Anyone can send X-Forwarded-For; only the hops our trusted proxies (settings.TRUSTED_PROXIES)
appended are facts. Walking the list from the right, the first address that is not one of
our proxies is the client: what a client wrote further left is ignored.
"""
import ipaddress

from django.conf import settings


def _address(text: str):
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address) -> bool:
    return any(address in network for network in settings.TRUSTED_PROXIES)


def client_ip(request) -> str:
    remote = _address(request.META.get("REMOTE_ADDR", ""))
    if remote is None:
        return request.META.get("REMOTE_ADDR", "") or "unknown"
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    client = remote
    while _trusted(client) and hops:
        hop = _address(hops.pop())
        if hop is None:
            break  # a malformed entry: the last proxy we trust is the best we know
        client = hop
    return str(client)
