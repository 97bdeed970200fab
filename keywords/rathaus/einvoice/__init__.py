"""E-invoices: read XRechnung (UBL, CII) and ZUGFeRD / Factur-X into one model, validate, check Leitweg-IDs.

``Library    rathaus.EInvoice`` in Robot Framework, ``from rathaus import EInvoice`` in Python. The
keywords are thin; the work is done by plain functions that processes and the command line use too:

- :func:`read_invoice` / :func:`read_invoice_data` (:mod:`rathaus.einvoice.reader`)
- :func:`invoice_findings`, :func:`validate_invoice`, :func:`check_file` (:mod:`rathaus.einvoice.rules`)
- :func:`check_invoice_file`, :class:`KositConfiguration`: the official verdict (:mod:`rathaus.einvoice.kosit`)
- :func:`check_leitweg_id`, :func:`make_leitweg_id`, :func:`leitweg_check_digits` (:mod:`rathaus.einvoice.leitweg`)

Names are imported on first use, so that ``rathaus invoice`` and ``import rathaus.einvoice.cli`` stay
light (lxml, pypdf and Robot Framework's library core load only when needed).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "EInvoice": "rathaus.einvoice.library",
    "Invoice": "rathaus.einvoice.model",
    "InvoiceLine": "rathaus.einvoice.model",
    "VatBreakdown": "rathaus.einvoice.model",
    "AllowanceCharge": "rathaus.einvoice.model",
    "Finding": "rathaus.einvoice.model",
    "InvoiceSummary": "rathaus.einvoice.model",
    "read_invoice": "rathaus.einvoice.reader",
    "read_invoice_data": "rathaus.einvoice.reader",
    "extract_invoice_xml": "rathaus.einvoice.reader",
    "extract_invoice_xml_data": "rathaus.einvoice.reader",
    "invoice_findings": "rathaus.einvoice.rules",
    "validate_invoice": "rathaus.einvoice.rules",
    "check_file": "rathaus.einvoice.rules",
    "RULES": "rathaus.einvoice.rules",
    "KositConfiguration": "rathaus.einvoice.kosit",
    "OfficialVerdict": "rathaus.einvoice.kosit",
    "OfficialMessage": "rathaus.einvoice.kosit",
    "check_invoice_file": "rathaus.einvoice.kosit",
    "check_invoice_data": "rathaus.einvoice.kosit",
    "check_leitweg_id": "rathaus.einvoice.leitweg",
    "is_valid_leitweg_id": "rathaus.einvoice.leitweg",
    "leitweg_check_digits": "rathaus.einvoice.leitweg",
    "make_leitweg_id": "rathaus.einvoice.leitweg",
    "EInvoiceError": "rathaus.einvoice.errors",
    "InvoiceFileMissingError": "rathaus.einvoice.errors",
    "InvoiceSyntaxError": "rathaus.einvoice.errors",
    "EmptyInvoiceFileError": "rathaus.einvoice.errors",
    "NotXmlError": "rathaus.einvoice.errors",
    "UnsafeXmlError": "rathaus.einvoice.errors",
    "UnknownRootError": "rathaus.einvoice.errors",
    "InvalidValueError": "rathaus.einvoice.errors",
    "PdfUnreadableError": "rathaus.einvoice.errors",
    "EncryptedPdfError": "rathaus.einvoice.errors",
    "NoInvoiceInPdfError": "rathaus.einvoice.errors",
    "InvalidInvoiceError": "rathaus.einvoice.errors",
    "InvalidLeitwegIdError": "rathaus.einvoice.errors",
    "InvoiceTooLargeError": "rathaus.einvoice.errors",
    "PdfTooLargeError": "rathaus.einvoice.errors",
    "KositConfigurationError": "rathaus.einvoice.errors",
}

__all__ = sorted(_EXPORTS)  # noqa: PLE0605 - the names exist through __getattr__


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'rathaus.einvoice' has no attribute '{name}'")
    return getattr(importlib.import_module(module), name)
