"""Process keywords of 'gewerbeanzeige': reading, checking and shaping one trade notice (GewA1/2/3).

Import in Robot as ``Library    gewerbeanzeige.keywords.Gewerbeanzeige    language=de`` (German keyword names
from ``translation_de.json``) or without ``language`` for the English names, with ``processes/`` on the
Python path (``robot.yaml`` and ``rathaus run`` put it there).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rathaus.errors import ApplicationError, BusinessError
from rathaus.pdf.errors import PdfError
from rathaus.pdf.reader import find_form_pdf, read_fields
from rathaus.translation import load_translation
from robotlibcore import DynamicCore, keyword

from gewerbeanzeige.anzeige import (
    GEWA1,
    GEWA2,
    GEWA3,
    Falldaten,
    case_from_fields,
    check_notice,
    compare_with_entry,
    form_kind,
    notice_from_case,
)
from gewerbeanzeige.mitteilungen import notification_text, receipt_data, recipients, write_notification_pdf

HERE = Path(__file__).resolve().parent


class _Keywords:
    @keyword
    def find_notice_pdf(self, files: Sequence[Path], case: str) -> Path:
        """Returns the attachment that is the trade notice: the first PDF whose form says GewA1, GewA2 or GewA3.

        The kind of notice is read from the form field ``formular``. A mail without any PDF, or whose PDFs
        are no GewA form, is a business error for a clerk; so is a PDF that cannot be read.

        | =Arguments= | =Description= |
        | ``files`` | Attachments of the mail, as saved by the producer. |
        | ``case`` | Case reference (the mail's Message-ID) used in messages. |

        Example:
        | ${pdf}=    Find Notice PDF    ${files}    ${message_id}

        See also `Read Notice`.
        """
        found = find_form_pdf(files, lambda f: bool(form_kind(f.get("formular"))) and "inhaber.name" in f)
        if found.pdf is not None:
            return found.pdf
        if not found.pdf_count:
            raise BusinessError(
                f"Gewerbeanzeige {case}: Die Mail enthält keine PDF-Datei mit einer Gewerbeanzeige. Bitte die "
                "Anzeige (GewA1, GewA2 oder GewA3) beim Absender anfordern; die Mail liegt im Prüfordner.",
                code="KEIN_ANHANG",
            )
        if found.unreadable is not None:
            raise BusinessError(f"Gewerbeanzeige {case}: {found.unreadable}", code="PDF_UNLESBAR")
        raise BusinessError(
            f"Gewerbeanzeige {case}: Keine der PDF-Dateien ist ein Formular GewA1, GewA2 oder GewA3. Bitte die "
            "Mail prüfen und die Anzeige beim Absender anfordern.",
            code="KEIN_GEWERBEFORMULAR",
        )

    @keyword
    def read_notice(self, pdf: Path, case: str) -> Falldaten:
        """Reads a GewA form into the case data that the work item keeps (variable ``fall``): ``formular``,
        ``inhaber``, ``betrieb`` and, by form, ``anmeldung``, ``ummeldung`` or ``abmeldung``.

        Nothing is checked but that the PDF is a GewA form: empty entries stay empty (``${None}``), so that the
        data can be kept in the work item before `Check Notice` checks it, and a clerk sees and corrects what the
        form said (the shape is that of ``fall.schema.yaml``). A PDF that cannot be read is a business error.

        | =Arguments= | =Description= |
        | ``pdf`` | The notice, see `Find Notice PDF`. |
        | ``case`` | Case reference used in messages. |

        Example:
        | ${fall}=    Read Notice    ${pdf}    ${message_id}
        | Set Work Item Variables    fall=${fall}
        | Save Work Item

        See also `Check Notice`.
        """
        try:
            fields = read_fields(pdf)
        except PdfError as error:
            raise BusinessError(f"Gewerbeanzeige {case}: {error}", code="PDF_UNLESBAR") from None
        return case_from_fields(fields, case)

    @keyword
    def check_notice(self, notice: Mapping[str, Any], case: str, rules: Mapping[str, Any]) -> Falldaten:
        """Checks the case data of a notice and returns the notice to enter; fails with a business error for a
        clerk otherwise.

        The case data is the work item's ``fall``: as `Read Notice` read it, or as a clerk corrected it in the
        control room. Missing required entries (per form, see FIELDS.md) and malformed dates, postcodes, numbers
        or choices are listed by their form label, never by their value (``PFLICHTANGABEN_FEHLEN``). Then the
        dates must be plausible: the owner must have been born, be at most 110 and, for an Anmeldung, at least
        ``mindestalter`` years old at the start; the start (GewA1), change (GewA2) or end (GewA3) may lie at most
        ``tage_zurueck`` days in the past and ``tage_voraus`` days ahead; an end must not lie before the start.

        | =Arguments= | =Description= |
        | ``notice`` | Case data from `Read Notice` or as a clerk corrected it (work item variable ``fall``). |
        | ``case`` | Case reference used in messages. |
        | ``rules`` | The ``pruefung`` section of the city's configuration. |

        Example:
        | ${fall}=    Get Work Item Variable    fall
        | ${anzeige}=    Check Notice    ${fall}    ${message_id}    ${CONFIG.pruefung}

        See also `Compare With Register Entry`.
        """
        checked = notice_from_case(notice, case)
        check_notice(checked, case, rules)
        return checked

    @keyword
    def register_search_criteria(self, notice: Mapping[str, Any], status: str = "") -> Falldaten:
        """Returns the fields of the Gewerberegister's search form that find this notice's business.

        Owner (name, first name, birth date) and business name, compared exactly; for an Anmeldung also the
        start, so that the search finds the same Anmeldung entered before.

        | =Arguments= | =Description= |
        | ``notice`` | The notice from `Check Notice`. |
        | ``status`` | ``angemeldet`` or ``abgemeldet`` to narrow the search; empty for all entries. |

        Example:
        | ${kriterien}=    Register Search Criteria    ${anzeige}
        | Fill Form    ${kriterien}    form=\\#suche
        """
        owner = notice["inhaber"]
        criteria = {
            "inhaber_name": owner["name"],
            "inhaber_vorname": owner["vorname"],
            "inhaber_geburtsdatum": owner["geburtsdatum"],
            "betrieb_name": notice["betrieb"]["name"],
            "betrieb_beginn": notice["betrieb"].get("beginn") if notice["formular"] == GEWA1 else "",
            "status": status,
            "suchart": "genau",
        }
        return Falldaten({key: value or "" for key, value in criteria.items()})

    @keyword
    def compare_with_register_entry(
        self, notice: Mapping[str, Any], entry: Mapping[str, Any] | None, case: str
    ) -> str:
        """Tells what to do with the notice given the register entry the search found.

        Returns ``eintragen`` (enter it), ``eigener`` (this very notice is in the register: an earlier run
        stopped after entering it, so finish its letters) or ``vorhanden`` (the register has it from another
        notice: do not enter it twice). Fails with a business error when an Ummeldung or Abmeldung names
        a business the register does not know or has closed, or an Abmeldung lies before the start.

        The entry holds what the register's page shows: ``registernummer``, ``status``, ``betrieb_beginn``,
        ``betrieb_strasse``, ``betrieb_plz``, ``betrieb_ort``, ``betrieb_taetigkeit``, ``abmeldung_datum``
        and ``vorgaenge`` (the text of its history, with the Eingangsreferenzen).

        | =Arguments= | =Description= |
        | ``notice`` | The notice from `Check Notice`. |
        | ``entry`` | The entry as read from the register, or ``${None}`` when the search found none. |
        | ``case`` | Case reference; found in the entry's history it means ``eigener``. |

        Example:
        | ${stand}=    Compare With Register Entry    ${anzeige}    ${eintrag}    ${message_id}
        """
        return compare_with_entry(notice, entry, case)

    @keyword
    def register_form_data(
        self, notice: Mapping[str, Any], received: str, case: str, channel: str = "email"
    ) -> Falldaten:
        """Maps the notice onto the Gewerberegister's form for its kind: new entry, Ummeldung or Abmeldung.

        Form fields are named like the notice's fields with ``_`` for ``.``. Entries the notice leaves empty
        are ``${None}``, so `Fill Form` leaves what the register shows (an Ummeldung form starts with the
        entry's current values).

        | =Arguments= | =Description= |
        | ``notice`` | The notice from `Check Notice`. |
        | ``received`` | Date the mail arrived, ``TT.MM.JJJJ``. |
        | ``case`` | The mail's Message-ID, stored as the Eingangsreferenz of the register's Vorgang. |
        | ``channel`` | Value of the select "Eingang über" (``email``, ``online``, ``post``, ``persoenlich``). |

        Example:
        | ${formular}=    Register Form Data    ${anzeige}    ${eingang}    ${message_id}
        | Fill Form    ${formular}    form=\\#betrieb-neu
        """
        form = notice["formular"]
        business = notice["betrieb"]
        values: dict[str, Any] = {}
        if form == GEWA1:
            for group in ("inhaber", "betrieb"):
                for key, value in notice[group].items():
                    values[f"{group}_{key}"] = value if value not in ("", None) else None
            values["betrieb_nebenerwerb"] = bool(business.get("nebenerwerb"))
            values["anmeldung_grund"] = notice.get("anmeldung", {}).get("grund") or "neugruendung"
            note = "Automatisch aus der Gewerbe-Anmeldung (GewA 1) übernommen."
        elif form == GEWA2:
            change = notice["ummeldung"]
            values.update(ummeldung_art=change["art"], ummeldung_datum=change["datum"])
            for key in ("strasse", "plz", "ort", "taetigkeit", "art", "beschaeftigte"):
                values[f"betrieb_{key}"] = business.get(key) or None
            note = "Automatisch aus der Gewerbe-Ummeldung (GewA 2) übernommen."
        elif form == GEWA3:
            end = notice["abmeldung"]
            values.update(abmeldung_datum=end["datum"], abmeldung_grund=end["grund"])
            note = "Automatisch aus der Gewerbe-Abmeldung (GewA 3) übernommen."
        else:  # pragma: no cover - Check Notice only yields the three forms
            raise BusinessError(f"Gewerbeanzeige {case}: unbekanntes Formular.", code="KEIN_GEWERBEFORMULAR")
        values.update(eingang_datum=received, eingang_kanal=channel, eingang_referenz=case, bemerkungen=note)
        return Falldaten(values)

    @keyword
    def notification_recipients(
        self, notice: Mapping[str, Any], bodies: Mapping[str, Mapping[str, Any]],
        entry: Mapping[str, Any] | None = None, excluded: Sequence[str] = (),
    ) -> list[Falldaten]:
        """Returns the bodies that must be informed of this notice (§ 14 GewO), from the city's master data.

        Each body in ``gewerbe.yaml`` has a ``bedingung``: ``immer``, ``handwerk`` (the Handwerkskammer gets
        crafts), ``kein_handwerk`` (the IHK gets all others) or ``mit_beschaeftigten`` (employers only), and
        optionally the ``formulare`` it hears of. Each returned body carries its key as ``schluessel``.

        | =Arguments= | =Description= |
        | ``notice`` | The notice from `Check Notice`. |
        | ``bodies`` | ``${CONFIG.stadt_daten.gewerbe.empfaenger}``. |
        | ``entry`` | The register entry (for the number of employees when the notice has none). |
        | ``excluded`` | Keys of bodies the city informs another way (``mitteilungen.ausgenommen``). |

        Example:
        | ${stellen}=    Notification Recipients    ${anzeige}    ${CONFIG.stadt_daten.gewerbe.empfaenger}
        | FOR    ${stelle}    IN    @{stellen}
        |     Log    ${stelle.name}
        | END
        """
        try:
            chosen = recipients(notice, bodies, entry)
        except ValueError as error:
            raise ApplicationError(f"Stammdaten 'gewerbe.yaml': {error}", code="CONFIG_ERROR") from None
        return [body for body in chosen if body["schluessel"] not in set(excluded or ())]

    @keyword
    def create_notification(
        self, notice: Mapping[str, Any], body: Mapping[str, Any], registernummer: str, received: str,
        city: Mapping[str, Any], output_dir: Path, template: Path | None = None,
    ) -> Falldaten:
        """Writes the notification to one body: mail subject and text, and a PDF data sheet.

        The text comes from ``templates/mitteilung.txt`` (Jinja); it and the PDF hold only the data groups
        the body may receive (``daten`` in ``gewerbe.yaml``: ``vorgang``, ``inhaber``, ``merkmale``,
        ``betrieb``, ``taetigkeit``). Returns ``betreff``, ``text``, ``pdf`` and ``an`` (the body's address).

        | =Arguments= | =Description= |
        | ``notice`` | The notice from `Check Notice`. |
        | ``body`` | One body from `Notification Recipients`. |
        | ``registernummer`` | The entry's number in the Gewerberegister. |
        | ``received`` | Date the notice arrived, ``TT.MM.JJJJ``. |
        | ``city`` | The city's master data, ``${CONFIG.stadt_daten}``. |
        | ``output_dir`` | Folder for the PDF. |
        | ``template`` | Another text template; default the process's ``templates/mitteilung.txt``. |

        Example:
        | ${mitteilung}=    Create Notification    ${anzeige}    ${stelle}    ${nummer}    ${eingang}
        | ...    ${CONFIG.stadt_daten}    ${OUTPUT DIR}/mitteilungen
        | Send Message    ${absender}    ${mitteilung.an}    ${mitteilung.betreff}    ${mitteilung.text}
        | ...    attachments=${mitteilung.pdf}
        """
        office = city["gewerbe"]["gewerbeamt"]
        subject, text, parts = notification_text(
            Path(template) if template else HERE / "templates" / "mitteilung.txt",
            notice, body, registernummer, received, city, office,
        )
        pdf = Path(output_dir) / f"{registernummer}-{notice['formular']}-{body['schluessel']}.pdf"
        write_notification_pdf(pdf, subject, parts, body, city, office)
        return Falldaten(betreff=subject, text=text, pdf=pdf, an=str(body["email"]))

    @keyword
    def receipt_data(
        self, notice: Mapping[str, Any], registernummer: str, received: str, city: Mapping[str, Any],
        informed: Sequence[Mapping[str, Any]] = (),
    ) -> Falldaten:
        """Builds the data of the Empfangsbescheinigung (§ 15 Abs. 1 GewO) for ``templates/empfangsbescheinigung.docx``.

        The letter goes to the owner's home address, else to the business premises; it lists the notice's
        data and the bodies it was passed on to. ``amt`` is the Gewerbeamt from ``gewerbe.yaml``.

        | =Arguments= | =Description= |
        | ``notice`` | The notice from `Check Notice`. |
        | ``registernummer`` | The entry's number in the Gewerberegister. |
        | ``received`` | Date the notice arrived, ``TT.MM.JJJJ``. |
        | ``city`` | The city's master data, ``${CONFIG.stadt_daten}``. |
        | ``informed`` | The bodies from `Notification Recipients`. |

        Example:
        | ${daten}=    Receipt Data    ${anzeige}    ${nummer}    ${eingang}    ${CONFIG.stadt_daten}    ${stellen}
        | ${brief}=    Create Letter    ${vorlage}    ${ausgabe}    ${daten}    ${CONFIG.stadt_daten}
        """
        return receipt_data(notice, registernummer, received, city["gewerbe"]["gewerbeamt"], informed)


class Gewerbeanzeige(DynamicCore):
    """Keywords of the process 'gewerbeanzeige' that turn a GewA1/GewA2/GewA3 PDF into register data and mails.

    The robot's steps (``steps/*.resource``) call these for the parts that are rules rather than clicks:
    which attachment is the notice, what it says, whether its dates are plausible, whether the register has
    it already, what goes into the Gewerberegister, the Empfangsbescheinigung and the notifications to the
    bodies named in § 14 GewO. Case data is returned as ``Falldaten``, whose text form hides the personal
    data it holds, so that assignments do not leak names or birth dates into logs.

    With ``language=de`` the keywords have German names (``Gewerbeanzeige Lesen``), see ``translation_de.json``.
    """

    ROBOT_LIBRARY_SCOPE = "GLOBAL"

    def __init__(self, language: str = "en") -> None:
        """| =Arguments= | =Description= |
        | ``language`` | Keyword names and documentation: ``en`` (default) or ``de``. |
        """
        translation = load_translation(HERE, language, "gewerbeanzeige.keywords.Gewerbeanzeige")
        super().__init__([_Keywords()], translation=translation)


__all__ = ["GEWA1", "GEWA2", "GEWA3", "Gewerbeanzeige"]
