"""Keywords that check an invoice against the EN 16931 / XRechnung business rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from robotlibcore import keyword

from rathaus.einvoice import rules
from rathaus.einvoice._base import EInvoiceComponent
from rathaus.einvoice.errors import EInvoiceError
from rathaus.einvoice.model import Invoice


class ValidationKeywords(EInvoiceComponent):
    """Validate invoices and list what is wrong."""

    @keyword
    def validate_invoice(self, invoice: Invoice | Path) -> Invoice:
        """Checks an invoice against the business rules and fails with every violation, else returns it.

        | =Arguments= | =Description= |
        | ``invoice`` | An ``Invoice`` from `Read Invoice`, or the path of an e-invoice file. |

        The failure is one German line naming the file, the invoice number and every violated rule
        with its id, e.g. ``rechnung.xml: Rechnung 4711 ungültig – [BR-CO-15] Gesamtbetrag mit Steuer
        119,00 ≠ Nettobetrag 100,00 + Steuer 20,00. Bitte weisen Sie …`` (business error, code
        ``EINVOICE_INVALID``). A file that is no e-invoice fails as in `Read Invoice`.

        Checked rules: mandatory terms (BR-01 to BR-07, BR-12 to BR-16, BR-21 to BR-25, BR-CO-18, and
        XRechnung's BR-DE-15: the buyer reference / Leitweg-ID), the currencies (BR-CL-04 and BR-CL-05:
        ISO 4217 codes; BR-53: a VAT total in the VAT currency; BT-110 in the invoice currency, reported
        as BR-CO-15; ``RATHAUS-CURRENCY``: every other amount in the invoice currency), the arithmetic of
        the totals (BR-CO-10 to BR-CO-16, in Decimal with the standard's two-decimal rounding) and the
        decimals of amounts (BR-DEC). The Leitweg-ID's check digits are not a rule here; see
        `Check Leitweg-ID`.

        Example:
        | TRY
        |     ${rechnung}=    Validate Invoice    ${EINGANG}/rechnung.xml
        | EXCEPT    *ungültig*    type=GLOB    AS    ${fehler}
        |     Release Input Work Item    FAILED    exception_type=BUSINESS    code=EINVOICE_INVALID    message=${fehler}
        | END

        See `Get Invoice Findings` for the findings as a list.
        """
        return rules.validate_invoice(self._invoice(invoice))

    @keyword
    def get_invoice_findings(self, invoice: Invoice | Path) -> list[dict[str, Any]]:
        """Returns the violated business rules of an invoice as a list; empty for a valid invoice.

        | =Arguments= | =Description= |
        | ``invoice`` | An ``Invoice`` from `Read Invoice`, or the path of an e-invoice file. |

        Each entry is a dictionary with ``rule`` (e.g. ``BR-DE-15``), ``text`` (the German reason,
        e.g. ``Käuferreferenz / Leitweg-ID (BT-10) fehlt.``) and ``message`` (the reason naming the
        invoice, for a rejection letter). Unlike `Validate Invoice` this keyword does not fail: a file
        that is no e-invoice gives one entry with its problem's id (``SYNTAX-XML``, ``SYNTAX-ROOT``,
        ``PDF-NO-INVOICE``, ``PDF-ENCRYPTED``, ``PDF-UNREADABLE``, ``SYNTAX-EMPTY``, ...).

        Example:
        | ${maengel}=    Get Invoice Findings    ${EINGANG}/rechnung.xml
        | Should Be Empty    ${maengel}
        | FOR    ${mangel}    IN    @{maengel}
        |     Log    ${mangel}[rule]: ${mangel}[text]
        | END

        See `Validate Invoice`.
        """
        if isinstance(invoice, Invoice):
            found = rules.invoice_findings(invoice)
        else:
            try:
                found = rules.invoice_findings(self._invoice(invoice))
            except EInvoiceError as error:
                found = error.findings
        return [finding.as_dict() for finding in found]
