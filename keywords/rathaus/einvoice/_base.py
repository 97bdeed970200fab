"""What the e-invoice keyword components share."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rathaus.einvoice.model import Invoice

if TYPE_CHECKING:
    from rathaus.einvoice.library import EInvoice


class EInvoiceComponent:
    """Base of the keyword components: a reference to the library that assembles them."""

    def __init__(self, library: EInvoice) -> None:
        self.library = library

    @staticmethod
    def _invoice(invoice: Invoice | Path | str) -> Invoice:
        """An :class:`Invoice` as it is, or read from a file path."""
        if isinstance(invoice, Invoice):
            return invoice
        from rathaus.einvoice.reader import read_invoice

        return read_invoice(invoice)
