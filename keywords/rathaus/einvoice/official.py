"""Keyword that asks the official rules: a KoSIT validator configuration, run with Saxon-HE."""

from __future__ import annotations

from pathlib import Path

from robotlibcore import keyword

from rathaus.einvoice import kosit
from rathaus.einvoice._base import EInvoiceComponent


class OfficialRulesKeywords(EInvoiceComponent):
    """The verdict of the official rules (KoSIT validator configuration for XRechnung)."""

    @keyword
    def check_invoice_with_official_rules(self, path: Path, kosit_config: Path | None = None) -> kosit.OfficialVerdict:
        """Checks an e-invoice file with the official rules and returns their verdict, not failing for its faults.

        | =Arguments= | =Description= |
        | ``path`` | XRechnung XML (UBL or CII) or a ZUGFeRD / Factur-X PDF. |
        | ``kosit_config`` | Folder of an unpacked KoSIT validator configuration (``scenarios.xml``, ``resources/``); \
        default: the environment variable ``RATHAUS_KOSIT_CONFIG``. |

        The configuration decides as the KoSIT validator does: the first matching scenario, its XML
        Schema, each Schematron stylesheet, the levels of the messages and the scenario's custom levels.
        Its stylesheets are compiled once per process and reused (the first call takes about 1.5 s).

        The verdict has ``accepted`` (``True`` or ``False``), ``scenario`` (its name, ``None`` when no scenario
        matches), ``errors`` and ``warnings``; each message has ``rule`` (e.g. ``BR-CO-16``), ``level``
        (``error``, ``warning``, ``information``), ``text`` and ``location`` (an XPath, or a line for schema
        errors). ``rules`` lists the ids of the errors. A document that no scenario covers (an XRechnung 1.2,
        say) is rejected with rule ``NO-SCENARIO``, an XML Schema error with rule ``SCHEMA``.

        Fails with a business error (as `Read Invoice`) when the file holds no e-invoice at all, and with
        an application error (code ``KOSIT_CONFIG``) when no configuration is given or the folder is none.

        Example:
        | ${verdict}=    Check Invoice With Official Rules    ${CORPUS}/01.01a-INVOICE_ubl.xml    ${KOSIT}
        | Should Be True    ${verdict.accepted}
        | Should Be Equal    ${verdict.scenario}    EN16931 XRechnung (UBL Invoice)
        | FOR    ${error}    IN    @{verdict.errors}
        |     Log    ${error.rule}: ${error.text}
        | END
        """
        return kosit.check_invoice_file(path, kosit_config)
