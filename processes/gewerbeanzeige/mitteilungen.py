"""Who learns of a trade notice and what they get: the receipt's data and the notifications to other bodies.

§ 14 GewO with the Gewerbeanzeigenverordnung says which bodies receive data of a Gewerbeanzeige; the
city's master data (``resources/cities/<city>/gewerbe.yaml``) lists them with a condition (all notices,
crafts only, all but crafts, employers only) and the data groups each may receive. Everything here is
pure data shaping; the robot sends the mails.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2

from gewerbeanzeige.anzeige import FORM_TITLES, GEWA1, GEWA2, GEWA3, OPERATIONS, Falldaten, shown

#: Data groups a body may receive, in the order notifications show them.
GROUPS = ("vorgang", "inhaber", "merkmale", "betrieb", "taetigkeit")
GROUP_TITLES = {
    "vorgang": "Anzeige",
    "inhaber": "Angaben zur Person",
    "merkmale": "Statistische Merkmale der Person",
    "betrieb": "Angaben zum Betrieb",
    "taetigkeit": "Angaben zur Tätigkeit",
}
#: Conditions under which a body is informed.
CONDITIONS = ("immer", "handwerk", "kein_handwerk", "mit_beschaeftigten")


def _address(street: Any, plz: Any, town: Any) -> str:
    parts = [str(street or "").strip(), f"{plz or ''} {town or ''}".strip()]
    return ", ".join(p for p in parts if p) or "–"


def _rows(notice: Mapping[str, Any], group: str, registernummer: str, received: str) -> list[dict[str, str]]:
    owner, business = notice["inhaber"], notice["betrieb"]
    form = notice["formular"]
    if group == "vorgang":
        rows = [("Formular", FORM_TITLES[form]), ("Registernummer", registernummer), ("Eingang der Anzeige", received)]
        if form == GEWA2:
            change = notice["ummeldung"]
            rows += [
                ("Art der Änderung", shown("ummeldung.art", change.get("art"))),
                ("Änderung wirksam ab", shown("", change.get("datum"))),
                ("Bisherige Betriebsstätte", shown("", change.get("bisherige_anschrift"))),
                ("Bisherige Tätigkeit", shown("", change.get("bisherige_taetigkeit"))),
            ]
        elif form == GEWA3:
            end = notice["abmeldung"]
            rows += [
                ("Betriebsaufgabe zum", shown("", end.get("datum"))),
                ("Grund der Abmeldung", shown("abmeldung.grund", end.get("grund"))),
            ]
    elif group == "inhaber":
        rows = [
            ("Name, Vorname", f"{owner['name']}, {owner['vorname']}"),
            ("Geburtsname", shown("", owner.get("geburtsname"))),
            ("Geburtsdatum", shown("", owner.get("geburtsdatum"))),
            ("Geburtsort", shown("", owner.get("geburtsort"))),
            ("Staatsangehörigkeit", shown("", owner.get("staatsangehoerigkeit"))),
            ("Anschrift (Wohnung)", _address(owner.get("strasse"), owner.get("plz"), owner.get("ort"))),
        ]
    elif group == "merkmale":
        rows = [
            ("Geschlecht", shown("inhaber.geschlecht", owner.get("geschlecht"))),
            ("Staatsangehörigkeit", shown("", owner.get("staatsangehoerigkeit"))),
        ]
    elif group == "betrieb":
        court, number = business.get("registergericht"), business.get("registernummer")
        register = f"{court}, {number}" if court and number else shown("", number or court)
        rows = [
            ("Name des Betriebs", shown("", business.get("name"))),
            ("Rechtsform", shown("", business.get("rechtsform"))),
            ("Registereintrag", register),
            ("Betriebsstätte", _address(business.get("strasse"), business.get("plz"), business.get("ort"))),
        ]
    elif group == "taetigkeit":
        rows = [
            ("Tätigkeit", shown("", business.get("taetigkeit"))),
            ("Art des Betriebs", shown("betrieb.art", business.get("art"))),
            ("Im Nebenerwerb", shown("", bool(business.get("nebenerwerb")))),
            ("Zahl der Beschäftigten", shown("", business.get("beschaeftigte"))),
            ("Beginn der Tätigkeit", shown("", business.get("beginn"))),
        ]
        if form == GEWA1:
            rows.append(("Grund der Anmeldung", shown("anmeldung.grund", notice.get("anmeldung", {}).get("grund"))))
    else:
        raise ValueError(f"unknown data group {group!r}; known: {', '.join(GROUPS)}")
    return [{"bezeichnung": label, "wert": value} for label, value in rows]


def sections(
    notice: Mapping[str, Any], groups: Sequence[str], registernummer: str, received: str
) -> list[dict[str, Any]]:
    """The notice's data as titled sections of label/value rows, only the ``groups`` asked for."""
    return [
        {"titel": GROUP_TITLES[group], "zeilen": _rows(notice, group, registernummer, received)}
        for group in GROUPS if group in groups
    ]


