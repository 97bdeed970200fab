"""(Re)create the letter template ``empfangsbescheinigung.docx`` (receipt after § 15 Abs. 1 GewO).

The generated file is committed: the Gewerbeamt edits it in Word afterwards. Run this script only to
start over from the project's wording:

    .venv/bin/python processes/gewerbeanzeige/templates/build_templates.py

Each Jinja tag is written into a single run, so docxtpl sees it whole. The placeholders follow the context
of ``rathaus.Documents`` (``Create Letter``): ``stadt``, ``amt`` (here the Gewerbeamt from ``gewerbe.yaml``,
passed in the data), ``heute`` and the data of ``Receipt Data`` (``empfaenger``, ``registernummer``,
``eingang``, ``formular_titel``, ``vorgang``, ``abschnitte``, ``stellen``, ``handwerk``).
The notification to other bodies is the text template ``mitteilung.txt`` beside this script.
"""

from __future__ import annotations

import sys
from pathlib import Path

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt, RGBColor
from docx.text.paragraph import Paragraph

HERE = Path(__file__).resolve().parent
FONT = "Arial"
GREY = RGBColor(0x55, 0x55, 0x55)


def _para(container: DocxDocument | object, text: str = "", *, size: float = 11, bold: bool = False,
          underline: bool = False, colour: RGBColor | None = None, align: int | None = None,
          space_after: float = 0, first: bool = False) -> Paragraph:
    paragraph = container.paragraphs[0] if first else container.add_paragraph()  # type: ignore[attr-defined]
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


def _new_document() -> DocxDocument:
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(11)
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.top_margin, section.bottom_margin = Cm(2.7), Cm(2.5)
    section.left_margin, section.right_margin = Cm(2.5), Cm(2.0)
    section.header_distance, section.footer_distance = Cm(1.0), Cm(1.0)
    doc.core_properties.title = "Empfangsbescheinigung – Gewerbeanzeige"
    doc.core_properties.author = "rathaus"
    doc.core_properties.subject = "Gewerbeanzeige"
    doc.core_properties.comments = "Erzeugt mit build_templates.py; Platzhalter beim Bearbeiten nicht trennen."

    _para(section.header, "{{ stadt.name }}", size=14, bold=True, align=WD_ALIGN_PARAGRAPH.RIGHT, first=True)
    _para(section.header, "{{ amt.name }}", size=10, colour=GREY, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _para(section.footer, "{{ stadt.briefkopf.fusszeile }}", size=8, colour=GREY,
          align=WD_ALIGN_PARAGRAPH.CENTER, first=True)
    return doc


def _address_and_info(doc: DocxDocument) -> None:
    # Address field on the left, the office's information block on the right (DIN 5008 style).
    table = doc.add_table(rows=1, cols=2)
    table.autofit = False
    left, right = table.rows[0].cells
    left.width, right.width = Cm(9.5), Cm(7.0)
    _para(left, "{{ stadt.briefkopf.absenderzeile }}", size=7, underline=True, colour=GREY, first=True)
    _para(left)
    _para(left, "{{ empfaenger.name }}")
    _para(left, "{%p for zeile in empfaenger.zeilen %}")
    _para(left, "{{ zeile }}")
    _para(left, "{%p endfor %}")
    _para(right, "{{ amt.name }}", size=9, bold=True, first=True)
    _para(right, "{{ amt.anschrift }}", size=9)
    _para(right, "Telefon: {{ amt.telefon }}", size=9)
    _para(right, "E-Mail: {{ amt.email }}", size=9)
    _para(right, "Sprechzeiten: {{ amt.sprechzeiten }}", size=9)
    _para(right, size=9)
    _para(right, "Registernummer: {{ registernummer }}", size=9)
    _para(right, "Datum: {{ heute }}", size=9)
    _para(doc, space_after=24)


def build_empfangsbescheinigung(path: Path) -> None:
    doc = _new_document()
    _address_and_info(doc)

    _para(doc, "Empfangsbescheinigung nach § 15 Abs. 1 Gewerbeordnung", bold=True, space_after=2)
    _para(doc, "{{ formular_titel }} – Registernummer {{ registernummer }}", bold=True, space_after=12)
    _para(doc, "Guten Tag {{ empfaenger.name }},", space_after=10)
    _para(doc, "Ihre Gewerbeanzeige ({{ vorgang }}) ist am {{ eingang }} bei uns eingegangen. Hiermit "
               "bescheinigen wir den Empfang. Wir haben sie unter der Registernummer {{ registernummer }} in "
               "das Gewerberegister übernommen. Bitte geben Sie diese Nummer bei Rückfragen an.", space_after=10)
    _para(doc, "Ihre Angaben:", bold=True, space_after=4)
    _para(doc, "{%p for abschnitt in abschnitte %}")
    _para(doc, "{{ abschnitt.titel }}", bold=True, size=10, space_after=2)
    _para(doc, "{%p for zeile in abschnitt.zeilen %}")
    _para(doc, "{{ zeile.bezeichnung }}: {{ zeile.wert }}", size=10)
    _para(doc, "{%p endfor %}")
    _para(doc, space_after=4)
    _para(doc, "{%p endfor %}")
    _para(doc, "Bitte prüfen Sie die Angaben. Stimmt etwas nicht, teilen Sie uns das bitte umgehend mit.",
          space_after=10)
    _para(doc, "Diese Bescheinigung ist keine Erlaubnis. Braucht Ihre Tätigkeit eine Erlaubnis, eine "
               "Konzession oder eine Eintragung (zum Beispiel als Gaststätte, im Bewachungsgewerbe, als "
               "Makler:in oder in der Handwerksrolle), müssen Sie diese gesondert beantragen.", space_after=10)
    _para(doc, "{%p if handwerk %}")
    _para(doc, "Für ein zulassungspflichtiges Handwerk setzt der Betrieb die Eintragung in die Handwerksrolle "
               "bei der Handwerkskammer voraus.", space_after=10)
    _para(doc, "{%p endif %}")
    _para(doc, "{%p if stellen %}")
    _para(doc, "Nach § 14 der Gewerbeordnung haben wir die Daten Ihrer Anzeige an folgende Stellen "
               "weitergegeben: {{ stellen|join(', ') }}. Diese Stellen melden sich bei Bedarf bei Ihnen.",
          space_after=10)
    _para(doc, "{%p endif %}")
    _para(doc, "Haben Sie Fragen? Sie erreichen uns telefonisch unter {{ amt.telefon }} oder per E-Mail an "
               "{{ amt.email }}. Unsere Sprechzeiten: {{ amt.sprechzeiten }}.", space_after=18)
    _para(doc, "Mit freundlichen Grüßen", space_after=6)
    _para(doc, "Ihr {{ amt.name }}", space_after=18)
    _para(doc, "Dieses Schreiben wurde maschinell erstellt und ist ohne Unterschrift gültig.", size=8,
          colour=GREY)
    doc.save(str(path))


def main(folder: Path = HERE) -> list[Path]:
    """Write the template into ``folder`` and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / "empfangsbescheinigung.docx"]
    build_empfangsbescheinigung(written[0])
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    for written_path in main(target):
        print(written_path)
