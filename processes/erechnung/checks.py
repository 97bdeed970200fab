"""The checks of one invoice file: the e-invoice rules, then what the city itself requires.

The e-invoice library reads the file and checks EN 16931 / XRechnung (mandatory terms, arithmetic,
decimals). On top the city requires a Leitweg-ID with valid check digits that names one of its receiving
offices, and a currency it pays in. Every finding is collected, so that a rejection lists all reasons at
once and the supplier can correct everything in one go.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rathaus.einvoice.errors import ASK_AGAIN, InvalidLeitwegIdError
from rathaus.einvoice.leitweg import check_leitweg_id
from rathaus.einvoice.model import Finding, Invoice
from rathaus.einvoice.rules import check_file

from erechnung.routing import LeitwegDirectory, ReceivingOffice

#: Rule ids of the city's own checks, beside the EN 16931 / XRechnung ids of the e-invoice library.
CITY_RULES = {
    "LEITWEG-ID": "Die Leitweg-ID (BT-10) hat den richtigen Aufbau und stimmige Prüfziffern.",
    "LEITWEG-UNBEKANNT": "Die Leitweg-ID (BT-10) gehört zu einem Rechnungsempfänger der Stadt.",
    "WAEHRUNG": "Die Rechnung lautet auf eine Währung, in der die Stadt zahlt.",
}


@dataclass(frozen=True, repr=False)
class InvoiceCheck:
    """The result of checking one invoice file: the invoice (when readable), its findings, its office."""

    file_name: str
    invoice: Invoice | None
    findings: tuple[Finding, ...]
    office: ReceivingOffice | None

    @property
    def ok(self) -> bool:
        """True when the invoice can be entered: readable, no findings, a known receiving office."""
        return self.invoice is not None and not self.findings and self.office is not None

    @property
    def rules(self) -> list[str]:
        """Ids of the violated rules, in the order found, each once."""
        return list(dict.fromkeys(finding.rule for finding in self.findings))

    @property
    def number(self) -> str | None:
        return self.invoice.number if self.invoice else None

    @property
    def label(self) -> str:
        """How messages name the invoice: ``Rechnung 4711 (rechnung.xml)`` or ``Datei 'x.xml'``."""
        return self.invoice.label if self.invoice else f"Datei '{self.file_name}'"

    @property
    def unknown_leitweg_id(self) -> str | None:
        """The invoice's Leitweg-ID when it is valid but names none of the city's offices."""
        if self.invoice and "LEITWEG-UNBEKANNT" in self.rules:
            return self.invoice.buyer_reference
        return None

    def reasons(self) -> list[dict[str, str]]:
        """The findings as the supplier reads them: ``rule`` and ``text`` without advice meant for clerks."""
        return [{"rule": finding.rule, "text": supplier_text(finding.text)} for finding in self.findings]

    def __repr__(self) -> str:
        state = "in Ordnung" if self.ok else f"{len(self.findings)} Befund(e): {', '.join(self.rules)}"
        return f"<Prüfergebnis {self.label}: {state}>"

    __str__ = __repr__


def supplier_text(text: str) -> str:
    """A finding's text without the sentence that advises the city's clerk to ask the supplier."""
    return " ".join(text.replace(ASK_AGAIN, "").split())


def check_invoice(
    path: str | Path, directory: LeitwegDirectory, currencies: Sequence[str] = ("EUR",), city_name: str = ""
) -> InvoiceCheck:
    """Read and check one invoice file for the city; never raises for the invoice's own faults."""
    path = Path(path)
    invoice, findings = check_file(path)
    findings = list(findings)
    office = None
    if invoice is not None:
        office, city_findings = _city_findings(invoice, directory, currencies, city_name or directory.city)
        findings += city_findings
    return InvoiceCheck(path.name, invoice, tuple(findings), office)


def _city_findings(
    invoice: Invoice, directory: LeitwegDirectory, currencies: Sequence[str], city_name: str
) -> tuple[ReceivingOffice | None, list[Finding]]:
    findings: list[Finding] = []
    office = None
    reference = (invoice.buyer_reference or "").strip()
    if reference:  # a missing Leitweg-ID is BR-DE-15 of the e-invoice rules already
        try:
            normalized = check_leitweg_id(reference)
        except InvalidLeitwegIdError as error:
            findings.append(Finding(
                "LEITWEG-ID", f"Die Leitweg-ID '{_short(reference)}' (BT-10) ist ungültig: {error.reason}.",
                invoice.label,
            ))
        else:
            office = directory.find(normalized)
            if office is None:
                findings.append(Finding(
                    "LEITWEG-UNBEKANNT",
                    f"Die Leitweg-ID '{normalized}' (BT-10) gehört zu keinem Rechnungsempfänger der {city_name}.",
                    invoice.label,
                ))
    if invoice.currency and invoice.currency.upper() not in {c.upper() for c in currencies}:
        findings.append(Finding(
            "WAEHRUNG",
            f"Die Rechnung lautet auf {invoice.currency} (BT-5); die {city_name} zahlt nur in "
            f"{', '.join(currencies)}.",
            invoice.label,
        ))
    return office, findings


def _short(text: Any) -> str:
    return " ".join(str(text).split())[:60]
