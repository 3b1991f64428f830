"""Reading an amount as people type it: "120万", "1,200,000", "￥85.5 万", "1.2亿"."""
import re
import unicodedata
from decimal import Decimal, InvalidOperation

UNITS = {"": Decimal(1), "万": Decimal(10_000), "w": Decimal(10_000), "亿": Decimal(100_000_000),
         "k": Decimal(1_000), "m": Decimal(1_000_000)}
_AMOUNT = re.compile(r"^(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>万|亿|w|k|m)?(?:元)?$")
# Thousands separators as they are typed: commas (ASCII, full-width, Chinese enumeration), spaces, apostrophes.
_SEPARATORS = re.compile(r"[,，、'\s]")


class AmountError(ValueError):
    pass


def parse_amount(text) -> Decimal:
    """The amount in yuan, at most two decimals; AmountError saying what is wrong otherwise."""
    raw = unicodedata.normalize("NFKC", str(text or "")).strip().lower()
    raw = raw.lstrip("¥￥").removeprefix("rmb").removeprefix("cny").strip()
    if not raw:
        raise AmountError("empty")
    if raw.startswith("-"):
        raise AmountError("negative")
    match = _AMOUNT.match(_SEPARATORS.sub("", raw))
    if match is None:
        raise AmountError("unreadable")
    try:
        value = Decimal(match["number"]) * UNITS[match["unit"] or ""]
    except InvalidOperation:
        raise AmountError("unreadable") from None
    if value != value.quantize(Decimal("0.01")):
        raise AmountError("too precise")
    if value >= Decimal("1e12"):
        raise AmountError("too large")
    return value.quantize(Decimal("0.01"))
