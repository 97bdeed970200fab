"""rathaus.PDF against rpaframework's RPA.PDF, side by side in one run.

1. Form fields of the ~30-field Unterhaltsvorschuss application: ``read_fields`` vs ``Get Input Fields``
   (a fresh ``RPA.PDF.PDF()`` per file, so its open is counted like ours), PDFium as a reference.
2. Text of page 50 of a 100-page PDF: ``read_text(pages=[50])`` vs ``Get Text From PDF`` with
   ``pages=50`` on a fresh library instance, as a robot does per file.

Runs are interleaved and the median is taken, so that load on the machine hits both sides alike.
Usage: ``.venv/bin/python benchmarks/bench_pdf.py``; exits 1 when a target is missed.
"""

from __future__ import annotations

import ctypes
import logging
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

from rathaus.pdf.reader import read_fields, read_text

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "processes"))
from rathaus_sandbox.pdfforms import (
    FieldSpec,
    build_form,
)
from unterhaltsvorschuss.samples.generate import EXAMPLE as UNTERHALTSVORSCHUSS_SAMPLE
from unterhaltsvorschuss.samples.generate import FORM as UNTERHALTSVORSCHUSS_FIELDS

FIELD_REPS = 25
TEXT_REPS_OURS = 25
TEXT_REPS_RPA = 3
FIELDS_TARGET = 5.0
TEXT_TARGET = 100.0


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _rpa_fields(path: Path) -> dict:
    from RPA.PDF import PDF as RpaPdf

    pdf = RpaPdf()
    fields = pdf.get_input_fields(str(path))
    pdf.close_all_pdfs()
    return fields


def _rpa_text(path: Path, page: int) -> dict:
    from RPA.PDF import PDF as RpaPdf

    pdf = RpaPdf()
    text = pdf.get_text_from_pdf(str(path), pages=page)
    pdf.close_all_pdfs()
    return text


def _pdfium_fields(path: Path) -> dict[str, object]:
    """The same fields through PDFium's form API (widgets per page), as a reference point."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    def text(fn: Callable[..., int], *args: object) -> str:
        size = fn(*args, None, 0)
        if size <= 2:
            return ""
        buffer = ctypes.create_string_buffer(size)
        fn(*args, ctypes.cast(buffer, ctypes.POINTER(raw.FPDF_WCHAR)), size)
        return buffer.raw[: size - 2].decode("utf-16-le")

    document = pdfium.PdfDocument(str(path))
    document.init_forms()
    form = document.formenv.raw
    fields: dict[str, object] = {}
    for index in range(len(document)):
        page = document[index]
        for number in range(raw.FPDFPage_GetAnnotCount(page.raw)):
            annot = raw.FPDFPage_GetAnnot(page.raw, number)
            if raw.FPDFAnnot_GetSubtype(annot) == raw.FPDF_ANNOT_WIDGET:
                name = text(raw.FPDFAnnot_GetFormFieldName, form, annot)
                kind = raw.FPDFAnnot_GetFormFieldType(form, annot)
                if kind == raw.FPDF_FORMFIELD_CHECKBOX:
                    fields[name] = bool(raw.FPDFAnnot_IsChecked(form, annot))
                elif kind == raw.FPDF_FORMFIELD_RADIOBUTTON:
                    if raw.FPDFAnnot_IsChecked(form, annot):
                        fields[name] = text(raw.FPDFAnnot_GetFormFieldExportValue, form, annot)
                    else:
                        fields.setdefault(name, None)
                else:
                    fields[name] = text(raw.FPDFAnnot_GetFormFieldValue, form, annot) or None
            raw.FPDFPage_CloseAnnot(annot)
        page.close()
    document.close()
    return fields


def _flat(specs: tuple[FieldSpec, ...]) -> list[FieldSpec]:
    return [FieldSpec(s.name.replace(".", "_"), s.label, s.kind, s.options) for s in specs]


def _median(samples: list[float]) -> float:
    return statistics.median(samples)


def run() -> list[dict]:
    """Run both comparisons; one row each: name, rathaus_s, rpa_s, ratio, target (plus pdfium_s)."""
    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bench_pdf_") as tmp:
        folder = Path(tmp)
        # RPA.PDF lists only top-level fields; on a hierarchical form it would return the 6 parents and
        # skip the work. The flat variant has the same 29 fields at the top, so both sides read them all.
        values = {k.replace(".", "_"): v for k, v in UNTERHALTSVORSCHUSS_SAMPLE.items()}
        form = build_form(folder / "antrag.pdf", "Antrag auf Unterhaltsvorschuss",
                          _flat(UNTERHALTSVORSCHUSS_FIELDS), values)
        assert read_fields(form) == values
        assert len(_rpa_fields(form)) == len(values)
        ours, rpa, pdfium = [], [], []
        for _ in range(FIELD_REPS):
            ours.append(_timed(lambda: read_fields(form)))
            rpa.append(_timed(lambda: _rpa_fields(form)))
            pdfium.append(_timed(lambda: _pdfium_fields(form)))
        rows.append(_row("form fields (29 fields)", ours, rpa, FIELDS_TARGET, pdfium_s=_median(pdfium)))

        long_pdf = build_form(folder / "lang.pdf", "Merkblatt", UNTERHALTSVORSCHUSS_FIELDS[:3], extra_pages=99)
        assert "Seite 50" in read_text(long_pdf, [50])[50]
        ours, rpa = [], []
        for index in range(max(TEXT_REPS_OURS, TEXT_REPS_RPA)):
            ours.append(_timed(lambda: read_text(long_pdf, [50])))
            if index < TEXT_REPS_RPA:
                rpa.append(_timed(lambda: _rpa_text(long_pdf, 50)))
        rows.append(_row("text of page 50 of 100", ours, rpa, TEXT_TARGET))
    logging.disable(logging.NOTSET)
    return rows


def _row(name: str, ours: list[float], rpa: list[float], target: float, **extra: float) -> dict:
    rathaus_s, rpa_s = _median(ours), _median(rpa)
    return {"name": name, "rathaus_s": rathaus_s, "rpa_s": rpa_s, "ratio": rpa_s / rathaus_s,
            "target": target, **extra}


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def main() -> int:
    rows = run()
    print(f"{'benchmark':<26} {'rathaus':>10} {'RPA.PDF':>11} {'ratio':>8} {'target':>7}  reference")
    missed = False
    for row in rows:
        ok = row["ratio"] >= row["target"]
        missed |= not ok
        ref = f"PDFium {_ms(row['pdfium_s'])}" if "pdfium_s" in row else ""
        print(f"{row['name']:<26} {_ms(row['rathaus_s']):>10} {_ms(row['rpa_s']):>11} "
              f"{row['ratio']:>7.0f}× {row['target']:>6.0f}×  {ref}{'' if ok else '  MISSED'}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
