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
from pathlib import Path

from docx.document import Document as DocxDocument
from rathaus.documents.letterhead import address_and_info, closing, new_letter, para

HERE = Path(__file__).resolve().parent
GREETING = "Guten Tag {{ antragsteller.vorname }} {{ antragsteller.name }},"
CHILD = "für Ihr Kind {{ kind.vorname }} {{ kind.name }}, geboren am {{ kind.geburtsdatum }},"
CONTACT = (
    "Haben Sie Fragen? Sie erreichen uns telefonisch unter {{ amt.telefon }} oder per E-Mail an "
    "{{ amt.email }}. Unsere Sprechzeiten: {{ amt.sprechzeiten }}."
)


def _new_document(title: str) -> DocxDocument:
    return new_letter(title, "Unterhaltsvorschuss")


def _address_and_info(doc: DocxDocument, reference: list[str]) -> None:
    recipient = ["{{ antragsteller.vorname }} {{ antragsteller.name }}", "{{ antragsteller.strasse }}",
                 "{{ antragsteller.plz }} {{ antragsteller.ort }}"]
    address_and_info(doc, recipient, reference)


def build_eingangsbestaetigung(path: Path) -> None:
    doc = _new_document("Eingangsbestätigung – Antrag auf Unterhaltsvorschuss")
    _address_and_info(doc, ["Aktenzeichen: {{ aktenzeichen }}"])
    para(doc, "Eingangsbestätigung – Ihr Antrag auf Unterhaltsvorschuss für {{ kind.vorname }} "
               "{{ kind.name }}", bold=True, space_after=12)
    para(doc, GREETING, space_after=10)
    para(doc, "Ihr Antrag auf Leistungen nach dem Unterhaltsvorschussgesetz (UVG) " + CHILD
          + " ist am {{ eingang }} bei uns eingegangen. Wir bearbeiten ihn unter dem Aktenzeichen "
          "{{ aktenzeichen }}. Bitte geben Sie dieses Aktenzeichen bei allen Rückfragen und "
          "Zuschriften an.", space_after=10)
    para(doc, "Wir prüfen Ihren Antrag jetzt. Fehlen uns dafür noch Angaben oder Nachweise, melden wir "
               "uns bei Ihnen. Über Ihren Antrag entscheiden wir mit einem schriftlichen Bescheid.",
          space_after=10)
    para(doc, "Bitte teilen Sie uns sofort mit, wenn sich etwas ändert, das für die Leistung wichtig "
               "ist – zum Beispiel wenn Ihr Kind nicht mehr bei Ihnen wohnt, wenn Sie umziehen oder "
               "heiraten oder wenn der andere Elternteil Unterhalt zahlt.", space_after=10)
    para(doc, CONTACT, space_after=18)
    closing(doc)
    doc.save(str(path))


#: the Aktenzeichen if the case was entered, else the day of the application
NACHFORDERUNG_REFERENCE = ["{%p if aktenzeichen is defined and aktenzeichen %}", "Aktenzeichen: {{ aktenzeichen }}",
                           "{%p else %}", "Ihr Antrag vom {{ eingang }}", "{%p endif %}"]


def build_nachforderung(path: Path) -> None:
    doc = _new_document("Nachforderung von Unterlagen – Antrag auf Unterhaltsvorschuss")
    _address_and_info(doc, NACHFORDERUNG_REFERENCE)
    para(doc, "Ihr Antrag auf Unterhaltsvorschuss für {{ kind.vorname }} {{ kind.name }} – "
               "bitte reichen Sie Unterlagen nach", bold=True, space_after=12)
    para(doc, GREETING, space_after=10)
    para(doc, "vielen Dank für Ihren Antrag auf Leistungen nach dem Unterhaltsvorschussgesetz (UVG) "
          + CHILD + " der am {{ eingang }} bei uns eingegangen ist.", space_after=10)
    para(doc, "Damit wir über Ihren Antrag entscheiden können, benötigen wir von Ihnen noch:",
          space_after=6)
    para(doc, "{%p for unterlage in fehlende_unterlagen %}")
    para(doc, "{{ unterlage }}", style="List Bullet")
    para(doc, "{%p endfor %}")
    para(doc, space_after=6)
    para(doc, "Bitte reichen Sie diese Unterlagen bis zum {{ frist }} ein. Sie können sie per E-Mail an "
               "{{ amt.email }} senden, mit der Post schicken ({{ amt.anschrift }}) oder während der "
               "Sprechzeiten bei uns abgeben. Geben Sie dabei bitte {% if aktenzeichen is defined and "
               "aktenzeichen %}das Aktenzeichen {{ aktenzeichen }}{% else %}Ihren Namen und das Datum "
               "Ihres Antrags vom {{ eingang }}{% endif %} an.", space_after=10)
    para(doc, "Bitte beachten Sie: Liegen die Unterlagen bis zu diesem Tag nicht vor, können wir Ihren "
               "Antrag nicht weiter bearbeiten. Wir müssten die Leistung dann wegen fehlender Mitwirkung "
               "versagen (§§ 60, 66 Erstes Buch Sozialgesetzbuch – SGB I). Schaffen Sie die Frist nicht, "
               "melden Sie sich bitte vorher bei uns.", space_after=10)
    para(doc, CONTACT, space_after=18)
    closing(doc)
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