def _employees(notice: Mapping[str, Any], entry: Mapping[str, Any] | None) -> int:
    for value in (notice["betrieb"].get("beschaeftigte"), (entry or {}).get("betrieb_beschaeftigte")):
        if value not in (None, "", "–"):
            try:
                return int(str(value).strip())
            except ValueError:
                continue
    return 0


def recipients(
    notice: Mapping[str, Any], bodies: Mapping[str, Mapping[str, Any]], entry: Mapping[str, Any] | None = None
) -> list[Falldaten]:
    """The bodies (from ``gewerbe.yaml``'s ``empfaenger``) that must learn of this notice, in file order.

    Crafts (``betrieb.art == handwerk``) go to bodies with ``bedingung: handwerk`` (the
    Handwerkskammer), all other businesses to ``kein_handwerk`` (the IHK); ``mit_beschaeftigten`` bodies
    only hear of businesses with employees (from the notice, else from the register ``entry``).
    """
    craft = notice["betrieb"].get("art") == "handwerk"
    employees = _employees(notice, entry)
    chosen = []
    for key, body in bodies.items():
        condition = body.get("bedingung", "immer")
        forms = body.get("formulare") or (GEWA1, GEWA2, GEWA3)
        if notice["formular"] not in forms:
            continue
        if condition not in CONDITIONS:
            known = ", ".join(CONDITIONS)
            raise ValueError(f"Stelle '{key}': Bedingung {condition!r} ist unbekannt; erlaubt: {known}.")
        if (condition == "handwerk" and not craft) or (condition == "kein_handwerk" and craft):
            continue
        if condition == "mit_beschaeftigten" and employees == 0:
            continue
        chosen.append(Falldaten({**body, "schluessel": key}))
    return chosen


def _environment(folder: Path) -> jinja2.Environment:
    return jinja2.Environment(  # noqa: S701 - plain text for mails, not HTML
        loader=jinja2.FileSystemLoader(str(folder)), undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )


def notification_text(
    template: Path, notice: Mapping[str, Any], body: Mapping[str, Any], registernummer: str, received: str,
    city: Mapping[str, Any], office: Mapping[str, Any],
) -> tuple[str, str, list[dict[str, Any]]]:
    """Subject, text and data sections of the notification to ``body``, from the text template."""
    form = notice["formular"]
    parts = sections(notice, body.get("daten", GROUPS), registernummer, received)
    context = {
        "stelle": body, "stadt": city, "gewerbeamt": office, "registernummer": registernummer, "eingang": received,
        "formular": form, "formular_titel": FORM_TITLES[form], "vorgang": OPERATIONS[form], "abschnitte": parts,
    }
    text = _environment(template.parent).get_template(template.name).render(context)
    subject = f"Gewerbeanzeige: {OPERATIONS[form]} {registernummer} – Mitteilung nach § 14 GewO ({city['name']})"
    return subject, text, parts


