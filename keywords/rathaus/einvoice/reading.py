"""Keywords that read e-invoices: the whole model, its summary, the XML inside a PDF."""

from __future__ import annotations

from pathlib import Path

from robotlibcore import keyword

from rathaus.einvoice import reader
from rathaus.einvoice._base import EInvoiceComponent
from rathaus.einvoice.model import Invoice, InvoiceSummary
from rathaus.files import safe_file_name


class ReadingKeywords(EInvoiceComponent):
    """Read XRechnung and ZUGFeRD / Factur-X files."""

    @keyword
    def read_invoice(self, path: Path) -> Invoice:
        """Reads an e-invoice file and returns it as one ``Invoice`` object, whatever its syntax.

        | =Arguments= | =Description= |
        | ``path`` | XRechnung XML (UBL Invoice, UBL CreditNote or CII) or a ZUGFeRD / Factur-X PDF. |

        The content decides, not the file extension. Reading does not validate: missing terms are
        ``None`` and wrong sums stay as stated; use `Validate Invoice` or `Get Invoice Findings` for
        that. Attributes include ``number``, ``issue_date`` (a date), ``type_code``, ``currency``,
        ``seller_name``, ``buyer_name``, ``buyer_reference`` (the Leitweg-ID), ``net_total``,
        ``tax_total``, ``gross_total``, ``payable_amount`` (Decimal amounts), ``due_date``, ``lines``,
        ``vat_breakdown``, ``seller_vat_id``, ``reply_address`` (where to send a rejection), ``syntax``
        (``UBL``/``CII``) and ``source`` (the file name). The log shows only number and syntax.

        Fails when the file is no e-invoice at all, with a German message naming the file (business
        error; codes ``EINVOICE_NOT_XML``, ``EINVOICE_UNKNOWN_ROOT``, ``EINVOICE_PDF_NO_INVOICE``,
        ``EINVOICE_PDF_ENCRYPTED``, ``EINVOICE_PDF_UNREADABLE``, ``EINVOICE_EMPTY``, ...).

        Example:
        | ${rechnung}=    Read Invoice    ${EINGANG}/rechnung.xml
        | Should Be Equal    ${rechnung.buyer_reference}    04011000-1234512345-06
        | Log    Rechnung ${rechnung.number} über ${rechnung.payable_amount} ${rechnung.currency}

        See `Validate Invoice` and `Get Invoice Summary`.
        """
        return reader.read_invoice(path)

    @keyword
    def get_invoice_summary(self, invoice: Invoice | Path) -> InvoiceSummary:
        """Returns the key data of an invoice as a dictionary that can go into a work item as JSON.

        | =Arguments= | =Description= |
        | ``invoice`` | An ``Invoice`` from `Read Invoice`, or the path of an e-invoice file. |

        Keys: ``number``, ``issue_date`` (``YYYY-MM-DD``), ``currency``, ``seller_name``,
        ``buyer_reference``, ``net_total``, ``tax_total``, ``payable_amount``, ``line_count`` and
        ``syntax`` (``UBL``/``CII``). Amounts are strings with at least two decimals, e.g. ``1234.50``,
        so that no cent is lost to floating point; a term the invoice leaves out is ``None``. The two
        syntaxes of the same invoice give the same summary (apart from ``syntax``). The log shows only
        number and syntax.

        Example:
        | ${daten}=    Get Invoice Summary    ${EINGANG}/rechnung.pdf
        | Should Be Equal    ${daten}[payable_amount]    1190.00
        | Create Output Work Item    variables=${daten}

        See `Read Invoice`.
        """
        return self._invoice(invoice).summary()

    @keyword("Extract Invoice XML From PDF")
    def extract_invoice_xml_from_pdf(self, path: Path, target: Path | None = None) -> Path | bytes:
        """Returns the invoice XML embedded in a ZUGFeRD / Factur-X PDF, or saves it.

        | =Arguments= | =Description= |
        | ``path`` | The PDF file. |
        | ``target`` | Optional folder or ``.xml`` file to write the XML to; a folder gets the attachment's name. |

        Without ``target`` the keyword returns the XML as bytes; with it, the path of the written file
        (an existing file is overwritten, so a rerun gives the same result). In a folder the file gets the
        attachment's own name made safe, e.g. ``factur-x.xml``. The embedded files named as
        the standards do (``factur-x.xml``, ``zugferd-invoice.xml``, ``xrechnung.xml``) are tried first,
        then any other XML attachment that is a UBL or CII invoice.

        Fails with ``EINVOICE_PDF_NO_INVOICE`` when the PDF carries no e-invoice (a plain PDF invoice),
        ``EINVOICE_PDF_ENCRYPTED`` or ``EINVOICE_PDF_UNREADABLE``.

        Example:
        | ${xml}=    Extract Invoice XML From PDF    ${EINGANG}/rechnung.pdf    ${ARCHIV}
        | File Should Exist    ${ARCHIV}/factur-x.xml

        See `Read Invoice`, which reads such PDFs directly.
        """
        name, data = reader.extract_invoice_xml(path)
        if target is None:
            return data
        target = Path(target)
        if target.is_dir() or not target.suffix:
            target.mkdir(parents=True, exist_ok=True)
            target = target / safe_file_name(name, fallback="rechnung.xml")
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return target
