"""Process keywords of 'e-rechnung': checking one invoice, routing, archiving, rejecting, filing the mail.

Import in Robot as ``Library    erechnung.keywords.ERechnung`` with ``processes/`` on the Python path
(``robot.yaml`` and ``rathaus run`` put it there). The steps in ``processes/e-rechnung/steps/`` call these
for the parts that are rules rather than clicks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from rathaus.core.cases import case_problems, describe_problems
from rathaus.core.runner import append_run_summary
from rathaus.einvoice.model import amount_text, german_amount
from rathaus.errors import BusinessError
from rathaus.files import safe_file_name
from rathaus.workitems.errors import WorkItemsSetupError
from robot.api import logger
from robot.api.deco import keyword, library
from robot.libraries.BuiltIn import BuiltIn
from robot.utils import DotDict

from erechnung.archive import archive_invoice, record_entry, resolve_root
from erechnung.attachments import sort_attachments
from erechnung.case import case_data, route_by_case, routing_of
from erechnung.checks import InvoiceCheck, check_invoice, official_rules
from erechnung.filing import ItemState, items_of_mail, run_summary_lines, target_folder
from erechnung.rejection import rejection_data, render_rejection
from erechnung.routing import LeitwegDirectory

#: What the finance system's "Bemerkung" says about an entry made by the robot.
REMARK = "Automatisch aus E-Rechnung übernommen ({syntax}, Datei {file}), Eingang {channel} am {received}."
#: How the remark names the way the invoice came in: by mail (mailbox or uploaded mail), or uploaded as a file.
CHANNELS = {True: "per E-Mail", False: "als Upload im Kontrollraum"}
#: How the remark names routing fields a clerk corrected in the case data.
CORRECTED = {"leitweg_id": "Leitweg-ID", "buchungskreis": "Buchungskreis", "kostenstelle": "Kostenstelle"}


@library(scope="GLOBAL", auto_keywords=False)
class ERechnung:
    """Keywords of the process 'e-rechnung' that check, route, archive and answer e-invoices.

    `Configure E-Rechnung` takes the city's configuration once per run: its receiving offices
    (``resources/cities/<city>/leitweg.yaml``), the currencies it pays in, the archive folder and the
    templates. Then, per invoice file, `Check Invoice` reads and checks it; a valid invoice is archived
    with `Archive Invoice` and entered with the fields of `Finance Form Data`; an invalid one gets the
    mail of `Rejection Mail`. `Mail Folder When Finished` tells when a mail may leave the inbox.

    Invoices and check results log as ``<Prüfergebnis Rechnung 4711 (rechnung.xml): in Ordnung>``: no
    supplier names or amounts reach the log.
    """

    def __init__(self) -> None:
        self._config: Mapping[str, Any] | None = None
        self._directory: LeitwegDirectory | None = None
        self._official: Any = None
        self._started = datetime.now(timezone.utc)

    # -- set-up -------------------------------------------------------------------------------------

    @keyword("Configure E-Rechnung")
    def configure_e_rechnung(self, config: Mapping[str, Any]) -> int:
        """Takes the city's loaded configuration and checks its Leitweg-IDs; returns the number of offices.

        Fails with a configuration error when the city's ``leitweg.yaml`` is missing, or a Leitweg-ID in
        it has wrong check digits, does not start with the city's Grobadressierung or occurs twice.

        When ``pruefung.amtliche_regeln`` names a KoSIT validator configuration folder (absolute, or
        relative to the project), it is loaded and its stylesheets are compiled here, once per run, so that
        a wrong folder fails before any mail is touched (code ``KOSIT_CONFIG``); `Check Invoice` then
        decides by the official rules.

        | =Arguments= | =Description= |
        | ``config`` | The configuration from ``Load Robot Configuration`` (with ``stadt_daten``). |

        Example:
        | ${config}=    Load Robot Configuration    ${CURDIR}/config.yaml
        | Configure E-Rechnung    ${config}
        """
        self._directory = LeitwegDirectory.from_master_data(config["stadt_daten"])
        self._official = official_rules(config)
        self._config = config
        logger.info(f"{len(self._directory)} Rechnungsempfänger der Stadt geladen.")
        if self._official is not None:
            logger.info(f"Amtliche Prüfregeln: {self._official.name} ({len(self._official.scenarios)} Szenarien).")
        return len(self._directory)

    @property
    def config(self) -> Mapping[str, Any]:
        if self._config is None:
            raise BusinessError("Bitte zuerst 'Configure E-Rechnung' aufrufen.", code="NICHT_KONFIGURIERT")
        return self._config

    @property
    def directory(self) -> LeitwegDirectory:
        if self._directory is None:
            raise BusinessError("Bitte zuerst 'Configure E-Rechnung' aufrufen.", code="NICHT_KONFIGURIERT")
        return self._directory

    # -- intake -------------------------------------------------------------------------------------

    @keyword
    def sort_invoice_attachments(self, files: Sequence[str | Path]) -> DotDict:
        """Sorts a mail's saved attachments into invoices (``rechnungen``) and enclosures (``anlagen``).

        An invoice is an XML file, or a PDF that embeds an XML file (ZUGFeRD/Factur-X); a damaged PDF
        counts as an invoice too, so that its sender learns that it cannot be read. Everything else (a
        plain PDF, images, office files) is an enclosure, archived with each invoice of the mail.

        | =Arguments= | =Description= |
        | ``files`` | Paths of the saved attachments. |

        Example:
        | ${sorted}=    Sort Invoice Attachments    ${files}
        | FOR    ${invoice}    IN    @{sorted.rechnungen}
        |     Log    ${invoice}
        | END
        """
        result = sort_attachments(files)
        return DotDict(rechnungen=result.invoices, anlagen=result.enclosures)

    # -- checking -----------------------------------------------------------------------------------

    @keyword
    def check_invoice(self, file: Path) -> InvoiceCheck:
        """Reads an invoice file and checks it against the e-invoice rules and the city's own rules.

        Never fails for the invoice's own faults: the result has ``ok``, ``findings`` (each with
        ``rule`` and German ``text``), ``rules``, ``invoice`` (``None`` when the file is no readable
        e-invoice) and ``office``, the receiving office named by the Leitweg-ID. The city's rules are
        ``LEITWEG-ID`` (malformed, wrong check digits), ``LEITWEG-UNBEKANNT`` (none of the city's
        offices), ``LEITWEG-FEHLT`` (no Leitweg-ID on an invoice that is no XRechnung; an XRechnung without
        one breaks BR-DE-15) and ``WAEHRUNG`` (a currency the city does not pay in, see
        ``pruefung.waehrungen``). With ``pruefung.amtliche_regeln`` the official verdict decides on the
        EN 16931 / XRechnung rules (``verdict`` holds it): each finding is the official rule id and text with
        the project's German explanation where it has one.

        | =Arguments= | =Description= |
        | ``file`` | The invoice: XRechnung XML (UBL or CII) or ZUGFeRD/Factur-X PDF. |

        Example:
        | ${check}=    Check Invoice    ${file}
        | IF    not $check.ok    Log    ${check.rules}
        """
        pruefung = self.config.get("pruefung") or {}
        currencies = tuple(pruefung.get("waehrungen") or ("EUR",))
        result = check_invoice(file, self.directory, currencies, self.config["stadt_daten"]["name"], self._official)
        logger.info(str(result))
        return result

    @keyword
    def failure_ledger(self) -> str:
        """The file that counts each invoice's unexpected failures in a row, relative to ``RATHAUS_HOME``.

        ``<stadt>/e-rechnung/fehlversuche.json``, beside the run's work item queue; see ``Record
        Unexpected Failure`` of ``rathaus.Process``. ``pruefung.max_fehlversuche`` sets the limit (3).

        Example:
        | ${ledger}=    Failure Ledger
        | ${count}=    Record Unexpected Failure    ${key}    ${error}    ${ledger}    limit=3
        """
        return f"{self.config['stadt']}/e-rechnung/fehlversuche.json"

    @keyword
    def invoice_variables(self, check: InvoiceCheck) -> DotDict:
        """The work item variables that describe a checked invoice for the clerks' overview.

        ``rechnungsnummer``, ``leitweg_id``, ``buchungskreis``, ``kostenstelle``, ``zahlbetrag``
        (``1234.50``), ``waehrung`` and ``regeln`` (the ids of the violated rules); values the invoice
        lacks are ``None``. The routing is the one that applies: a clerk's correction (see `Route Invoice
        By Case Data`) included.

        | =Arguments= | =Description= |
        | ``check`` | Result of `Check Invoice`. |

        Example:
        | ${variables}=    Invoice Variables    ${check}
        | Set Work Item Variables    &{variables}
        """
        invoice, office = check.invoice, check.office
        return DotDict(
            rechnungsnummer=invoice.number if invoice else None,
            leitweg_id=office.leitweg_id if office else (invoice.buyer_reference if invoice else None),
            buchungskreis=office.buchungskreis if office else None,
            kostenstelle=office.kostenstelle if office else None,
            zahlbetrag=amount_text(invoice.payable_amount) if invoice else None,
            waehrung=invoice.currency if invoice else None,
            regeln=check.rules,
        )

    # -- case data ----------------------------------------------------------------------------------

    @keyword
    def case_data_from_invoice(self, check: InvoiceCheck) -> dict[str, Any]:
        """The case data (work item variable ``fall``) as read from the invoice, to keep on the first attempt.

        The fields of ``fall.schema.yaml``: ``rechnungsnummer``, ``rechnungsdatum`` (``TT.MM.JJJJ``),
        ``verkaeufer``, ``leitweg_id``, ``buchungskreis`` and ``kostenstelle`` (of the receiving office the
        invoice's Leitweg-ID names, else ``None``), ``zahlbetrag`` (``1234.50``) and ``waehrung``.

        | =Arguments= | =Description= |
        | ``check`` | Result of `Check Invoice`. |

        Example:
        | ${fall}=    Case Data From Invoice    ${check}
        | Set Work Item Variables    fall=${fall}    zuordnung=${fall}
        | Save Work Item
        """
        return case_data(check)

    @keyword
    def route_invoice_by_case_data(
        self, check: InvoiceCheck, case: Mapping[str, Any], recorded: Mapping[str, Any] | None = None
    ) -> DotDict:
        """Applies the clerk's routing corrections in the case data to a check result.

        The invoice file is the original and is checked as it came; the case data (``fall``) is what a clerk
        corrects: a Leitweg-ID, Buchungskreis or Kostenstelle there that differs from the routing the robot
        last recorded (``recorded``, the work item variable ``zuordnung``) is the clerk's correction. A
        corrected Leitweg-ID replaces the invoice's for routing and archiving (its Leitweg findings no longer
        count); a corrected Buchungskreis or Kostenstelle replaces the office's. The other fields describe
        the invoice and are restored from the file (a warning names them).

        Returns ``check`` (routed), ``fall`` (the case data to keep: the invoice's data and the routing that
        applies), ``zuordnung`` (its routing part, to keep as well) and ``korrigiert`` (names of the
        corrected fields). Fails with a business error for the clerk when the case data do not match the
        schema (``FALLDATEN_UNGUELTIG``) or a corrected Leitweg-ID is malformed or none of the city's
        (``LEITWEG_KORREKTUR``).

        | =Arguments= | =Description= |
        | ``check`` | Result of `Check Invoice`. |
        | ``case`` | The work item's case data (``fall``). |
        | ``recorded`` | The routing the robot last kept (``zuordnung``); ``None``: the invoice's own. |

        Example:
        | ${zuordnung}=    Get Work Item Variable    zuordnung    ${None}
        | ${routed}=    Route Invoice By Case Data    ${check}    ${fall}    ${zuordnung}
        | Set Work Item Variables    fall=${routed.fall}    zuordnung=${routed.zuordnung}
        """
        schema = (self.config.get("prozess") or {}).get("case_schema")
        if schema:
            problems = case_problems(case, schema)
            if problems:
                raise BusinessError(
                    f"{check.label}: Die Falldaten sind nicht vollständig oder richtig: "
                    f"{describe_problems(problems)}. Bitte im Fall korrigieren und erneut versuchen.",
                    code="FALLDATEN_UNGUELTIG",
                )
        routed = route_by_case(check, case, recorded, self.directory, self.config["stadt_daten"]["name"])
        if routed.ignored:
            names = ", ".join(routed.ignored)
            logger.warn(f"{check.label}: Geänderte Angaben der Rechnung ({names}) werden nicht übernommen; es gilt "
                        "die Rechnung, wie sie eingegangen ist. Korrigierbar ist nur die Zuordnung.")
        if routed.corrected:
            logger.info(f"{check.label}: Zuordnung von der Sachbearbeitung korrigiert ({', '.join(routed.corrected)}).")
        return DotDict(check=routed.check, fall=routed.case, zuordnung=routing_of(routed.case),
                       korrigiert=list(routed.corrected))

    # -- finance system -----------------------------------------------------------------------------

    @keyword
    def finance_form_data(
        self, check: InvoiceCheck, archive_reference: str, received: str, by_mail: bool = True
    ) -> DotDict:
        """The fields of the finance system's entry form for a valid invoice, formatted as a clerk types them.

        Dates as ``TT.MM.JJJJ``, amounts as ``1.234,56``; Buchungskreis and Kostenstelle come from the
        receiving office of the Leitweg-ID, or from a clerk's correction (`Route Invoice By Case Data`), which
        the remark then names. A missing tax total (an invoice without VAT) is ``0,00``.

        | =Arguments= | =Description= |
        | ``check`` | Result of `Check Invoice` with ``ok`` true. |
        | ``archive_reference`` | Reference returned by `Archive Invoice`. |
        | ``received`` | Date the invoice arrived, ``TT.MM.JJJJ``. |
        | ``by_mail`` | ``False`` for a file uploaded in the control room: the remark says so. |

        Example:
        | ${data}=    Finance Form Data    ${check}    ${reference}    ${received}
        | Fill Form    ${data}    form=\\#rechnung-neu
        """
        invoice, office = check.invoice, check.office
        if invoice is None or office is None or not check.ok:
            raise BusinessError(
                f"{check.label}: Die Rechnung ist nicht geprüft oder fehlerhaft und wird nicht erfasst.",
                code="NICHT_ERFASSBAR",
            )
        return DotDict(
            buchungskreis=office.buchungskreis,
            kostenstelle=office.kostenstelle,
            leitweg_id=office.leitweg_id,
            lieferant=invoice.seller_name,
            rechnungsnummer=invoice.number,
            rechnungsdatum=_german_date(invoice.issue_date),
            faelligkeit=_german_date(invoice.due_date) if invoice.due_date else "",
            waehrung=invoice.currency,
            netto=german_amount(invoice.net_total),
            steuer=german_amount(invoice.tax_total) if invoice.tax_total is not None else "0,00",
            brutto=german_amount(invoice.gross_total),
            zahlbetrag=german_amount(invoice.payable_amount),
            positionen=str(invoice.line_count),
            archiv_referenz=archive_reference,
            bemerkung=_remark(check, received, by_mail),
        )

    # -- archive ------------------------------------------------------------------------------------

    @keyword
    def archive_invoice(
        self,
        check: InvoiceCheck,
        file: Path,
        case: str | None,
        received: str,
        enclosures: Sequence[str | Path] = (),
        source: str = "postfach",
        reference: str | None = None,
    ) -> str:
        """Stores the original invoice file, the mail's enclosures and a JSON sidecar; returns the reference.

        The folder is ``<archiv.ordner>/<year received>/<Leitweg-ID>/<supplier>_<number>/`` with the file
        as it arrived, the enclosures as ``anlage-<name>`` and ``beleg.json`` (received, Message-ID, where
        it came from: ``quelle`` and for an upload ``kontrollraum_referenz``; sha256 and size of each file,
        finance entry). The Leitweg-ID is the one that applies (a clerk's correction included). Archiving the
        same file again reuses the folder.

        | =Arguments= | =Description= |
        | ``check`` | Result of `Check Invoice` (routed by `Route Invoice By Case Data`). |
        | ``file`` | The invoice file as it arrived. |
        | ``case`` | The mail's Message-ID; ``None`` for a file uploaded without mail. |
        | ``received`` | Date the invoice arrived, ``TT.MM.JJJJ``. |
        | ``enclosures`` | Other files of the mail. |
        | ``source`` | Work item variable ``quelle``: ``postfach`` or ``upload``. |
        | ``reference`` | The control room's reference of an uploaded case (``referenz``). |

        Example:
        | ${reference}=    Archive Invoice    ${check}    ${file}    ${message_id}    ${received}    ${enclosures}
        | ${reference}=    Archive Invoice    ${check}    ${file}    ${None}    ${received}    source=upload
        | ...    reference=${referenz}
        """
        invoice = check.invoice
        leitweg_id = check.office.leitweg_id if check.office else (invoice.buyer_reference if invoice else "")
        archived = archive_invoice(
            self.archive_root,
            Path(file),
            leitweg_id=leitweg_id or "",
            supplier=invoice.seller_name if invoice else None,
            number=invoice.number if invoice else None,
            received=_parse_german_date(received),
            message_id=case,
            enclosures=[Path(p) for p in enclosures],
            details={"syntax": invoice.syntax if invoice else None, "quelle": source,
                     **({"kontrollraum_referenz": reference} if reference else {}),
                     **({"korrigiert": list(check.corrected)} if check.corrected else {})},
        )
        logger.info(f"{check.label} archiviert ({'neu' if archived.new else 'war bereits im Archiv'}).")
        return archived.reference

    @keyword
    def record_entry_in_archive(self, reference: str, entry: str) -> None:
        """Notes the finance system's Belegnummer in the archived invoice's sidecar ``beleg.json``.

        | =Arguments= | =Description= |
        | ``reference`` | Reference returned by `Archive Invoice`. |
        | ``entry`` | The Belegnummer the finance system gave the entry. |

        Example:
        | Record Entry In Archive    ${reference}    ${belegnummer}
        """
        record_entry(self.archive_root, reference, entry)

    @property
    def archive_root(self) -> Path:
        return resolve_root(self.config["archiv"]["ordner"])

    # -- rejection ----------------------------------------------------------------------------------

    @keyword
    def rejection_mail(self, check: InvoiceCheck, received: str, by_mail: bool = True) -> DotDict:
        """The rejection to the sender: ``subject`` and ``body`` from ``templates/rueckweisung.txt``.

        The text names the invoice number and file, lists every reason with its rule id, says that the
        invoice counts as not received and asks for a corrected invoice. For an unknown Leitweg-ID it
        lists the city's receiving offices with their Leitweg-IDs. Signed by the department ``amt`` of
        the configuration; queries go to the receiving office when known, else to that department.

        | =Arguments= | =Description= |
        | ``check`` | Result of `Check Invoice` with findings. |
        | ``received`` | Date the invoice arrived, ``TT.MM.JJJJ``. |
        | ``by_mail`` | ``False`` for a file uploaded without mail: the text does not say it came by e-mail. |

        Example:
        | ${mail}=    Rejection Mail    ${check}    ${received}
        | Send Message    ${CONFIG.versand.absender}    ${sender}    ${mail.subject}    ${mail.body}
        """
        config = self.config
        city = config["stadt_daten"]
        department = dict(city.get("aemter", {}).get(config.get("amt", "kaemmerei")) or {})
        department.setdefault("name", "Rechnungseingang")
        data = rejection_data(check, received, config["versand"]["absender"], city, department, self.directory,
                              by_mail=by_mail)
        mail = render_rejection(Path(config["prozess"]["folder"]) / "templates", data)
        return DotDict(subject=mail.subject, body=mail.body)

    @keyword
    def write_rejection_file(self, check: InvoiceCheck, mail: Mapping[str, str], folder: str | Path) -> str:
        """Writes the rejection (``Betreff:`` line, then the text) into ``folder``; returns the file's path.

        For a rejection that cannot be sent by e-mail: the clerk finds it with the case's files and posts it.
        The name is ``Rueckweisung_<invoice number>.txt`` (the file name without extension for an unreadable
        invoice), safe for every file system.

        | =Arguments= | =Description= |
        | ``check`` | Result of `Check Invoice` with findings. |
        | ``mail`` | Result of `Rejection Mail`. |
        | ``folder`` | Folder to write it in, created if missing. |

        Example:
        | ${mail}=    Rejection Mail    ${check}    ${received}
        | ${path}=    Write Rejection File    ${check}    ${mail}    ${folder}
        | Add Work Item File    ${path}
        """
        stem = check.number or Path(check.file_name).stem
        name = safe_file_name(f"Rueckweisung_{stem}.txt", fallback="Rueckweisung.txt")
        target = Path(folder)
        target.mkdir(parents=True, exist_ok=True)
        path = target / name
        path.write_text(f"Betreff: {mail['subject']}\n\n{mail['body']}", encoding="utf-8")
        return str(path)

    # -- filing -------------------------------------------------------------------------------------

    @keyword
    def mail_folder_when_finished(self, message_id: str) -> str | None:
        """The folder a mail goes to once all its invoices are finished, else ``None`` (it stays in the inbox).

        Looks at the work items of the mail in the input queue (with the control room: the items of this run),
        uploaded cases left out: when every one is done or with a clerk,
        the mail goes to ``pruefung`` if any is with a clerk, else to ``abgelehnt`` if any invoice was
        rejected, else to ``erledigt``. A pending item, or one that failed for a technical reason, keeps
        the mail in the inbox for the next run. With the file adapter (``devdata``) there is no queue to
        ask, and the result is always ``None``.

        | =Arguments= | =Description= |
        | ``message_id`` | The mail's Message-ID (the work items' variable ``message_id``). |

        Example:
        | ${folder}=    Mail Folder When Finished    ${mail.message_id}
        | IF    $folder    Move Message    ${mail}    ${folder}
        """
        queued = self._queue_items()
        if queued is None:
            logger.info("Ohne Warteschlange (Work-Item-Datei) bleiben die Mails im Eingang.")
            return None
        items = items_of_mail(queued, message_id)
        return target_folder([ItemState.of(item) for item in items], self.config["postfach"])

    @keyword
    def write_run_summary(self) -> list[str]:
        """Adds what this run entered, per Buchungskreis, and the rejections sent to the run's summary.

        The lines go to ``zusammenfassung.txt`` in the folder ``RATHAUS_RUN_DIR`` (set by ``rathaus run``),
        which the run prints after its counts; without that variable they are only logged. Returns them.

        Example:
        | File Finished Mails
        | Write Run Summary
        """
        lines = run_summary_lines(self._queue_items() or [], self._started)
        for line in lines:
            logger.info(line)
        append_run_summary(lines)
        return lines

    def _queue_items(self) -> list[Any] | None:
        """The items of the input queue (the local SQLite queue's, or those the control room reports for this
        run), or ``None`` with the file adapter (devdata), which has no queue."""
        workitems = BuiltIn().get_library_instance("rathaus.WorkItems")
        try:
            list_items = getattr(workitems.adapter, "list_items", None)
        except WorkItemsSetupError:
            return None
        if list_items is None:
            return None
        return list(list_items(workitems.settings.input_queue))


def _german_date(value: date | None) -> str:
    return value.strftime("%d.%m.%Y") if value else ""


def _parse_german_date(text: str) -> date:
    try:
        return datetime.strptime(str(text).strip(), "%d.%m.%Y").date()
    except ValueError:
        return date.today()


def _remark(check: InvoiceCheck, received: str, by_mail: bool) -> str:
    text = REMARK.format(syntax=_syntax_name(check.invoice), file=check.file_name, channel=CHANNELS[bool(by_mail)],
                         received=received)
    if check.corrected:
        text += f" Zuordnung von der Sachbearbeitung korrigiert ({', '.join(CORRECTED[n] for n in check.corrected)})."
    return text


def _syntax_name(invoice: Any) -> str:
    if invoice.attachment:
        return f"ZUGFeRD/Factur-X mit {invoice.syntax}"
    return f"XRechnung {invoice.syntax}"