def receipt_data(
    notice: Mapping[str, Any], registernummer: str, received: str, office: Mapping[str, Any],
    informed: Sequence[Mapping[str, Any]] = (),
) -> Falldaten:
    """The data of the Empfangsbescheinigung (§ 15 Abs. 1 GewO) for the Word template."""
    owner, business = notice["inhaber"], notice["betrieb"]
    form = notice["formular"]
    if owner.get("strasse"):
        address = [str(owner["strasse"]), f"{owner.get('plz') or ''} {owner.get('ort') or ''}".strip()]
    else:
        address = [str(business.get("name") or ""), str(business.get("strasse") or ""),
                   f"{business.get('plz') or ''} {business.get('ort') or ''}".strip()]
    return Falldaten(
        empfaenger={"name": f"{owner['vorname']} {owner['name']}", "zeilen": [line for line in address if line]},
        inhaber=dict(owner),
        betrieb=dict(business),
        registernummer=registernummer,
        eingang=received,
        formular=form,
        formular_titel=FORM_TITLES[form],
        vorgang=OPERATIONS[form],
        abschnitte=sections(notice, ("vorgang", "inhaber", "betrieb", "taetigkeit"), registernummer, received),
        stellen=[str(body["name"]) for body in informed],
        handwerk=business.get("art") == "handwerk",
        amt=dict(office),
    )


_FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")


def _fonts() -> tuple[str, str]:
    """A font pair that can write Turkish, Polish and Vietnamese names; Helvetica where DejaVu is missing."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if all(Path(font).is_file() for font in _FONTS):
        if "DejaVuSans" not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont("DejaVuSans", _FONTS[0]))
            pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", _FONTS[1]))
        return "DejaVuSans", "DejaVuSans-Bold"
    return "Helvetica", "Helvetica-Bold"


def write_notification_pdf(
    path: Path, subject: str, parts: Sequence[Mapping[str, Any]], body: Mapping[str, Any],
    city: Mapping[str, Any], office: Mapping[str, Any],
) -> Path:
    """Write the notification as a one- or two-page PDF data sheet (for the body's files) and return it."""
    from xml.sax.saxutils import escape as xml_escape

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import cm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    regular, bold = _fonts()

    def escape(text: str) -> str:  # also keeps "§ 14" together on one line
        return xml_escape(text).replace("§ ", "§\u00a0")

    text = ParagraphStyle("text", fontName=regular, fontSize=9.5, leading=12.5)
    small = ParagraphStyle("klein", parent=text, fontSize=8, textColor=colors.HexColor("#555555"))
    heading = ParagraphStyle("ueberschrift", parent=text, fontName=bold, fontSize=12, leading=15, spaceAfter=6)
    section = ParagraphStyle("abschnitt", parent=text, fontName=bold, spaceBefore=8, spaceAfter=3)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = SimpleDocTemplate(str(path), pagesize=A4, leftMargin=2.5 * cm, rightMargin=2 * cm, topMargin=2 * cm,
                            bottomMargin=2 * cm, title=subject, author=str(city.get("name", "")),
                            subject="Mitteilung über eine Gewerbeanzeige")
    story: list[Any] = [
        Paragraph(escape(f"{city.get('name', '')} · {office.get('name', '')}"), small),
        Paragraph(escape(f"{office.get('anschrift', '')} · Telefon {office.get('telefon', '')} · "
                         f"{office.get('email', '')}"), small),
        Spacer(1, 0.6 * cm),
        Paragraph(escape(f"An: {body.get('name', '')}"), text),
        Spacer(1, 0.4 * cm),
        Paragraph(escape(subject), heading),
    ]
    for part in parts:
        story.append(Paragraph(escape(str(part["titel"])), section))
        table = Table(
            [[Paragraph(escape(row["bezeichnung"]), text), Paragraph(escape(str(row["wert"])), text)]
             for row in part["zeilen"]],
            colWidths=[5.5 * cm, 11 * cm],
        )
        table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                                   ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#cccccc"))]))
        story.append(table)
    basis = body.get("rechtsgrundlage") or "§ 14 GewO in Verbindung mit der Gewerbeanzeigenverordnung"
    story += [Spacer(1, 0.5 * cm), Paragraph(escape(f"Übermittlung nach {basis}. Die Daten dürfen nur für die "
                                                    "dort genannten Zwecke verwendet werden."), small),
              Paragraph("Dieses Schreiben wurde maschinell erstellt und ist ohne Unterschrift gültig.", small)]
    doc.build(story)
    return path
