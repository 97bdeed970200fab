"""rathaus.einvoice: how long reading and validating takes, per XML invoice and per ZUGFeRD / Factur-X PDF.

1. All 66 invoices of the KoSIT test suite (``../shared/corpora/xrechnung-testsuite``), read and validated.
2. One Factur-X PDF (made here with the factur-x library from case 02.01): ``read_invoice`` (find the XML,
   parse it, map it) against the factur-x library's own ``get_xml_from_pdf`` (find the XML only), as a
   yardstick for the PDF part.

There is no rpaframework counterpart, so this is not part of ``run_all.py``. Medians of interleaved runs.
Usage: ``.venv/bin/python benchmarks/bench_einvoice.py``
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import facturx
from rathaus.einvoice import invoice_findings, read_invoice
from reportlab.pdfgen import canvas

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "xrechnung-testsuite"
REPS = 15


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _facturx_pdf(folder: Path) -> Path:
    buffer = BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 760, "Rechnung 1234567")
    page.save()
    xml = (CORPUS / "02.01a-INVOICE_uncefact.xml").read_bytes()
    path = folder / "rechnung.pdf"
    path.write_bytes(facturx.generate_from_binary(buffer.getvalue(), xml, flavor="factur-x", level="en16931"))
    return path


def run() -> list[dict[str, float | str]]:
    files = sorted(CORPUS.glob("*.xml"))
    with tempfile.TemporaryDirectory() as tmp:
        pdf = _facturx_pdf(Path(tmp))
        data = pdf.read_bytes()
        corpus, ours, theirs = [], [], []
        for _ in range(REPS):
            corpus.append(_timed(lambda: [invoice_findings(read_invoice(path)) for path in files]))
            ours.append(_timed(lambda: invoice_findings(read_invoice(pdf))))
            theirs.append(_timed(lambda: facturx.get_xml_from_pdf(data, check_xsd=False)))
    return [
        {"name": f"read + validate {len(files)} corpus XML files", "seconds": statistics.median(corpus)},
        {"name": "per corpus file", "seconds": statistics.median(corpus) / len(files)},
        {"name": "Factur-X PDF: read_invoice + validate", "seconds": statistics.median(ours)},
        {"name": "Factur-X PDF: facturx.get_xml_from_pdf (XML only)", "seconds": statistics.median(theirs)},
    ]


def main() -> int:
    for row in run():
        print(f"{row['name']:<56} {float(row['seconds']) * 1000:8.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
