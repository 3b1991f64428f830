"""RFC 3161 time stamps for checkpoints: the request in DER built here, sent by the outbound
rules (https only, public addresses only, no redirects, bounded answer).

The answer is accepted when its status is granted and its token carries our message imprint
and nonce. The token's CMS signature is kept, not checked here: whoever relies on the stamp
checks it against the authority's certificate (`openssl ts -verify`).
"""
import hashlib
import secrets

from salesflow.notifications import outbound
from salesflow.notifications.errors import PermanentFailure, TemporaryFailure

SHA256_OID = bytes.fromhex("0609608648016503040201")  # 2.16.840.1.101.3.4.2.1, DER
GRANTED = (0, 1)  # granted, grantedWithMods


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


def _read(buffer: bytes, at: int) -> tuple[int, int, int]:
    """(tag, start of content, end of content) of the DER element at `at`."""
    if at + 2 > len(buffer):
        raise TimestampFailed("the answer is not DER (truncated)")
    tag, first = buffer[at], buffer[at + 1]
    at += 2
    if first < 0x80:
        size = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or at + count > len(buffer):
            raise TimestampFailed("the answer is not DER (bad length)")
        size, at = int.from_bytes(buffer[at: at + count], "big"), at + count
    if at + size > len(buffer):
        raise TimestampFailed("the answer is not DER (truncated)")
    return tag, at, at + size


def timestamp_token(answer: bytes, data: bytes, nonce: int) -> bytes:
    """The TimeStampToken (DER ContentInfo) of a granted TimeStampResp for `data`."""
    tag, start, end = _read(answer, 0)
    if tag != 0x30:
        raise TimestampFailed("the answer is not a TimeStampResp")
    tag, status_start, status_end = _read(answer, start)
    if tag != 0x30:
        raise TimestampFailed("the answer has no PKIStatusInfo")
    tag, int_start, int_end = _read(answer, status_start)
    if tag != 0x02:
        raise TimestampFailed("the answer has no PKIStatus")
    status = int.from_bytes(answer[int_start:int_end], "big", signed=True)
    if status not in GRANTED:
        raise TimestampFailed(f"the authority refused the request (status {status})")
    if status_end >= end:
        raise TimestampFailed("the answer holds no time-stamp token")
    token = answer[status_end:end]
    if hashlib.sha256(data).digest() not in token:
        raise TimestampFailed("the token does not stamp our checkpoint (message imprint differs)")
    if _der_int(nonce) not in token:
        raise TimestampFailed("the token does not carry our nonce")
    return bytes(token)


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
