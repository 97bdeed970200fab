"""Building blocks for the Word letter templates of the processes (their ``templates/build_templates.py``).

Every template has the same DIN 5008 page: A4 with the city and department in the header, the city's footer line,
an address field beside the department's information block, and the same closing. The placeholders follow the
context of ``Create Letter`` (``stadt``, ``amt``, ``heute``). Each Jinja tag is written into a single run, so
docxtpl sees it whole.
"""

from __future__ import annotations

from collections.abc import Iterable

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt, RGBColor
from docx.text.paragraph import Paragraph

FONT = "Arial"
GREY = RGBColor(0x55, 0x55, 0x55)
MACHINE_NOTE = "Dieses Schreiben wurde maschinell erstellt und ist ohne Unterschrift gültig."


def para(container: DocxDocument | object, text: str = "", *, size: float = 11, bold: bool = False,
         underline: bool = False, colour: RGBColor | None = None, align: int | None = None,
         style: str | None = None, space_after: float = 0, first: bool = False) -> Paragraph:
    """Add a paragraph with one run (or fill the container's first, empty paragraph with ``first``)."""
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


def new_letter(title: str, subject: str) -> DocxDocument:
    """An A4 document with the city and department in the header and the city's footer line."""
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
    doc.core_properties.subject = subject
    doc.core_properties.comments = "Erzeugt mit build_templates.py; Platzhalter beim Bearbeiten nicht trennen."

    para(section.header, "{{ stadt.name }}", size=14, bold=True, align=WD_ALIGN_PARAGRAPH.RIGHT, first=True)
    para(section.header, "{{ amt.name }}", size=10, colour=GREY, align=WD_ALIGN_PARAGRAPH.RIGHT)
    para(section.footer, "{{ stadt.briefkopf.fusszeile }}", size=8, colour=GREY,
         align=WD_ALIGN_PARAGRAPH.CENTER, first=True)
    return doc


def address_and_info(doc: DocxDocument, recipient: Iterable[str], reference: Iterable[str]) -> None:
    """Address field on the left (the sender line, then ``recipient``), the department's information block on
    the right with ``reference`` (e.g. the Aktenzeichen) above the date (DIN 5008 style)."""
    table = doc.add_table(rows=1, cols=2)
    table.autofit = False
    left, right = table.rows[0].cells
    left.width, right.width = Cm(9.5), Cm(7.0)
    para(left, "{{ stadt.briefkopf.absenderzeile }}", size=7, underline=True, colour=GREY, first=True)
    para(left)
    for line in recipient:
        para(left, line)
    para(right, "{{ amt.name }}", size=9, bold=True, first=True)
    para(right, "{{ amt.anschrift }}", size=9)
    para(right, "Telefon: {{ amt.telefon }}", size=9)
    para(right, "E-Mail: {{ amt.email }}", size=9)
    para(right, "Sprechzeiten: {{ amt.sprechzeiten }}", size=9)
    para(right, size=9)
    for line in reference:
        para(right, line, size=9)
    para(right, "Datum: {{ heute }}", size=9)
    para(doc, space_after=24)


def closing(doc: DocxDocument) -> None:
    """Greeting, the department's name and the note that the letter is valid without signature."""
    para(doc, "Mit freundlichen Grüßen", space_after=6)
    para(doc, "Ihr {{ amt.name }}", space_after=18)
    para(doc, MACHINE_NOTE, size=8, colour=GREY)
