"""(Re)create the UVG letter templates ``eingangsbestaetigung.docx`` and ``nachforderung.docx``.

The generated files are committed: departments edit them in Word afterwards. Run this script only to
start over from the project's wording:

    .venv/bin/python processes/unterhaltsvorschuss/templates/build_templates.py

Each Jinja tag is written into a single run, so docxtpl sees it whole. The placeholders follow the
context of ``rathaus.Documents`` (``Create Letter``): ``stadt``, ``amt``, ``heute`` and the case data
(``antragsteller``, ``kind``, ``aktenzeichen``, ``eingang``, ``fehlende_unterlagen``, ``frist``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt, RGBColor
from docx.text.paragraph import Paragraph

HERE = Path(__file__).resolve().parent
FONT = "Arial"
GREY = RGBColor(0x55, 0x55, 0x55)

GREETING = "Guten Tag {{ antragsteller.vorname }} {{ antragsteller.name }},"
CHILD = "für Ihr Kind {{ kind.vorname }} {{ kind.name }}, geboren am {{ kind.geburtsdatum }},"
CONTACT = (
    "Haben Sie Fragen? Sie erreichen uns telefonisch unter {{ amt.telefon }} oder per E-Mail an "
    "{{ amt.email }}. Unsere Sprechzeiten: {{ amt.sprechzeiten }}."
)
MACHINE = "Dieses Schreiben wurde maschinell erstellt und ist ohne Unterschrift gültig."


def _para(container: DocxDocument | object, text: str = "", *, size: float = 11, bold: bool = False,
          underline: bool = False, colour: RGBColor | None = None, align: int | None = None,
          style: str | None = None, space_after: float = 0, first: bool = False) -> Paragraph:
    if first:
        paragraph = container.paragraphs[0]  # type: ignore[attr-defined]
        if style:
            paragraph.style = style
    else:
        paragraph = container.add_paragraph(style=style)  # type: ignore[attr-defined]
    if text:
        run = paragraph.add_run(text)
        run.font.size = Pt(size)
        run.font.name = FONT
        run.bold = bold
        run.underline = underline
        if colour is not None:
            run.font.color.rgb = colour
    paragraph.paragraph_format.space_after = Pt(space_after)
    if align is not None:
        paragraph.alignment = align
    return paragraph


def _new_document(title: str) -> DocxDocument:
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(11)
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.top_margin, section.bottom_margin = Cm(2.7), Cm(2.5)
    section.left_margin, section.right_margin = Cm(2.5), Cm(2.0)
    section.header_distance, section.footer_distance = Cm(1.0), Cm(1.0)
    doc.core_properties.title = title
    doc.core_properties.author = "rathaus"
    doc.core_properties.subject = "Unterhaltsvorschuss"
    doc.core_properties.comments = "Erzeugt mit build_templates.py; Platzhalter beim Bearbeiten nicht trennen."

    header = section.header
    _para(header, "{{ stadt.name }}", size=14, bold=True, align=WD_ALIGN_PARAGRAPH.RIGHT, first=True)
    _para(header, "{{ amt.name }}", size=10, colour=GREY, align=WD_ALIGN_PARAGRAPH.RIGHT)
    footer = section.footer
    _para(footer, "{{ stadt.briefkopf.fusszeile }}", size=8, colour=GREY,
          align=WD_ALIGN_PARAGRAPH.CENTER, first=True)
    return doc


def _address_and_info(doc: DocxDocument, reference: Callable[[object], None]) -> None:
    """Address field on the left, the department's information block on the right (DIN 5008 style)."""
    table = doc.add_table(rows=1, cols=2)
    table.autofit = False
    left, right = table.rows[0].cells
    left.width, right.width = Cm(9.5), Cm(7.0)
    _para(left, "{{ stadt.briefkopf.absenderzeile }}", size=7, underline=True, colour=GREY, first=True)
    _para(left)
    _para(left, "{{ antragsteller.vorname }} {{ antragsteller.name }}")
    _para(left, "{{ antragsteller.strasse }}")
    _para(left, "{{ antragsteller.plz }} {{ antragsteller.ort }}")

    _para(right, "{{ amt.name }}", size=9, bold=True, first=True)
    _para(right, "{{ amt.anschrift }}", size=9)
    _para(right, "Telefon: {{ amt.telefon }}", size=9)
    _para(right, "E-Mail: {{ amt.email }}", size=9)
    _para(right, "Sprechzeiten: {{ amt.sprechzeiten }}", size=9)
    _para(right, size=9)
    reference(right)
    _para(right, "Datum: {{ heute }}", size=9)
    _para(doc, space_after=24)


def _closing(doc: DocxDocument) -> None:
    _para(doc, "Mit freundlichen Grüßen", space_after=6)
    _para(doc, "Ihr {{ amt.name }}", space_after=18)
    _para(doc, MACHINE, size=8, colour=GREY)


