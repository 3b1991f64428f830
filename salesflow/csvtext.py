"""Reading an uploaded CSV whatever Excel saved it as: UTF-8 (with or without BOM), GBK/GB18030
(Excel on Chinese Windows) or UTF-16 (Excel's "Unicode text", tab-separated), with or without
its BOM.

The encoding is decided before any row is read, and named in the result, so an import never
turns Chinese into mojibake silently: when no candidate decodes the whole file cleanly the file
is refused (`CsvEncodingError`) with a message saying what was tried.
"""
import codecs
import csv
import io
import unicodedata
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

# Also the stored message of an import refused for its encoding (leads.messages "import.undecodable").
UNDECODABLE = _(
    "The file could not be read as UTF-8, GBK/GB18030 or UTF-16 without damaging characters, so nothing "
    "was imported. Save it from Excel as “CSV UTF-8” (or “Unicode text”) and upload it again."
)


class CsvEncodingError(ValueError):
    """No supported encoding decodes the file cleanly."""


@dataclass(frozen=True)
class CsvText:
    text: str
    encoding: str  # "UTF-8", "UTF-8 (BOM)", "GBK", "GB18030", "UTF-16LE/BE (BOM)", "UTF-16LE/BE (no BOM)"
    delimiter: str  # "," or "\t"

    # newline="": the csv module reads line ends itself, so a lone \r inside a field is data, not an error.
    def reader(self):
        return csv.reader(io.StringIO(self.text, newline=""), delimiter=self.delimiter)

    def dict_reader(self):
        return csv.DictReader(io.StringIO(self.text, newline=""), delimiter=self.delimiter)


_BOMS = ((codecs.BOM_UTF8, "utf-8-sig", "UTF-8 (BOM)"), (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16LE (BOM)"),
         (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16BE (BOM)"))
# Tried in order when there is no BOM: UTF-8 first (a GBK file is almost never valid UTF-8,
# while UTF-8 Chinese often decodes as GBK into nonsense), then GBK, then its superset.
_GUESSES = (("utf-8", "UTF-8"), ("gbk", "GBK"), ("gb18030", "GB18030"))
_ALLOWED_CONTROLS = {"\t", "\n", "\r"}


def _plausible(text: str, codec: str) -> bool:
    """Decoded text a person could have written. A strict UTF decoding cannot produce mojibake,
    so only NULs (UTF-16 read as UTF-8) count against it; a legacy decoding must also be free of
    control characters and private-use or unassigned code points (what a wrong guess produces)."""
    if "\x00" in text:
        return False
    if codec.startswith("utf"):
        return True
    for ch in text:
        category = unicodedata.category(ch)
        if (category == "Cc" and ch not in _ALLOWED_CONTROLS) or category in ("Co", "Cn", "Cs"):
            return False
    return True


def _utf16_without_bom(raw: bytes) -> tuple[str, str] | None:
    """UTF-16 whose BOM was lost (saved by a script, or cut off): a CSV's delimiters, line ends and
    digits are ASCII, and ASCII in UTF-16 is a NUL beside each byte, on the odd bytes for little-
    endian and on the even ones for big-endian. A file with NULs on one side only is read that way."""
    if len(raw) < 2 or len(raw) % 2:
        return None
    even, odd = raw[0::2].count(0), raw[1::2].count(0)
    units = len(raw) // 2
    for nuls, other, codec, name in ((odd, even, "utf-16-le", "UTF-16LE (no BOM)"),
                                     (even, odd, "utf-16-be", "UTF-16BE (no BOM)")):
        if nuls * 10 >= units and other * 10 < nuls:
            try:
                text = raw.decode(codec)
            except UnicodeDecodeError:
                return None
            return (text, name) if _plausible(text, codec) else None
    return None


def _decode(raw: bytes) -> tuple[str, str]:
    for bom, codec, name in _BOMS:
        if raw.startswith(bom):
            try:
                text = raw[len(bom):].decode(codec)
            except UnicodeDecodeError:
                break
            if _plausible(text, codec):
                return text, name
            break
    else:
        if b"\x00" in raw and (found := _utf16_without_bom(raw)) is not None:
            return found
        for codec, name in _GUESSES:
            try:
                text = raw.decode(codec)
            except UnicodeDecodeError:
                continue
            if _plausible(text, codec):
                return text, name
    raise CsvEncodingError(str(UNDECODABLE))


def csv_delimiter(text: str) -> str:
    """Tab when the header holds more tabs than commas (Excel's "Unicode text"), else comma."""
    header = text.split("\n", 1)[0]
    return "\t" if header.count("\t") > header.count(",") else ","


def csv_decode(raw: bytes) -> CsvText:
    """The file's text, the encoding it was read with and its delimiter; CsvEncodingError otherwise."""
    text, encoding = _decode(raw)
    return CsvText(text=text, encoding=encoding, delimiter=csv_delimiter(text))
