"""Errors of the e-invoice library: one German line that names the file and says what to do.

All are :class:`~rathaus.errors.BusinessError`: an invoice that cannot be read or breaks a business rule
is the sender's problem, a retry will not help; the robot hands it to a clerk or rejects it to the sender.

Each error carries a ``rule``, the id it reports as a finding: the EN 16931 / XRechnung rule ids for
business rules (``BR-CO-15``), and ids of our own for problems that come before any rule can be checked:

| rule | code | meaning |
| ``FILE-MISSING`` | ``EINVOICE_FILE_MISSING`` | the file does not exist or cannot be read |
| ``SYNTAX-EMPTY`` | ``EINVOICE_EMPTY`` | the file is empty |
| ``SYNTAX-XML`` | ``EINVOICE_NOT_XML`` | neither well-formed XML nor a PDF |
| ``SYNTAX-DTD`` | ``EINVOICE_UNSAFE_XML`` | the XML has a DTD (entities); e-invoices never do |
| ``SYNTAX-ROOT`` | ``EINVOICE_UNKNOWN_ROOT`` | XML, but no UBL Invoice/CreditNote or CII CrossIndustryInvoice |
| ``SYNTAX-VALUE`` | ``EINVOICE_BAD_VALUE`` | a date or amount that is not in the syntax's format |
| ``PDF-UNREADABLE`` | ``EINVOICE_PDF_UNREADABLE`` | a damaged or truncated PDF |
| ``PDF-ENCRYPTED`` | ``EINVOICE_PDF_ENCRYPTED`` | a PDF that needs a password |
| ``PDF-NO-INVOICE`` | ``EINVOICE_PDF_NO_INVOICE`` | a PDF without an embedded e-invoice |
| ``PDF-TOO-LARGE`` | ``EINVOICE_PDF_TOO_LARGE`` | a PDF whose embedded files inflate beyond the limit |
| ``SYNTAX-SIZE`` | ``EINVOICE_TOO_LARGE`` | an invoice file larger than the official check takes |

:class:`KositConfigurationError` is no business error: the city's configuration of the official rules
(a KoSIT validator configuration folder) is missing or broken; an administrator fixes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rathaus.einvoice.model import Finding
from rathaus.errors import ApplicationError, BusinessError

#: Said at the end of every message about a file that is no usable e-invoice.
ASK_AGAIN = "Bitte fordern Sie beim Rechnungssteller eine gültige XRechnung oder ZUGFeRD-Rechnung an."


def one_line(text: str) -> str:
    return " ".join(str(text).split())


def file_label(name: str | Path) -> str:
    """The file name without the robot's folders."""
    return Path(str(name)).name or str(name)


class EInvoiceError(BusinessError):
    """Base class of every error raised by the e-invoice library."""

    code = "EINVOICE_ERROR"
    #: The id under which this problem is reported as a finding.
    rule = "EINVOICE"

    def __init__(self, message: str, *, source: str | Path, code: str | None = None) -> None:
        super().__init__(one_line(message), code=code)
        self.source = file_label(source)

    @property
    def findings(self) -> list[Finding]:
        """The problem as findings; one for a file that cannot be read."""
        return [Finding(self.rule, str(self))]


class InvoiceFileMissingError(EInvoiceError):
    """The file does not exist or cannot be read."""

    code = "EINVOICE_FILE_MISSING"
    rule = "FILE-MISSING"

    def __init__(self, source: str | Path, reason: str = "nicht gefunden") -> None:
        super().__init__(
            f"Die Rechnungsdatei '{file_label(source)}' wurde {reason}. "
            "Bitte prüfen Sie den Pfad oder legen Sie die Datei erneut ab.",
            source=source,
        )


class InvoiceSyntaxError(EInvoiceError):
    """The file is no readable e-invoice; the subclass says why."""

    code = "EINVOICE_SYNTAX"
    rule = "SYNTAX"


class EmptyInvoiceFileError(InvoiceSyntaxError):
    code = "EINVOICE_EMPTY"
    rule = "SYNTAX-EMPTY"

    def __init__(self, source: str | Path) -> None:
        super().__init__(f"Die Datei '{file_label(source)}' ist leer. {ASK_AGAIN}", source=source)


class NotXmlError(InvoiceSyntaxError):
    code = "EINVOICE_NOT_XML"
    rule = "SYNTAX-XML"

    def __init__(self, source: str | Path, detail: str = "") -> None:
        what = (
            f"ist keine wohlgeformte XML-Datei ({one_line(detail)})" if detail else "ist weder XML noch PDF"
        )
        super().__init__(f"Die Datei '{file_label(source)}' {what}. {ASK_AGAIN}", source=source)


class UnsafeXmlError(InvoiceSyntaxError):
    code = "EINVOICE_UNSAFE_XML"
    rule = "SYNTAX-DTD"

    def __init__(self, source: str | Path) -> None:
        super().__init__(
            f"Die Datei '{file_label(source)}' enthält eine Dokumenttypdefinition (DTD); E-Rechnungen haben "
            f"keine, sie wird aus Sicherheitsgründen nicht gelesen. {ASK_AGAIN}",
            source=source,
        )


class UnknownRootError(InvoiceSyntaxError):
    code = "EINVOICE_UNKNOWN_ROOT"
    rule = "SYNTAX-ROOT"

    def __init__(self, source: str | Path, root: str, hint: str = "") -> None:
        super().__init__(
            f"Die Datei '{file_label(source)}' ist keine E-Rechnung: das Wurzelelement '{root}' ist weder "
            f"UBL Invoice/CreditNote noch CII CrossIndustryInvoice{hint}. {ASK_AGAIN}",
            source=source,
        )
        self.root = root


