"""The EInvoice library class that puts the keyword components together."""

from __future__ import annotations

from pathlib import Path

from robotlibcore import DynamicCore

from rathaus import __version__
from rathaus.einvoice.official import OfficialRulesKeywords
from rathaus.einvoice.reading import ReadingKeywords
from rathaus.einvoice.routing import LeitwegKeywords
from rathaus.einvoice.validation import ValidationKeywords
from rathaus.translation import load_translation


class EInvoice(DynamicCore):
    """Read e-invoices (XRechnung, ZUGFeRD / Factur-X) into one model, validate them, check Leitweg-IDs.

    Accepted: XRechnung as UBL 2.1 ``Invoice`` or ``CreditNote`` or as UN/CEFACT CII
    ``CrossIndustryInvoice``, and PDFs (ZUGFeRD 2.x / Factur-X, PDF/A-3) with the CII or UBL XML
    embedded. Both syntaxes of one invoice give the same values. Amounts are exact decimals; the
    summary gives them as strings such as ``1234.50``.

    Validation checks the mandatory terms a receiving authority needs, among them XRechnung's buyer
    reference / Leitweg-ID (BR-DE-15), the currencies (ISO 4217 codes, amounts in the invoice currency)
    and the arithmetic of the totals (BR-CO-10 to BR-CO-16); each finding has its EN 16931 / XRechnung
    rule id (or ``RATHAUS-CURRENCY``, a rule of our own) and a German reason. These built-in rules are a
    subset (see ``docs/einvoice-rules.md`` for where they differ from the official ones); the official
    verdict comes from `Check Invoice With Official Rules`, which runs a KoSIT validator configuration
    (``docs/adr/0016-official-e-invoice-rules.md``).

    Every failure is a business error with a German one-line message naming the file: the invoice goes
    back to the sender or to a clerk, a retry will not help. Values that may be personal (names of sole
    traders, contact persons) never appear in the log: an invoice and its summary log as
    ``Invoice(number='4711', syntax='CII')``.

    Example:
    | ***** Settings *****
    | Library    rathaus.EInvoice
    |
    | ***** Tasks *****
    | Rechnung prüfen
    |     ${rechnung}=    `Read Invoice`    ${EINGANG}/rechnung.pdf
    |     ${maengel}=    `Get Invoice Findings`    ${rechnung}
    |     Should Be Empty    ${maengel}
    |     `Check Leitweg-ID`    ${rechnung.buyer_reference}
    |     ${daten}=    `Get Invoice Summary`    ${rechnung}
    """

    ROBOT_LIBRARY_SCOPE = "GLOBAL"
    ROBOT_LIBRARY_VERSION = __version__
    ROBOT_LIBRARY_DOC_FORMAT = "ROBOT"

    def __init__(self, language: str = "en") -> None:
        """| =Arguments= | =Description= |
        | ``language`` | Keyword language: ``en`` (default) or ``de`` for German names and documentation. |
        """
        super().__init__(
            [ReadingKeywords(self), ValidationKeywords(self), OfficialRulesKeywords(self), LeitwegKeywords(self)],
            translation=load_translation(Path(__file__).parent, language, "rathaus.EInvoice"),
        )
