"""Process keywords of 'unterhaltsvorschuss': reading, checking and shaping one application.

Import in Robot as ``Library    unterhaltsvorschuss.keywords.Unterhaltsvorschuss`` with ``processes/`` on
the Python path (``robot.yaml`` and ``rathaus run`` put it there).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from rathaus.errors import BusinessError
from rathaus.pdf.errors import PdfError
from rathaus.pdf.reader import find_form_pdf, read_fields
from robot.api.deco import keyword, library

from unterhaltsvorschuss.antrag import (
    FIELDS,
    Falldaten,
    application_from_case,
    case_from_fields,
    check_application,
)


@library(scope="GLOBAL", auto_keywords=False)
class Unterhaltsvorschuss:
    """Keywords of the process 'unterhaltsvorschuss' that turn an application PDF into case data.

    The robot's steps (``steps/*.resource``) call these for the parts that are rules rather than clicks:
    which attachment is the application, what it says, whether it can succeed, and what goes into the
    Fachverfahren and the letters. Case data is returned as ``Falldaten``, whose text form hides the
    personal data it holds, so that assignments do not leak names or IBANs into logs.
    """

    @keyword
    def find_application_pdf(self, files: Sequence[Path], case: str) -> Path:
        """Returns the attachment that is the application form; the others are enclosures.

        The application is the first PDF with AcroForm fields of the UVG form. A mail without any PDF,
        or with PDFs of which none is the form, is a business error for a clerk.

        | =Arguments= | =Description= |
        | ``files`` | Attachments of the mail, as saved by the producer. |
        | ``case`` | Case reference (the mail's Message-ID) used in messages. |

        Example:
        | ${pdf}=    Find Application PDF    ${files}    ${message_id}

        See also `Read Application`.
        """
        found = find_form_pdf(files, lambda fields: "kind.geburtsdatum" in fields)
        if found.pdf is not None:
            return found.pdf
        if not found.pdf_count:
            raise BusinessError(
                f"Antrag {case}: Die Mail enthält keine PDF-Datei mit dem Antrag. Bitte den Antrag beim "
                "Absender anfordern; die Mail liegt im Prüfordner.",
                code="KEIN_ANHANG",
            )
        if found.unreadable is not None:
            raise BusinessError(f"Antrag {case}: {found.unreadable}", code="PDF_UNLESBAR")
        raise BusinessError(
            f"Antrag {case}: Keine der PDF-Dateien ist das Antragsformular Unterhaltsvorschuss. Bitte die Mail "
            "prüfen und den Antrag beim Absender anfordern.",
            code="KEIN_ANTRAGSFORMULAR",
        )

    @keyword
    def read_application(self, pdf: Path, case: str) -> Falldaten:
        """Reads the application form into nested case data (``antragsteller``, ``kind``, ...).

        Missing required entries or malformed dates are a business error listing each of them by its
        form label.

        | =Arguments= | =Description= |
        | ``pdf`` | The application PDF, see `Find Application PDF`. |
        | ``case`` | Case reference used in messages. |

        Example:
        | ${antrag}=    Read Application    ${pdf}    ${message_id}
        | Log    ${antrag.kind.geburtsdatum}    level=DEBUG

        See also `Check Application`, `Read Case Data`.
        """
        return application_from_case(self.read_case_data(pdf, case), case)

    @keyword
    def read_case_data(self, pdf: Path, case: str) -> Falldaten:
        """Reads the application form into the case data that the work item keeps (variable ``fall``).

        Nothing is checked but that the PDF is the UVG form: empty entries stay empty, so that the data can be
        kept in the work item before `Application From Case Data` checks it, and a clerk sees and corrects what
        the form said (the shape is that of ``fall.schema.yaml``).

        | =Arguments= | =Description= |
        | ``pdf`` | The application PDF, see `Find Application PDF`. |
        | ``case`` | Case reference used in messages. |

        Example:
        | ${fall}=    Read Case Data    ${pdf}    ${message_id}
        | Set Work Item Variables    fall=${fall}
        | Save Work Item

        See also `Application From Case Data`.
        """
        try:
            fields = read_fields(pdf)
        except PdfError as error:
            raise BusinessError(f"Antrag {case}: {error}", code="PDF_UNLESBAR") from None
        return case_from_fields(fields, case)

    @keyword
    def application_from_case_data(self, data: Mapping[str, Any], case: str) -> Falldaten:
        """Checks case data (work item variable ``fall``) and returns it as the application to enter.

        Missing required entries or malformed dates are a business error (``PFLICHTANGABEN_FEHLEN``) listing
        each by its form label; the clerk corrects them in the control room, and the next attempt uses the
        corrected data.

        | =Arguments= | =Description= |
        | ``data`` | Case data from `Read Case Data` or as a clerk corrected it. |
        | ``case`` | Case reference used in messages. |

        Example:
        | ${fall}=    Get Work Item Variable    fall
        | ${antrag}=    Application From Case Data    ${fall}    ${message_id}

        See also `Read Case Data`, `Check Application`.
        """
        return application_from_case(data, case)

    @keyword
    def check_application(
        self, application: Mapping[str, Any], files: Sequence[Path], case: str, rules: Mapping[str, Any]
    ) -> list[str]:
        """Checks an application and returns the enclosures that are missing (empty when complete).

        Fails with a business error when the application cannot succeed as filed: the child is at
        least ``hoechstalter`` years old at the benefit start, or does not live with the applicant. An
        enclosure counts as present when its checkbox is ticked and an attachment's file name names it
        (``Geburtsurkunde.pdf``).

        | =Arguments= | =Description= |
        | ``application`` | Case data from `Read Application`. |
        | ``files`` | All attachments of the mail. |
        | ``case`` | Case reference used in messages. |
        | ``rules`` | The ``pruefung`` section of the city's configuration. |

        Example:
        | ${fehlend}=    Check Application    ${antrag}    ${files}    ${message_id}    ${config.pruefung}

        See also `Read Application`.
        """
        return check_application(
            application,
            files,
            case,
            max_age=int(rules.get("hoechstalter", 18)),
            required_enclosures=tuple(rules.get("pflichtanlagen", ("geburtsurkunde",))),
        )

    @keyword
    def fachverfahren_form_data(self, application: Mapping[str, Any], channel: str = "email") -> Falldaten:
        """Maps case data onto the fields of the UVG-Fachverfahren's new-case form.

        Form fields are named like the application's fields with ``_`` for ``.``. Empty entries are left
        out, so the form keeps its own defaults.

        | =Arguments= | =Description= |
        | ``application`` | Case data from `Read Application`. |
        | ``channel`` | Value of the form's "Eingang über" select (``email``, ``online``, ``post``). |

        Example:
        | ${formular}=    Fachverfahren Form Data    ${antrag}
        | Fill Form    ${formular}
        """
        values: dict[str, Any] = {}
        for field in FIELDS:
            group, _, key = field.name.partition(".")
            value = application.get(group, {}).get(key)
            if value is None or value == "":
                continue
            values[field.name.replace(".", "_")] = value
        applicant = application["antragsteller"]
        values["kontoinhaber"] = f"{applicant['vorname']} {applicant['name']}"
        values["eingangskanal"] = channel
        values["bemerkungen"] = "Automatisch aus dem Antragseingang übernommen."
        return Falldaten(values)

    @keyword
    def letter_data(
        self,
        application: Mapping[str, Any],
        received: str,
        file_number: str | None = None,
        missing: Sequence[str] = (),
        days_to_reply: int = 14,
        department: str = "jugendamt",
    ) -> Falldaten:
        """Builds the data of an Eingangsbestätigung or Nachforderung letter.

        | =Arguments= | =Description= |
        | ``application`` | Case data from `Read Application`. |
        | ``received`` | Date the mail arrived, ``TT.MM.JJJJ``. |
        | ``file_number`` | The Aktenzeichen, when the case is entered. |
        | ``missing`` | Missing enclosures for a Nachforderung, see `Check Application`. |
        | ``days_to_reply`` | Days until the deadline for missing documents. |
        | ``department`` | Key of the signing department in the city's master data. |

        Example:
        | ${brief}=    Letter Data    ${antrag}    ${eingang}    ${aktenzeichen}    ${fehlend}
        """
        deadline = date.today() + timedelta(days=int(days_to_reply))
        return Falldaten(
            antragsteller=dict(application["antragsteller"]),
            kind=dict(application["kind"]),
            aktenzeichen=file_number or None,
            eingang=received,
            fehlende_unterlagen=list(missing),
            frist=deadline.strftime("%d.%m.%Y"),
            amt=department,
        )
