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
from rathaus.errors import ApplicationError
from robot.api.deco import keyword, library
from robot.utils import DotDict

from posteingang.content import MailItem, read_item
from posteingang.docket import Docket, deadline, docket_mail, intake_number, write_docket_pdf
from posteingang.ocr import OcrSettings, check_available, describe, mean_confidence
from posteingang.routing import Routing, RoutingRules

#: What a clerk reads as the reason an item came to the review folder, by ``Routing.reason``.
UNCLEAR_CODES = {"kein_treffer": "KEIN_TREFFER", "gleichstand": "GLEICHSTAND", "zu_wenig_punkte": "ZU_WENIG_PUNKTE"}


class Laufzettel(DotDict):
    """The prepared docket of one item; its text form shows only the Eingangsnummer."""

    def __repr__(self) -> str:
        return f"<Laufzettel {self.get('nummer')}>"

    __str__ = __repr__


@library(scope="GLOBAL", auto_keywords=False)
class Posteingang:
    """Keywords of the process 'posteingang' (digital mail room): routing rules, OCR and dockets.

    The robot's steps (``steps/*.resource``) take each mail of the general mailbox as a work item, then
    call `Read Mail Item` (text of body and attachments, OCR for scans), `Route Mail Item` (the city's
    rules from ``resources/cities/<stadt>/posteingang.yaml``) and `Prepare Docket` (the Laufzettel PDF and
    the mail that carries it into the department's folder). Items that no rule decides, or whose scan is
    unreadable, go to the review folder with a docket that says why.

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
    def route_mail_item(self, item: MailItem) -> Routing:
        """Scores the city's rules against the item and returns the routing.

        The result has ``department`` (``None`` when a clerk has to decide), ``score``, ``hits``, ``scores``
        (points per department) and ``reason``: ``zugeordnet``, ``kein_treffer`` (no rule matched),
        ``gleichstand`` (the best two departments tie) or ``zu_wenig_punkte`` (below ``mindestpunktzahl``).

        | =Arguments= | =Description= |
        | ``item`` | The item from `Read Mail Item`. |

        Example:
        | ${routing}=    Route Mail Item    ${item}
        | Log    ${routing.reason}

        See also `Prepare Docket`.
        """
        return self.rules.route(item.evidence())

    @keyword
    def prepare_docket(self, item: MailItem, routing: Routing, directory: Path) -> Laufzettel:
        """Writes the docket PDF and the mail that carries it; returns what the robot needs to file them.

        An item whose routing is clear goes to its department's folder; an unclear one, or one with an
        unreadable attachment, to the review folder (``postfach.pruefung``), with the reason on the docket
        and in ``meldung``, the German message for the clerk.

        The result has ``nummer`` (Eingangsnummer), ``pdf``, ``eml`` (the docket mail), ``message_id`` (of
        the docket mail, derived from the original's), ``ordner`` (mailbox folder), ``zugeordnet``
        (``True``/``False``), ``code`` and ``meldung`` (for the clerk), and ``variablen`` (work item
        variables without personal data).

        | =Arguments= | =Description= |
        | ``item`` | The item from `Read Mail Item`. |
        | ``routing`` | Its routing from `Route Mail Item`. |
        | ``directory`` | Folder for the docket's PDF and mail file. |

        Example:
        | ${docket}=    Prepare Docket    ${item}    ${routing}    ${case_dir}/laufzettel
        | Append Message    ${docket.eml}    ${docket.ordner}

        See also `Mailbox Folder`.
        """
        postfach = self._config.get("postfach") or {}
        settings = self._config.get("laufzettel") or {}
        city = self._config.get("stadt_daten") or {}
        review = str(postfach.get("pruefung", "Pruefung"))
        number = intake_number(item.message_id, item.received)
        names = {key: department.name for key, department in self.rules.departments.items()}
        routed = routing.department is not None and not item.problems
        if routing.department is not None and routed:
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
            others_label="Weitere Fachbereiche" if routed else "Punkte je Fachbereich",
            reason=reason,
            note=note,
        )
        directory = Path(directory)
        pdf = write_docket_pdf(docket, directory / f"Laufzettel-{number}.pdf")
        mail = docket_mail(docket, pdf, item.message_id, sender or "poststelle@localhost")
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
            variablen=variables,
        )

    def _clerk_reason(
        self, item: MailItem, routing: Routing, names: Mapping[str, str], review: str
    ) -> tuple[str, str, str]:
        """Code, message for the clerk and reason for the docket of an item that goes to review."""
        where = f"Die Mail liegt mit Laufzettel im Ordner '{review}'."
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
        message = (f"Posteingang {case}: {reason} Bitte die Mail lesen und dem zuständigen Fachbereich von Hand "
                   f"zuleiten. {where}")
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
