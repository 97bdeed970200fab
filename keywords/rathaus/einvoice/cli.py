"""``rathaus invoice read|check FILE``: read and validate one e-invoice from the command line.

``read FILE [--json]`` prints the invoice's summary (``key: value`` lines, or one JSON object with
``--json``) and returns 0 for a valid invoice. A file that is no e-invoice, or an invoice that breaks the
built-in business rules, raises a :class:`~rathaus.einvoice.errors.EInvoiceError` whose German one-line
message names the file and the rule ids; ``rathaus.cli.main`` prints it on stderr and exits with 2.

``check FILE [--kosit DIR] [--json]`` gives the official verdict of a KoSIT validator configuration
(:mod:`rathaus.einvoice.kosit`): 0 when accepted, 1 when rejected, 2 with one line on stderr when the
file is unreadable or holds no invoice, or when no configuration is given (``--kosit`` or
``RATHAUS_KOSIT_CONFIG``).

Imports stay light here: lxml and pypdf load only when the command runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_REJECTED = 1


def _guarded(command: Any) -> Any:
    """Run ``command``; anything but a rathaus error becomes one German line, never a traceback."""

    def run(args: argparse.Namespace) -> int:
        from rathaus.errors import RathausError

        try:
            return command(args)
        except (RathausError, BrokenPipeError):
            raise
        except (MemoryError, RecursionError, Exception) as error:  # hostile input must never crash the command
            from rathaus.einvoice.errors import EInvoiceError, file_label

            raise EInvoiceError(
                f"Die Datei '{file_label(args.file)}' konnte nicht verarbeitet werden ({type(error).__name__}). "
                "Bitte prüfen Sie die Datei von Hand und melden Sie den Fall dem RPA-Team.",
                source=args.file, code="EINVOICE_UNEXPECTED",
            ) from None

    return run


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


def _cmd_check(args: argparse.Namespace) -> int:
    from rathaus.einvoice.kosit import check_invoice_file

    verdict = check_invoice_file(args.file, args.kosit)
    if args.json:
        json.dump(verdict.as_dict(), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        state = "angenommen" if verdict.accepted else "abgelehnt"
        print(f"{verdict.source}: {state} (Szenario: {verdict.scenario or 'keines'})")
        for kind, messages in (("Fehler", verdict.errors), ("Warnung", verdict.warnings)):
            for message in messages:
                print(f"{kind}: [{message.rule}] {message.text}")
    return EXIT_OK if verdict.accepted else EXIT_REJECTED


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``invoice read FILE [--json]`` and ``invoice check FILE [--kosit DIR] [--json]`` on the
    ``rathaus`` command's subparsers; returns ``invoice``."""
    invoice = subparsers.add_parser("invoice", help="read and validate e-invoices (XRechnung, ZUGFeRD)")
    commands = invoice.add_subparsers(dest="invoice_command", required=True)
    read = commands.add_parser(
        "read", help="summary of a valid e-invoice; an invalid one fails naming the broken rules"
    )
    read.add_argument("file", type=Path, help="XRechnung XML (UBL or CII) or ZUGFeRD / Factur-X PDF")
    read.add_argument("--json", action="store_true", help="print one JSON object")
    read.set_defaults(func=_guarded(_cmd_read))
    check = commands.add_parser(
        "check", help="the official verdict of a KoSIT validator configuration: exit 0 accepted, 1 rejected"
    )
    check.add_argument("file", type=Path, help="XRechnung XML (UBL or CII) or ZUGFeRD / Factur-X PDF")
    check.add_argument(
        "--kosit", type=Path, metavar="DIR",
        help="folder of an unpacked KoSIT validator configuration (default: $RATHAUS_KOSIT_CONFIG)",
    )
    check.add_argument("--json", action="store_true", help="print one JSON object")
    check.set_defaults(func=_guarded(_cmd_check))
    return invoice
