"""Keywords for the Leitweg-ID, the routing id of German public buyers."""

from __future__ import annotations

from robotlibcore import keyword

from rathaus.einvoice import leitweg
from rathaus.einvoice._base import EInvoiceComponent


class LeitwegKeywords(EInvoiceComponent):
    """Check and build Leitweg-IDs."""

    @keyword("Check Leitweg-ID")
    def check_leitweg_id(self, leitweg_id: str) -> str:
        """Checks the form and check digits of a Leitweg-ID and returns it normalised, or fails.

        | =Arguments= | =Description= |
        | ``leitweg_id`` | The ID, e.g. ``04011000-1234512345-06`` or ``991-33333TEST-33``. |

        A Leitweg-ID is ``Grobadressierung-Feinadressierung-Prüfziffer``: 2 to 12 digits, optionally
        up to 30 letters or digits, and two check digits (ISO 7064 MOD 97-10). The returned ID is
        trimmed, with letters in upper case. The failure (business error, code ``LEITWEG_ID_INVALID``)
        says in German what is wrong; for wrong check digits it names the correct ones.

        The check is syntactic: it cannot tell whether an authority uses the ID. It is deliberately not
        part of `Validate Invoice` (test invoices carry made-up IDs); call it where routing depends on it.

        Example:
        | ${rechnung}=    Read Invoice    ${DATEI}
        | ${leitweg}=    Check Leitweg-ID    ${rechnung.buyer_reference}

        See `Make Leitweg-ID`.
        """
        return leitweg.check_leitweg_id(leitweg_id)

    @keyword("Make Leitweg-ID")
    def make_leitweg_id(self, coarse: str, fine: str = "") -> str:
        """Returns a complete Leitweg-ID with the check digits computed.

        | =Arguments= | =Description= |
        | ``coarse`` | Grobadressierung: 2 to 12 digits, e.g. ``04011000``. |
        | ``fine`` | Optional Feinadressierung: up to 30 letters or digits, e.g. ``1234512345``. |

        Fails with ``LEITWEG_ID_INVALID`` when a part does not have the allowed form.

        Example:
        | ${id}=    Make Leitweg-ID    04011000    1234512345
        | Should Be Equal    ${id}    04011000-1234512345-06

        See `Check Leitweg-ID`.
        """
        return leitweg.make_leitweg_id(coarse, fine)