class InvalidValueError(InvoiceSyntaxError):
    code = "EINVOICE_BAD_VALUE"
    rule = "SYNTAX-VALUE"

    def __init__(self, source: str | Path, term: str, value: str, expected: str) -> None:
        super().__init__(
            f"Die Rechnung '{file_label(source)}' enthält in {term} den Wert '{one_line(value)[:40]}', "
            f"erwartet ist {expected}. {ASK_AGAIN}",
            source=source,
        )
        self.term = term
        self.value = value


class PdfUnreadableError(InvoiceSyntaxError):
    code = "EINVOICE_PDF_UNREADABLE"
    rule = "PDF-UNREADABLE"

    def __init__(self, source: str | Path, detail: str = "", *, not_pdf: bool = False) -> None:
        extra = f" ({one_line(detail)})" if detail else ""
        what = "ist keine PDF-Datei" if not_pdf else "ist beschädigt oder abgeschnitten"
        kind = "Datei" if not_pdf else "PDF-Datei"
        super().__init__(f"Die {kind} '{file_label(source)}' {what}{extra}. {ASK_AGAIN}", source=source)


class EncryptedPdfError(InvoiceSyntaxError):
    code = "EINVOICE_PDF_ENCRYPTED"
    rule = "PDF-ENCRYPTED"

    def __init__(self, source: str | Path) -> None:
        super().__init__(
            f"Die PDF-Datei '{file_label(source)}' ist mit einem Kennwort geschützt; die eingebettete Rechnung "
            f"kann nicht gelesen werden. {ASK_AGAIN}",
            source=source,
        )


class NoInvoiceInPdfError(InvoiceSyntaxError):
    code = "EINVOICE_PDF_NO_INVOICE"
    rule = "PDF-NO-INVOICE"

    def __init__(self, source: str | Path, attachments: Sequence[str] = ()) -> None:
        found = (
            f" (eingebettet sind nur: {', '.join(attachments[:5])}{', …' if len(attachments) > 5 else ''})"
            if attachments
            else ""
        )
        super().__init__(
            f"Die PDF-Datei '{file_label(source)}' enthält keine E-Rechnung (ZUGFeRD/Factur-X oder XRechnung)"
            f"{found}; eine reine PDF-Rechnung ist keine E-Rechnung. {ASK_AGAIN}",
            source=source,
        )
        self.attachments = list(attachments)


class InvalidInvoiceError(EInvoiceError):
    """The invoice was read but breaks business rules; ``findings`` lists every one."""

    code = "EINVOICE_INVALID"
    rule = "INVALID"

    def __init__(self, source: str | Path, number: str | None, findings: Sequence[Finding]) -> None:
        reasons = " ".join(f"[{finding.rule}] {finding.text}" for finding in findings)
        who = f"Rechnung {number}" if number else "Rechnung"
        super().__init__(
            f"{file_label(source)}: {who} ungültig – {reasons} "
            "Bitte weisen Sie die Rechnung mit diesen Gründen an den Rechnungssteller zurück.",
            source=source,
        )
        self.number = number
        self._findings = list(findings)

    @property
    def findings(self) -> list[Finding]:
        return list(self._findings)

    @property
    def rules(self) -> list[str]:
        """The ids of the violated rules, in the order found."""
        return list(dict.fromkeys(finding.rule for finding in self._findings))


class InvalidLeitwegIdError(EInvoiceError):
    """A Leitweg-ID that is malformed or whose check digits do not match."""

    code = "LEITWEG_ID_INVALID"
    rule = "LEITWEG-ID"

    def __init__(self, leitweg_id: str, reason: str) -> None:
        super().__init__(
            f"Die Leitweg-ID '{one_line(leitweg_id)[:60]}' ist ungültig: {reason}. "
            "Bitte prüfen Sie die Leitweg-ID (Aufbau Grobadressierung-Feinadressierung-Prüfziffer).",
            source="",
        )
        self.leitweg_id = leitweg_id
        self.reason = reason


class InvoiceTooLargeError(InvoiceSyntaxError):
    """The file is larger than any e-invoice should be; it is not parsed."""

    code = "EINVOICE_TOO_LARGE"
    rule = "SYNTAX-SIZE"

    def __init__(self, source: str | Path, size: int, limit: int) -> None:
        super().__init__(
            f"Die Rechnung '{file_label(source)}' ist mit {size // (1024 * 1024)} MB größer als die erlaubten "
            f"{limit // (1024 * 1024)} MB und wird nicht geprüft. {ASK_AGAIN}",
            source=source,
        )


class PdfTooLargeError(InvoiceSyntaxError):
    """A PDF whose embedded files (or streams) inflate beyond the library's limit."""

    code = "EINVOICE_PDF_TOO_LARGE"
    rule = "PDF-TOO-LARGE"

    def __init__(self, source: str | Path, detail: str = "") -> None:
        extra = f" ({one_line(detail)})" if detail else ""
        super().__init__(
            f"Die PDF-Datei '{file_label(source)}' enthält Daten, die entpackt zu groß sind{extra}; sie wird "
            f"nicht gelesen. {ASK_AGAIN}",
            source=source,
        )


class KositConfigurationError(ApplicationError):
    """The configuration of the official rules (a KoSIT validator configuration folder) is missing or broken."""

    code = "KOSIT_CONFIG"

    def __init__(self, folder: str | Path | None, reason: str) -> None:
        where = f"Die Konfiguration der amtlichen Prüfregeln im Ordner '{folder}' ist unbrauchbar: " if folder else ""
        text = f"{where}{one_line(reason)}."
        if folder:
            text += (
                " Bitte eine vollständige, entpackte KoSIT-Prüfkonfiguration für XRechnung (scenarios.xml und "
                "resources/) angeben."
            )
        super().__init__(text)
        self.folder = str(folder) if folder else None