def build_eingangsbestaetigung(path: Path) -> None:
    doc = _new_document("Eingangsbestätigung – Antrag auf Unterhaltsvorschuss")
    _address_and_info(doc, lambda cell: _para(cell, "Aktenzeichen: {{ aktenzeichen }}", size=9))
    _para(doc, "Eingangsbestätigung – Ihr Antrag auf Unterhaltsvorschuss für {{ kind.vorname }} "
               "{{ kind.name }}", bold=True, space_after=12)
    _para(doc, GREETING, space_after=10)
    _para(doc, "Ihr Antrag auf Leistungen nach dem Unterhaltsvorschussgesetz (UVG) " + CHILD
          + " ist am {{ eingang }} bei uns eingegangen. Wir bearbeiten ihn unter dem Aktenzeichen "
          "{{ aktenzeichen }}. Bitte geben Sie dieses Aktenzeichen bei allen Rückfragen und "
          "Zuschriften an.", space_after=10)
    _para(doc, "Wir prüfen Ihren Antrag jetzt. Fehlen uns dafür noch Angaben oder Nachweise, melden wir "
               "uns bei Ihnen. Über Ihren Antrag entscheiden wir mit einem schriftlichen Bescheid.",
          space_after=10)
    _para(doc, "Bitte teilen Sie uns sofort mit, wenn sich etwas ändert, das für die Leistung wichtig "
               "ist – zum Beispiel wenn Ihr Kind nicht mehr bei Ihnen wohnt, wenn Sie umziehen oder "
               "heiraten oder wenn der andere Elternteil Unterhalt zahlt.", space_after=10)
    _para(doc, CONTACT, space_after=18)
    _closing(doc)
    doc.save(str(path))


def _nachforderung_reference(cell: object) -> None:
    _para(cell, "{%p if aktenzeichen is defined and aktenzeichen %}", size=9)
    _para(cell, "Aktenzeichen: {{ aktenzeichen }}", size=9)
    _para(cell, "{%p else %}", size=9)
    _para(cell, "Ihr Antrag vom {{ eingang }}", size=9)
    _para(cell, "{%p endif %}", size=9)


def build_nachforderung(path: Path) -> None:
    doc = _new_document("Nachforderung von Unterlagen – Antrag auf Unterhaltsvorschuss")
    _address_and_info(doc, _nachforderung_reference)
    _para(doc, "Ihr Antrag auf Unterhaltsvorschuss für {{ kind.vorname }} {{ kind.name }} – "
               "bitte reichen Sie Unterlagen nach", bold=True, space_after=12)
    _para(doc, GREETING, space_after=10)
    _para(doc, "vielen Dank für Ihren Antrag auf Leistungen nach dem Unterhaltsvorschussgesetz (UVG) "
          + CHILD + " der am {{ eingang }} bei uns eingegangen ist.", space_after=10)
    _para(doc, "Damit wir über Ihren Antrag entscheiden können, benötigen wir von Ihnen noch:",
          space_after=6)
    _para(doc, "{%p for unterlage in fehlende_unterlagen %}")
    _para(doc, "{{ unterlage }}", style="List Bullet")
    _para(doc, "{%p endfor %}")
    _para(doc, space_after=6)
    _para(doc, "Bitte reichen Sie diese Unterlagen bis zum {{ frist }} ein. Sie können sie per E-Mail an "
               "{{ amt.email }} senden, mit der Post schicken ({{ amt.anschrift }}) oder während der "
               "Sprechzeiten bei uns abgeben. Geben Sie dabei bitte {% if aktenzeichen is defined and "
               "aktenzeichen %}das Aktenzeichen {{ aktenzeichen }}{% else %}Ihren Namen und das Datum "
               "Ihres Antrags vom {{ eingang }}{% endif %} an.", space_after=10)
    _para(doc, "Bitte beachten Sie: Liegen die Unterlagen bis zu diesem Tag nicht vor, können wir Ihren "
               "Antrag nicht weiter bearbeiten. Wir müssten die Leistung dann wegen fehlender Mitwirkung "
               "versagen (§§ 60, 66 Erstes Buch Sozialgesetzbuch – SGB I). Schaffen Sie die Frist nicht, "
               "melden Sie sich bitte vorher bei uns.", space_after=10)
    _para(doc, CONTACT, space_after=18)
    _closing(doc)
    doc.save(str(path))


def main(folder: Path = HERE) -> list[Path]:
    """Write both templates into ``folder`` and return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / "eingangsbestaetigung.docx", folder / "nachforderung.docx"]
    build_eingangsbestaetigung(written[0])
    build_nachforderung(written[1])
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    for written_path in main(target):
        print(written_path)
