"""Keywords that write letters from Word templates and read their text back."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import jinja2
from docx import Document
from docx.document import Document as DocxDocument
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table
from docx.text.paragraph import Paragraph
from docxtpl import DocxTemplate
from robot.api.deco import keyword

from rathaus.documents import context as ctx
from rathaus.documents.base import LibraryComponent
from rathaus.documents.errors import LetterDataMissingError, TemplateNotFoundError, TemplateSyntaxError


class _NoneRendered(Exception):
    pass


def _finalize(value: Any) -> Any:
    if value is None:
        raise _NoneRendered
    return value


def make_environment() -> jinja2.Environment:
    """The Jinja environment for letters: strict about missing values, escaping for Word's XML."""
    return jinja2.Environment(undefined=ctx.TrackingUndefined, autoescape=True, finalize=_finalize)


class LetterKeywords(LibraryComponent):
    """Create Letter, Get Letter Text."""

    @keyword
    def create_letter(
        self,
        template: Path,
        output: Path,
        data: dict[str, Any],
        city: dict[str, Any] | Path | None = None,
        amt: str | None = None,
    ) -> Path:
        """Write a letter from a Word template filled with the case data and the city's letterhead.

        The template is a ``.docx`` with Jinja placeholders (docxtpl). It sees:
        - the case data's keys at the top level (``{{ antragsteller.name }}``) and all of it as ``fall``,
        - ``stadt``: the city's master data (``{{ stadt.name }}``, ``{{ stadt.briefkopf.absenderzeile }}``,
          ``{{ stadt.briefkopf.fusszeile }}``),
        - ``amt``: the department block ``stadt.aemter.<key>`` (``{{ amt.telefon }}``), the key taken from
          the argument ``amt`` or else from the case data's ``amt``,
        - ``heute``: today's date as TT.MM.JJJJ.
        Dates in the data are written as TT.MM.JJJJ. A placeholder that the data does not fill fails with
        an error naming the template and the placeholder, never as an empty gap in the letter.

        | =Arguments= | =Description= |
        | ``template`` | The Word template (``.docx``). |
        | ``output`` | Where to write the letter; folders are created. |
        | ``data`` | The case data, a dictionary. |
        | ``city`` | The city's master data, a dictionary or a YAML file; default is the library's ``city``. |
        | ``amt`` | Key of the department in ``stadt.aemter``; default is ``data['amt']``. |

        Returns the path of the written letter.

        Example:
        | ${brief}= | `Create Letter` | ${TEMPLATES}/eingangsbestaetigung.docx | ${OUTPUT}/brief.docx |
        | ... | data=${fall} | city=${CURDIR}/resources/cities/giessen/stadt.yaml |
        | ${pdf}= | `Convert To PDF` | ${brief} |

        Related: `Convert To PDF`, `Get Letter Text`.
        """
        template = Path(template)
        output = Path(output)
        if not template.is_file():
            raise TemplateNotFoundError(
                f"Briefvorlage '{template}' fehlt: Pfad prüfen oder die Vorlage neu erzeugen."
            )
        if not isinstance(data, Mapping):
            raise LetterDataMissingError(
                f"Falldaten für '{template.name}' müssen ein Dictionary sein, nicht {type(data).__name__}."
            )
        master = ctx.load_city(city if city is not None else self.state.city)
        context = ctx.build_context(data, master, amt=amt, today=self.state.today())
        self._render(template, output, context)
        return output

    @keyword
    def get_letter_text(self, document: Path) -> str:
        """Return the text of a Word document: header, body (also tables) and footer, one line per paragraph.

        Handy to check a written letter in a test or before sending it.

        | =Arguments= | =Description= |
        | ``document`` | The ``.docx`` file. |

        Example:
        | ${text}= | `Get Letter Text` | ${brief} |
        | Should Contain | ${text} | Aktenzeichen |

        Related: `Create Letter`.
        """
        path = Path(document)
        if not path.is_file():
            raise TemplateNotFoundError(f"Word-Dokument '{path}' fehlt: Pfad prüfen.")
        try:
            doc = Document(str(path))
        except (zipfile.BadZipFile, PackageNotFoundError, KeyError):
            raise TemplateNotFoundError(
                f"'{path}' ist kein lesbares Word-Dokument (.docx): Datei prüfen."
            ) from None
        return "\n".join(_document_lines(doc))

    def _render(self, template: Path, output: Path, context: dict[str, Any]) -> None:
        try:
            doc = DocxTemplate(str(template))
            doc.render(context, jinja_env=make_environment(), autoescape=True)
        except ctx.MissingPlaceholder as missing:
            raise LetterDataMissingError(
                f"Briefvorlage '{template.name}' braucht den Wert '{missing.path}', die Falldaten enthalten "
                "ihn nicht: Daten ergänzen oder die Vorlage anpassen."
            ) from None
        except _NoneRendered:
            empty = ", ".join(ctx.none_paths({k: v for k, v in context.items() if k != "fall"})) or "?"
            raise LetterDataMissingError(
                f"Briefvorlage '{template.name}' würde einen leeren Wert (None) drucken, leer sind: {empty}: "
                "Daten ergänzen oder in der Vorlage mit {% if %} abfragen."
            ) from None
        except jinja2.TemplateSyntaxError as error:
            raise TemplateSyntaxError(
                f"Briefvorlage '{template.name}' enthält einen fehlerhaften Platzhalter ({error.message}): "
                "Vorlage in Word korrigieren, jeder Platzhalter muss {{ … }} bzw. {% … %} sein."
            ) from None
        except jinja2.TemplateError as error:
            raise TemplateSyntaxError(
                f"Briefvorlage '{template.name}' ließ sich nicht füllen ({error}): Vorlage prüfen."
            ) from None
        except (zipfile.BadZipFile, PackageNotFoundError):
            raise TemplateNotFoundError(
                f"Briefvorlage '{template}' ist kein lesbares Word-Dokument (.docx): Datei prüfen."
            ) from None
        output.parent.mkdir(parents=True, exist_ok=True)
        doc.save(str(output))


def _document_lines(doc: DocxDocument) -> Iterator[str]:
    seen: set[int] = set()
    for section in doc.sections:
        for part in (section.header, section.first_page_header):
            if not part.is_linked_to_previous and id(part.part) not in seen:
                seen.add(id(part.part))
                yield from _block_lines(part)
    yield from _block_lines(doc)
    seen.clear()
    for section in doc.sections:
        for part in (section.footer, section.first_page_footer):
            if not part.is_linked_to_previous and id(part.part) not in seen:
                seen.add(id(part.part))
                yield from _block_lines(part)


def _block_lines(container: Any) -> Iterator[str]:
    for block in container.iter_inner_content():
        if isinstance(block, Paragraph):
            yield block.text
        elif isinstance(block, Table):
            cells: list[Any] = []
            for row in block.rows:
                for cell in row.cells:
                    if not any(cell._tc is tc for tc in cells):
                        cells.append(cell._tc)
                        yield from _block_lines(cell)
