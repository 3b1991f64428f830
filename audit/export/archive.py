"""The zip a tender committee receives: canonical entries with proofs, CSV, PDF, the signed
checkpoint, the key and the verifier."""
import csv
import io
import json
import zipfile

from django.utils import timezone, translation

from salesflow.formatting import format_datetime
from salesflow.org.selectors import tenant_settings_get

from ..checkpoints.keys import verifier_key
from ..checkpoints.models import Checkpoint
from ..checkpoints.tiles import TileStore
from ..verifier import VERIFIER_PATH
from .. import merkle
from .pdf import record_pdfs
from .selectors import RecordEntry
from .summary import Describer, record_summary

CSV_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def inclusion_proofs(entries: list[RecordEntry], tree_size: int) -> dict[int, list[bytes]]:
    """Each entry's RFC 9162 inclusion proof in the tree of `tree_size`, tiles read in one go."""
    store = TileStore(tree_size)
    store.prefetch({key for entry in entries for key in store.tiles_for_leaf(entry.leaf_index)})
    return {entry.seq: merkle.inclusion_proof(entry.leaf_index, tree_size, store.subtree) for entry in entries}


def records_jsonl(entries: list[RecordEntry], proofs: dict[int, list[bytes]]) -> bytes:
    lines = [
        json.dumps({"canonical": e.canonical, "entry_hash": e.entry_hash, "inclusion_proof": [p.hex() for p in proofs[e.seq]],
                    "leaf_index": e.leaf_index, "seq": e.seq}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        for e in entries
    ]
    return ("\n".join(lines) + "\n").encode() if lines else b""


def _cell(value) -> str:
    text = str(value)
    return "'" + text if text.startswith(CSV_FORMULA_PREFIXES) else text


def records_csv(entries: list[RecordEntry], describer: Describer) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(["seq", "leaf_index", "time", "actor", "action", "target", "details", "entry_hash"])
    for e in entries:
        content = e.content
        writer.writerow([
            e.seq, e.leaf_index, format_datetime(e.at, "full"), _cell(describer.actor(e)), _cell(describer.action(e)),
            f"{content.get('target_type', '')}:{content.get('target_id', '')}", _cell(describer.details(e)), e.entry_hash,
        ])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: Excel then reads UTF-8


def record_archive(*, export, checkpoint: Checkpoint, entries: list[RecordEntry]) -> bytes:
    settings_row = tenant_settings_get()
    with translation.override(export.language), timezone.override(settings_row.tzinfo):
        proofs = inclusion_proofs(entries, checkpoint.tree_size)
        describer = Describer(entries)
        summary = record_summary(entries=entries, account=export.account, since=export.since, until=export.until,
                                 required=export.required_touches)
        vkey = str(verifier_key())
        pdfs = record_pdfs(export=export, checkpoint=checkpoint, entries=entries, describer=describer,
                           summary=summary, vkey=vkey, tenant_name=settings_row.display_name)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("records.jsonl", records_jsonl(entries, proofs))
            archive.writestr("records.csv", records_csv(entries, describer))
            for name, data in pdfs:
                archive.writestr(name, data)
            archive.writestr("checkpoint.txt", checkpoint.note)
            archive.writestr("key.txt", vkey + "\n")
            archive.write(VERIFIER_PATH, "verify_record.py")
    return buffer.getvalue()
