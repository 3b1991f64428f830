"""record.pdf with WeasyPrint. The CJK font is the one shipped under static/fonts (named
explicitly: WeasyPrint's generic sans-serif has no Chinese on a bare machine). WeasyPrint
holds a whole document in memory, so a long record is cut into parts of at most
`SALESFLOW_RECORD_PDF_PAGE_CAP` pages (record.pdf, record-part-2.pdf, …), each saying so."""
import logging

import segno
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

logger = logging.getLogger(__name__)

STATIC_DIR = settings.BASE_DIR / "static"
# An entry with a long summary takes about a twentieth of a page: parts are cut
# by this count so that none passes the page cap.
ENTRIES_PER_PAGE = 20


def _parts(entries: list, cap: int) -> list[list]:
    per_part = max(1, (cap - 3) * ENTRIES_PER_PAGE)  # the summary and the recipe take pages too
    return [entries[i: i + per_part] for i in range(0, len(entries), per_part)] or [[]]


def part_name(number: int) -> str:
    return "record.pdf" if number == 1 else f"record-part-{number}.pdf"


def _qr(checkpoint) -> str:
    return segno.make(f"{checkpoint.origin} {checkpoint.tree_size} {checkpoint.root_hash}", error="m").svg_data_uri(
        scale=3, border=2)


def _render(html: str, cap: int) -> tuple[bytes, int]:
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    stylesheet = CSS(filename=str(STATIC_DIR / "audit" / "record.css"), font_config=fonts)
    document = HTML(string=html, base_url=str(STATIC_DIR / "audit")).render(stylesheets=[stylesheet], font_config=fonts)
    if len(document.pages) > cap:
        logger.warning("interaction record part has %d pages, over the cap of %d", len(document.pages), cap)
    return document.write_pdf(), len(document.pages)


def record_pdfs(*, export, checkpoint, entries, describer, summary, vkey: str, tenant_name: str) -> list[tuple[str, bytes]]:
    cap = settings.SALESFLOW_RECORD_PDF_PAGE_CAP
    parts = _parts(entries, cap)
    qr = _qr(checkpoint)
    out = []
    for number, part in enumerate(parts, start=1):
        rows = [{"entry": e, "actor": describer.actor(e), "action": describer.action(e), "details": describer.details(e),
                 "at": timezone.localtime(e.at)} for e in part]
        html = render_to_string("audit/record_pdf.html", {
            "export": export, "account": export.account, "checkpoint": checkpoint, "summary": summary, "rows": rows,
            "qr": qr, "vkey": vkey, "tenant_name": tenant_name, "total_entries": len(entries),
            "part": number, "parts": len(parts), "part_names": [part_name(n) for n in range(1, len(parts) + 1)],
            "cap": cap, "first_seq": part[0].seq if part else None, "last_seq": part[-1].seq if part else None,
            "generated_at": timezone.localtime(),
        })
        data, _pages = _render(html, cap)
        out.append((part_name(number), data))
    return out
