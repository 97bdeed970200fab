"""The checks of one invoice file: the e-invoice rules, then what the city itself requires.

The e-invoice library reads the file and checks EN 16931 / XRechnung: with the official rules when the city's
configuration names a KoSIT validator configuration (``pruefung.amtliche_regeln``), whose verdict then decides,
else with the library's built-in rules (mandatory terms, arithmetic, decimals). On top the city requires a
Leitweg-ID (its own rule ``LEITWEG-FEHLT``: XRechnung's BR-DE-15 does not cover ZUGFeRD) with valid check
digits that names one of its receiving offices, and a currency it pays in. Every finding is collected, so
that a rejection lists all reasons at once and the supplier can correct everything in one go.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rathaus.einvoice.errors import ASK_AGAIN, EInvoiceError, InvalidLeitwegIdError
from rathaus.einvoice.kosit import KositConfiguration, OfficialVerdict
from rathaus.einvoice.leitweg import check_leitweg_id
from rathaus.einvoice.model import Finding, Invoice
from rathaus.einvoice.rules import RULES, check_file

from erechnung.routing import LeitwegDirectory, ReceivingOffice

#: Rule ids of the city's own checks, beside the EN 16931 / XRechnung ids of the e-invoice library.
CITY_RULES = {
    "LEITWEG-FEHLT": "Die Rechnung nennt eine Leitweg-ID (BT-10), auch wenn sie keine XRechnung ist.",
    "LEITWEG-ID": "Die Leitweg-ID (BT-10) hat den richtigen Aufbau und stimmige Prüfziffern.",
    "LEITWEG-UNBEKANNT": "Die Leitweg-ID (BT-10) gehört zu einem Rechnungsempfänger der Stadt.",
    "WAEHRUNG": "Die Rechnung lautet auf eine Währung, in der die Stadt zahlt.",
}
#: findings about the invoice's Leitweg-ID (routing): a clerk can correct the routing in the case data
LEITWEG_RULES = frozenset({"LEITWEG-FEHLT", "LEITWEG-ID", "LEITWEG-UNBEKANNT", "BR-DE-15"})


@dataclass(frozen=True, repr=False)
class InvoiceCheck:
    """The result of checking one invoice file: the invoice (when readable), its findings, its office."""

    file_name: str
    invoice: Invoice | None
    findings: tuple[Finding, ...]
    office: ReceivingOffice | None
    #: the official verdict when the city decides by the official rules, else ``None`` (built-in rules)
    verdict: OfficialVerdict | None = None
    #: routing fields a clerk corrected in the case data (``leitweg_id``, ``buchungskreis``, ``kostenstelle``),
    #: applied by :func:`erechnung.case.route_by_case`; empty when the routing is the invoice's own
    corrected: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the invoice can be entered: readable, no findings, a known receiving office."""
        return self.invoice is not None and not self.findings and self.office is not None

    @property
    def routing_only(self) -> bool:
        """True when the invoice is readable and its only faults are about its Leitweg-ID (``LEITWEG_RULES``)."""
        return self.invoice is not None and bool(self.findings) and set(self.rules) <= LEITWEG_RULES

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
    path: str | Path,
    directory: LeitwegDirectory,
    currencies: Sequence[str] = ("EUR",),
    city_name: str = "",
    official: KositConfiguration | None = None,
) -> InvoiceCheck:
    """Read and check one invoice file for the city; never raises for the invoice's own faults.

    With ``official`` (a loaded KoSIT configuration) the official verdict decides on EN 16931 / XRechnung;
    the built-in reading still gives the invoice's data for the finance system.
    """
    path = Path(path)
    invoice, findings = check_file(path)
    findings = list(findings)
    verdict = None
    if official is not None:
        try:
            verdict = official.check_file(path)
        except EInvoiceError as error:  # no invoice at all: the reader said so already
            findings = findings or error.findings
        else:
            findings = official_findings(verdict, invoice, findings)
    office = None
    if invoice is not None:
        office, city_findings = _city_findings(
            invoice, directory, currencies, city_name or directory.city, [f.rule for f in findings]
        )
        findings += city_findings
    return InvoiceCheck(path.name, invoice, tuple(findings), office, verdict)


def official_rules(config: Mapping[str, Any]) -> KositConfiguration | None:
    """The KoSIT configuration named by ``pruefung.amtliche_regeln``, loaded once; ``None`` without the key.

    A relative folder is relative to the project (the folder above ``processes/``), so that
    ``../shared/corpora/kosit-xrechnung-config`` names a configuration beside the checkout.
    """
    folder = (config.get("pruefung") or {}).get("amtliche_regeln")
    if not folder:
        return None
    path = Path(str(folder)).expanduser()
    if not path.is_absolute():
        path = Path(config["prozess"]["folder"]).resolve().parents[1] / path
    return KositConfiguration.load(path)


def official_findings(
    verdict: OfficialVerdict, invoice: Invoice | None, built_in: Sequence[Finding]
) -> list[Finding]:
    """The errors of the official verdict as findings: the official rule id and text, followed by the
    project's German explanation where it has one (the built-in finding of the same rule, with the invoice's
    figures, else the rule's description). A built-in finding that stops the reading (``SYNTAX-VALUE``: a
    value out of the bounds the robot can process) is kept too: without the data nothing can be entered.
    """
    label = invoice.label if invoice else f"Datei '{verdict.source}'"
    explained = {finding.rule: finding.text for finding in built_in}
    findings = []
    for message in verdict.errors:
        text = message.text
        german = explained.get(message.rule) or RULES.get(message.rule)
        if german:
            text = f"{text} – {german}" if message.rule in explained else f"{text} – Erforderlich: {german}."
        findings.append(Finding(message.rule, text, label))
    if invoice is None:
        findings += [finding for finding in built_in if finding.rule not in {f.rule for f in findings}]
    return findings


def _city_findings(
    invoice: Invoice, directory: LeitwegDirectory, currencies: Sequence[str], city_name: str,
    reported: Sequence[str] = (),
) -> tuple[ReceivingOffice | None, list[Finding]]:
    findings: list[Finding] = []
    office = None
    reference = (invoice.buyer_reference or "").strip()
    if not reference and "BR-DE-15" not in reported:  # XRechnung's BR-DE-15 says it already for an XRechnung
        findings.append(Finding(
            "LEITWEG-FEHLT",
            f"Die Leitweg-ID (BT-10, Käuferreferenz) fehlt; die {city_name} braucht sie, um die Rechnung der "
            "zuständigen Dienststelle zuzuleiten.",
            invoice.label,
        ))
    if reference:
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
