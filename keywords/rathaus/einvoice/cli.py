"""``rathaus invoice read FILE [--json]``: read and validate one e-invoice from the command line.

Prints the invoice's summary (``key: value`` lines, or one JSON object with ``--json``) and returns 0
for a valid invoice. A file that is no e-invoice, or an invoice that breaks business rules, raises a
:class:`~rathaus.einvoice.errors.EInvoiceError` whose German one-line message names the file and the
rule ids; ``rathaus.cli.main`` prints it on stderr and exits with 2.

Imports stay light here: lxml and pypdf load only when the command runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

EXIT_OK = 0


def _cmd_read(args: argparse.Namespace) -> int:
    from rathaus.einvoice.errors import EInvoiceError, InvalidInvoiceError
    from rathaus.einvoice.reader import read_invoice
    from rathaus.einvoice.rules import validate_invoice
    from rathaus.errors import BusinessError

    try:
        summary = validate_invoice(read_invoice(args.file)).summary()
    except EInvoiceError as error:
        # every refusal names its rule, also those that come before the business rules (SYNTAX-ROOT, PDF-…)
        text = str(error)
        if not isinstance(error, InvalidInvoiceError) and error.rule and f"[{error.rule}]" not in text:
            raise BusinessError(f"[{error.rule}] {text}") from None
        raise
    if args.json:
        json.dump(dict(summary), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        for key, value in summary.items():
            print(f"{key}: {'' if value is None else value}")
    return EXIT_OK


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``invoice read FILE [--json]`` on the ``rathaus`` command's subparsers; returns ``invoice``."""
    invoice = subparsers.add_parser("invoice", help="read and validate e-invoices (XRechnung, ZUGFeRD)")
    commands = invoice.add_subparsers(dest="invoice_command", required=True)
    read = commands.add_parser(
        "read", help="summary of a valid e-invoice; an invalid one fails naming the broken rules"
    )
    read.add_argument("file", type=Path, help="XRechnung XML (UBL or CII) or ZUGFeRD / Factur-X PDF")
    read.add_argument("--json", action="store_true", help="print one JSON object")
    read.set_defaults(func=_cmd_read)
    return invoice
