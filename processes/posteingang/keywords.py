"""Process keywords of 'posteingang': read an incoming item, route it, write its docket.

Import in Robot as ``Library    posteingang.keywords.Posteingang`` with ``processes/`` on the Python path
(``robot.yaml`` and ``rathaus run`` put it there).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from rathaus.core.runner import append_run_summary
from rathaus.errors import ApplicationError, BusinessError
from robot.api.deco import keyword, library
from robot.utils import DotDict

from posteingang.content import MailItem, read_files, read_item
from posteingang.docket import Docket, deadline, docket_mail, docket_message_id, intake_number, write_docket_pdf
from posteingang.ocr import OcrSettings, check_available, describe, mean_confidence
from posteingang.routing import Routing, RoutingRules

#: What a clerk reads as the reason an item came to the review folder, by ``Routing.reason``.
UNCLEAR_CODES = {"kein_treffer": "KEIN_TREFFER", "gleichstand": "GLEICHSTAND", "zu_wenig_punkte": "ZU_WENIG_PUNKTE"}
#: ``Routing.reason`` of a department the clerk chose in the case data (``fall.fachbereich``).
BY_CLERK = "sachbearbeitung"
#: The stored mail of an item from version 0.1.0 of the producer (devdata has this shape too).
STORED_MAIL = "nachricht.eml"


class UnknownDepartmentError(BusinessError):
    """The clerk's ``fall.fachbereich`` names no department of the city's rules."""

    code = "FACHBEREICH_UNBEKANNT"


class Laufzettel(DotDict):
    """The prepared docket of one item; its text form shows only the Eingangsnummer."""

    def __repr__(self) -> str:
        return f"<Laufzettel {self.get('nummer')}>"

    __str__ = __repr__


@library(scope="GLOBAL", auto_keywords=False)
class Posteingang:
    """Keywords of the process 'posteingang' (digital mail room): routing rules, OCR and dockets.

    The robot's steps (``steps/*.resource``) take each mail of the general mailbox as a work item (uploads
    come from the control room), then call `Read Work Item Content` once (text of body and documents, OCR
    for scans) and keep it with `Case Data Of Mail Item` (variables ``fall`` and ``inhalt``); every attempt
    works from the kept data (`Mail Item From Case Data`): `Route Mail Item` (the clerk's
    ``fall.fachbereich``, else the city's rules from ``resources/cities/<stadt>/posteingang.yaml``) and
    `Prepare Docket` (the Laufzettel PDF and the mail that carries it into the department's folder). Items
    that no rule decides, or whose scan is unreadable, go to the review folder with a docket that says why.

    Values that hold personal data (``MailItem``, ``Laufzettel``) show only their case number in logs.
    """

    def __init__(self) -> None:
        self._rules: RoutingRules | None = None
        self._config: Mapping[str, Any] = {}
        self._ocr = OcrSettings()
        self._outcomes: Counter[str] = Counter()

    @property
    def rules(self) -> RoutingRules:
        if self._rules is None:
            raise ApplicationError(
                "Die Poststelle ist nicht eingerichtet: bitte zuerst 'Configure Mail Room' mit der Konfiguration "
                "aufrufen.",
                code="CONFIG_ERROR",
            )
        return self._rules

    @keyword
    def configure_mail_room(self, config: Mapping[str, Any]) -> None:
        """Takes the city's routing rules, OCR and docket settings from the robot's configuration.

        The rules come from the city's master data (``config.stadt_daten.posteingang``). Wrong rules and a
        missing Tesseract fail here, as application errors, before any mail is touched.

        | =Arguments= | =Description= |
        | ``config`` | The loaded configuration, see ``Load Robot Configuration`` of ``rathaus.Process``. |

        Example:
        | ${config}=    Load Robot Configuration    ${CURDIR}/config.yaml
        | Configure Mail Room    ${config}

        See also `Read Mail Item`, `Route Mail Item`.
        """
        city = config.get("stadt_daten", {}) or {}
        self._rules = RoutingRules.from_mapping(
            city.get("posteingang"), f"resources/cities/{config.get('stadt', '?')}/posteingang.yaml"
        )
        self._config = config
        self._ocr = OcrSettings.from_config(config.get("ocr"))
        check_available(self._ocr.language)
        self._outcomes = Counter()

    @keyword
    def mailbox_folder(self, path: str) -> str:
        """Returns a folder path of the rules (``Fachbereiche/Ordnungsamt``) as the mail server names it.

        Levels are written with ``/`` in the configuration; the server's separator comes from
        ``postfach.ordner_trennzeichen`` (``.`` for Dovecot and Maildir, ``/`` for Exchange).

        | =Arguments= | =Description= |
        | ``path`` | Folder path with ``/`` between levels. |

        Example:
        | ${folder}=    Mailbox Folder    Fachbereiche/Ordnungsamt
        | Move Message    ${case}    ${folder}    create_folder=True
        """
        separator = str((self._config.get("postfach") or {}).get("ordner_trennzeichen", "."))
        return "/".join(part.strip() for part in path.strip("/").split("/")).replace("/", separator)

    @keyword
    def read_mail_item(self, eml: Path, case: str, received: str | None = None) -> MailItem:
        """Reads a stored mail with its attachments: body, PDF text layer, OCR for scans, e-invoices.

        PDF pages without a text layer and image attachments are recognised with Tesseract (language,
        minimum confidence, minimum words and the page limit per item come from the ``ocr`` section). An
        unreadable scan or a damaged attachment does not fail here: it is kept in the item's ``problems``,
        so the item still gets its docket and goes to a clerk (see `Prepare Docket`). A file that is not
        a mail fails with a business error.

        | =Arguments= | =Description= |
        | ``eml`` | The mail as ``.eml`` file (the producer stores it in the work item). |
        | ``case`` | The case reference (Message-ID) used in messages. |
        | ``received`` | Receipt time as ISO text, used when the mail has no Date header. |

        Example:
        | ${eml}=     Get Work Item File    nachricht.eml    ${folder}/nachricht.eml
        | ${item}=    Read Mail Item    ${eml}    ${case}

        See also `Route Mail Item`.
        """
        when = datetime.fromisoformat(received) if received else None
        return read_item(eml, case, self._ocr, when)

    @keyword
    def read_work_item_content(self, files: list[str], variables: Mapping[str, Any], case: str) -> MailItem:
        """Reads what a work item brings: a mail case, an upload, or a stored mail of the old producer.

        A mail case (the producer's, or an ``.eml`` uploaded in the control room) and an uploaded loose file
        have their documents as files and ``absender``, ``betreff``, ``eingang``, ``text`` as variables (see
        ``read_files`` in ``posteingang.content``); an item of version 0.1.0 of the producer (no variable
        ``quelle``) holds the whole mail as ``nachricht.eml``, read with `Read Mail Item`. Documents are read
        as there: PDF text layer, OCR for scans, e-invoices; an unreadable one is kept in ``problems``.

        | =Arguments= | =Description= |
        | ``files`` | Paths of the work item's files (``Get Work Item Files``). |
        | ``variables`` | The work item's variables (``Get Work Item Variables``). |
        | ``case`` | The case reference: the Message-ID, else the upload's ``referenz``. |

        Example:
        | ${files}=        Get Work Item Files    *    ${folder}/dateien
        | ${variables}=    Get Work Item Variables
        | ${item}=         Read Work Item Content    ${files}    ${variables}    ${case}

        See also `Case Data Of Mail Item`.
        """
        paths = [Path(f) for f in files]
        stored = [path for path in paths if path.name == STORED_MAIL]
        if stored and not variables.get("quelle"):
            return self.read_mail_item(stored[0], case, variables.get("eingang"))
        return read_files(paths, variables, case, self._ocr)

    @keyword
    def case_data_of_mail_item(self, item: MailItem, fall: Mapping[str, Any] | None = None) -> DotDict:
        """Returns what the work item keeps of a read item: ``fall`` (the case data the clerk sees and may
        correct: ``absender``, ``betreff``, ``eingang``, ``fachbereich``, ``bemerkung``) and ``inhalt`` (what the
        documents said: attachments, OCR figures, problems, the text for the rules).

        Case data a clerk already gave (``fall``) win over what was read.

        | =Arguments= | =Description= |
        | ``item`` | The item from `Read Work Item Content`. |
        | ``fall`` | Case data the work item has already, or ``None``. |

        Example:
        | ${kept}=    Case Data Of Mail Item    ${item}
        | Set Work Item Variables    fall=${kept.fall}    inhalt=${kept.inhalt}
        | Save Work Item
        """
        data = item.case_data()
        data.update({key: value for key, value in dict(fall or {}).items() if key in data})
        return DotDict(fall=data, inhalt=item.kept())

    @keyword
    def mail_item_from_case_data(self, fall: Mapping[str, Any], inhalt: Mapping[str, Any], case: str) -> MailItem:
        """The item as the work item keeps it: sender, subject and date from ``fall`` (as the clerk may have
        corrected them), the documents from ``inhalt``; nothing is read or recognised again.

        | =Arguments= | =Description= |
        | ``fall`` | The case data (work item variable ``fall``). |
        | ``inhalt`` | What the documents said (work item variable ``inhalt``). |
        | ``case`` | The case reference. |

        Example:
        | ${item}=    Mail Item From Case Data    ${fall}    ${inhalt}    ${case}
        """
        return MailItem.from_case_data(fall, inhalt, case)

    @keyword
    def route_mail_item(self, item: MailItem, fachbereich: str | None = None) -> Routing:
        """Scores the city's rules against the item and returns the routing; a clerk's department wins.

        The result has ``department`` (``None`` when a clerk has to decide), ``score``, ``hits``, ``scores``
        (points per department) and ``reason``: ``zugeordnet``, ``kein_treffer`` (no rule matched),
        ``gleichstand`` (the best two departments tie) or ``zu_wenig_punkte`` (below ``mindestpunktzahl``).
        With ``fachbereich`` (the clerk's ``fall.fachbereich``) that department gets the item whatever the
        rules say (``reason`` ``sachbearbeitung``; the rules' points stay for the docket); a key the rules do
        not know is a business error for the clerk, naming the keys there are.

        | =Arguments= | =Description= |
        | ``item`` | The item from `Mail Item From Case Data` or `Read Mail Item`. |
        | ``fachbereich`` | Department key the clerk chose, or empty. |

        Example:
        | ${routing}=    Route Mail Item    ${item}    fachbereich=${fall}[fachbereich]
        | Log    ${routing.reason}

        See also `Prepare Docket`.
        """
        routing = self.rules.route(item.evidence())
        chosen = str(fachbereich or "").strip()
        if not chosen:
            return routing
        department = self.rules.departments.get(chosen)
        if department is None:
            known = ", ".join(f"{key} ({d.name})" for key, d in self.rules.departments.items())
            raise UnknownDepartmentError(
                f"Posteingang {item.message_id}: Den Fachbereich '{chosen}' gibt es in den Zuordnungsregeln nicht. "
                f"Bitte im Fall einen dieser Schlüssel eintragen und erneut versuchen: {known}."
            )
        return Routing(department, routing.score, routing.hits, routing.scores, BY_CLERK)

    @keyword
    def failure_ledger(self) -> str:
        """The file that counts each item's unexpected failures in a row, relative to ``RATHAUS_HOME``.

        ``<stadt>/posteingang/fehlversuche.json``; see ``Record Unexpected Failure`` of ``rathaus.Process``.
        ``pruefung.max_fehlversuche`` sets the limit (3).

        Example:
        | ${ledger}=    Failure Ledger
        | ${count}=    Record Unexpected Failure    ${case}    ${error}    ${ledger}    limit=3
        """
        return f"{self._config.get('stadt', 'stadt')}/posteingang/fehlversuche.json"

    @keyword
    def prepare_docket(self, item: MailItem, routing: Routing, directory: Path, number: str | None = None,
                       remark: str | None = None, documents: Path | None = None) -> Laufzettel:
        """Writes the docket PDF and the mail that carries it; returns what the robot needs to file them.

        An item whose routing is clear goes to its department's folder; an unclear one, or one with an
        unreadable attachment, to the review folder (``postfach.pruefung``), with the reason on the docket
        and in ``meldung``, the German message for the clerk. A department the clerk chose (see `Route Mail
        Item`) is taken even with an unreadable attachment; the docket says the clerk decided. An uploaded
        item has no mail in the mailbox: its docket mail carries its documents (from ``documents``).

        The result has ``nummer`` (Eingangsnummer), ``pdf``, ``eml`` (the docket mail), ``message_id`` (of
        the docket mail, derived from the original's), ``ordner`` (mailbox folder), ``zugeordnet``
        (``True``/``False``), ``code`` and ``meldung`` (for the clerk), ``upload`` (``True`` for an upload),
        ``pruefung_ordner`` and ``pruefung_message_id`` (where an earlier attempt filed the review docket, to
        take along when the clerk decided), and ``variablen`` (work item variables without personal data).

        | =Arguments= | =Description= |
        | ``item`` | The item from `Mail Item From Case Data` or `Read Mail Item`. |
        | ``routing`` | Its routing from `Route Mail Item`. |
        | ``directory`` | Folder for the docket's PDF and mail file. |
        | ``number`` | The Eingangsnummer an earlier attempt gave (variable ``eingangsnummer``), else new. |
        | ``remark`` | The clerk's remark for the docket (``fall.bemerkung``). |
        | ``documents`` | Folder with the work item's files (an upload's documents go with its docket). |

        Example:
        | ${docket}=    Prepare Docket    ${item}    ${routing}    ${case_dir}/laufzettel
        | Append Message    ${docket.eml}    ${docket.ordner}

        See also `Mailbox Folder`.
        """
        postfach = self._config.get("postfach") or {}
        settings = self._config.get("laufzettel") or {}
        city = self._config.get("stadt_daten") or {}
        review = str(postfach.get("pruefung", "Pruefung"))
        number = str(number or "") or intake_number(item.message_id, item.received)
        names = {key: department.name for key, department in self.rules.departments.items()}
        by_clerk = routing.reason == BY_CLERK and routing.department is not None
        routed = routing.department is not None and (by_clerk or not item.problems)
        if by_clerk and routing.department is not None:
            department = routing.department
            assignment, folder, note = department.name, department.folder, department.note
            code = message = reason = ""
            shown_hits = ["Zuordnung von Hand durch die Sachbearbeitung (Korrektur im Kontrollraum)"]
            others = [f"{names[key]}: {points} Punkte" for key, points in routing.scores]
        elif routing.department is not None and routed:
            department = routing.department
            assignment, folder, note = department.name, department.folder, department.note
            code = message = reason = ""
            shown_hits = [hit.describe() for hit in routing.hits_for(department.key)]
            others = [f"{names[key]}: {points} Punkte" for key, points in routing.scores if key != department.key]
        else:
            assignment, folder, note = "Prüfung durch die Poststelle", review, ""
            code, message, reason = self._clerk_reason(item, routing, names, review)
            shown_hits = [f"{names[hit.department]}: {hit.describe()}" for hit in routing.hits]
            others = [f"{names[key]}: {points} Punkte" for key, points in routing.scores]
        sender = str(settings.get("absender") or (city.get("postfaecher") or {}).get("posteingang") or "")
        process = self._config.get("prozess") or {}
        robot = f"Robot {process.get('name', 'posteingang')} {process.get('version', '')}".strip()
        docket = Docket(
            number=number,
            received=item.received,
            subject=item.subject,
            sender=item.sender,
            assignment=assignment,
            folder=folder,
            score=routing.score if routed else None,
            hits=shown_hits,
            attachments=[attachment.describe() for attachment in item.attachments],
            ocr=describe(item.ocr_results),
            deadline=deadline(item.received, int(settings.get("frist_tage", 10))),
            handed_over_by=robot,
            city=str(city.get("name", "")),
            others=others,
            others_label=("Punkte je Fachbereich (Regeln)" if by_clerk
                          else "Weitere Fachbereiche" if routed else "Punkte je Fachbereich"),
            reason=reason,
            note=note,
            channel=f"Upload im Kontrollraum (Referenz {item.message_id})" if item.uploaded else "",
            remark=str(remark or ""),
        )
        directory = Path(directory)
        pdf = write_docket_pdf(docket, directory / f"Laufzettel-{number}.pdf")
        enclosures = [Path(documents) / name for name in item.files] if item.uploaded and documents else []
        # the clerk's docket is a new one (its own Message-ID): the review docket of the earlier attempt stays apart
        key = f"{item.message_id}#{routing.department.key}" if by_clerk and routing.department else item.message_id
        address = sender or "poststelle@localhost"
        mail = docket_mail(docket, pdf, item.message_id if item.is_mail else None, address, key=key,
                           enclosures=enclosures)
        eml = directory / f"Laufzettel-{number}.eml"
        eml.write_bytes(mail.as_bytes())
        ocr_pages = sum(len(result.pages) for result in item.ocr_results)
        variables = {
            "eingangsnummer": number,
            "fachbereich": routing.department.key if routed and routing.department else None,
            "ordner": folder,
            "punkte": routing.score,
            "treffer": [hit.as_dict() for hit in routing.hits],
            "ocr_seiten": ocr_pages,
            "ocr_konfidenz": round(mean_confidence(item.ocr_results), 1) if ocr_pages else None,
            "frist": docket.deadline.isoformat(),
            "laufzettel_message_id": str(mail["Message-ID"]),
            "zuordnung": BY_CLERK if by_clerk else "regeln" if routed else "pruefung",
        }
        return Laufzettel(
            nummer=number,
            pdf=str(pdf),
            eml=str(eml),
            message_id=str(mail["Message-ID"]),
            ordner=self.mailbox_folder(folder),
            fachbereich=assignment,
            zugeordnet=routed,
            code=code,
            meldung=message,
            upload=item.uploaded,
            pruefung_ordner=self.mailbox_folder(review),
            pruefung_message_id=docket_message_id(item.message_id, address.rpartition("@")[2] or "localhost")
            if by_clerk else None,
            variablen=variables,
        )

    def _clerk_reason(
        self, item: MailItem, routing: Routing, names: Mapping[str, str], review: str
    ) -> tuple[str, str, str]:
        """Code, message for the clerk and reason for the docket of an item that goes to review."""
        where = (f"Der Laufzettel liegt mit den hochgeladenen Unterlagen im Ordner '{review}'." if item.uploaded
                 else f"Die Mail liegt mit Laufzettel im Ordner '{review}'.")
        if item.problems:
            problem = item.problems[0]
            return problem.code, f"{problem} {where}", str(problem).partition(": ")[2] or str(problem)
        case = item.message_id
        if routing.reason == "gleichstand":
            tied = " und ".join(names.get(key, key) for key in routing.tied)
            reason = f"Zuordnung nicht eindeutig: {tied} haben je {routing.score} Punkte."
        elif routing.reason == "zu_wenig_punkte":
            best = names.get(routing.scores[0][0], routing.scores[0][0])
            reason = (f"Zuordnung zu unsicher: {best} hat nur {routing.score} Punkte, verlangt sind "
                      f"{self.rules.minimum}.")
        else:
            reason = "Keine Zuordnungsregel passt zu Absender, Betreff, Anhängen oder Text."
        message = (f"Posteingang {case}: {reason} Bitte den Eingang lesen und den zuständigen Fachbereich im Fall "
                   f"eintragen (dann erneut versuchen) oder ihn von Hand zuleiten. {where}")
        return UNCLEAR_CODES.get(routing.reason, "UNKLAR"), message, reason

    @keyword
    def docket_is_in_folder(self, docket: Mapping[str, Any], messages: list[Any]) -> bool:
        """Tells whether one of ``messages`` (from ``List Messages``) is this item's docket mail.

        A rerun after an interruption must not file a second docket: the docket mail's Message-ID is
        derived from the original's, so it is found again.

        | =Arguments= | =Description= |
        | ``docket`` | The docket from `Prepare Docket`. |
        | ``messages`` | Messages of the target folder, e.g. those whose subject holds the Eingangsnummer. |

        Example:
        | @{found}=    List Messages    folder=${docket.ordner}    subject=${docket.nummer}
        | ${present}=    Docket Is In Folder    ${docket}    ${found}
        """
        wanted = "".join(str(docket["message_id"]).split())
        return any("".join(str(getattr(m, "message_id", "") or "").split()) == wanted for m in messages)

    @keyword
    def note_outcome(self, docket: Mapping[str, Any]) -> None:
        """Counts a filed item for the run summary (department, or review).

        | =Arguments= | =Description= |
        | ``docket`` | The docket from `Prepare Docket`, after the mail is filed. |

        Example:
        | Note Outcome    ${docket}

        See also `Write Run Summary`.
        """
        self._outcomes[str(docket["fachbereich"])] += 1

    @keyword
    def write_run_summary(self) -> list[str]:
        """Returns the German lines "items per department" of this run and appends them to the run summary.

        The lines go to ``zusammenfassung.txt`` in the folder ``RATHAUS_RUN_DIR`` names (``rathaus run``
        prints it), when that variable is set. They hold no personal data.

        | =Arguments= | =Description= |
        | (none) | |

        Example:
        | Write Run Summary
        """
        if not self._outcomes:
            return []
        lines = ["Verteilung des Posteingangs:"] + [
            f"  {name}: {count}" for name, count in sorted(self._outcomes.items(), key=lambda i: (-i[1], i[0]))
        ]
        append_run_summary(lines)
        return lines
