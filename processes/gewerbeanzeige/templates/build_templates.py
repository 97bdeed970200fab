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

from rathaus.documents.letterhead import address_and_info, closing, new_letter, para

HERE = Path(__file__).resolve().parent
def build_empfangsbescheinigung(path: Path) -> None:
    doc = new_letter("Empfangsbescheinigung – Gewerbeanzeige", "Gewerbeanzeige")
    # the recipient's address lines come as a list: a company or a person, with or without c/o
    address_and_info(doc, ["{{ empfaenger.name }}", "{%p for zeile in empfaenger.zeilen %}", "{{ zeile }}",
                           "{%p endfor %}"], ["Registernummer: {{ registernummer }}"])

    para(doc, "Empfangsbescheinigung nach § 15 Abs. 1 Gewerbeordnung", bold=True, space_after=2)
    para(doc, "{{ formular_titel }} – Registernummer {{ registernummer }}", bold=True, space_after=12)
    para(doc, "Guten Tag {{ empfaenger.name }},", space_after=10)
    para(doc, "Ihre Gewerbeanzeige ({{ vorgang }}) ist am {{ eingang }} bei uns eingegangen. Hiermit "
               "bescheinigen wir den Empfang. Wir haben sie unter der Registernummer {{ registernummer }} in "
               "das Gewerberegister übernommen. Bitte geben Sie diese Nummer bei Rückfragen an.", space_after=10)
    para(doc, "Ihre Angaben:", bold=True, space_after=4)
    para(doc, "{%p for abschnitt in abschnitte %}")
    para(doc, "{{ abschnitt.titel }}", bold=True, size=10, space_after=2)
    para(doc, "{%p for zeile in abschnitt.zeilen %}")
    para(doc, "{{ zeile.bezeichnung }}: {{ zeile.wert }}", size=10)
    para(doc, "{%p endfor %}")
    para(doc, space_after=4)
    para(doc, "{%p endfor %}")
    para(doc, "Bitte prüfen Sie die Angaben. Stimmt etwas nicht, teilen Sie uns das bitte umgehend mit.",
          space_after=10)
    para(doc, "Diese Bescheinigung ist keine Erlaubnis. Braucht Ihre Tätigkeit eine Erlaubnis, eine "
               "Konzession oder eine Eintragung (zum Beispiel als Gaststätte, im Bewachungsgewerbe, als "
               "Makler:in oder in der Handwerksrolle), müssen Sie diese gesondert beantragen.", space_after=10)
    para(doc, "{%p if handwerk %}")
    para(doc, "Für ein zulassungspflichtiges Handwerk setzt der Betrieb die Eintragung in die Handwerksrolle "
               "bei der Handwerkskammer voraus.", space_after=10)
    para(doc, "{%p endif %}")
    para(doc, "{%p if stellen %}")
    para(doc, "Nach § 14 der Gewerbeordnung haben wir die Daten Ihrer Anzeige an folgende Stellen "
               "weitergegeben: {{ stellen|join(', ') }}. Diese Stellen melden sich bei Bedarf bei Ihnen.",
          space_after=10)
    para(doc, "{%p endif %}")
    para(doc, "Haben Sie Fragen? Sie erreichen uns telefonisch unter {{ amt.telefon }} oder per E-Mail an "
               "{{ amt.email }}. Unsere Sprechzeiten: {{ amt.sprechzeiten }}.", space_after=18)
    closing(doc)
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
