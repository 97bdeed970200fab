"""Keywords for form fields: read them, check one, fill the form."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path

from robotlibcore import keyword

from rathaus.pdf import reader
from rathaus.pdf._base import PdfComponent
from rathaus.pdf.errors import UnknownFieldError

FieldValue = str | bool | None


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _normalize(actual: FieldValue, expected: object) -> tuple[object, object]:
    """Compare checkboxes as booleans and everything else as text (``None`` reads as empty)."""
    if isinstance(actual, bool):
        as_bool = reader.as_bool(expected)
        return actual, as_bool if isinstance(expected, (bool, str)) or expected is None else expected
    return _text(actual), _text(expected)


#: The assertion operators of `Get Form Field Value`, a small subset of robotframework-assertion-engine.
OPERATORS: dict[str, Callable[[object, object], bool]] = {
    "==": lambda a, e: a == e,
    "!=": lambda a, e: a != e,
    "contains": lambda a, e: str(e) in str(a),
    "not contains": lambda a, e: str(e) not in str(a),
    "starts": lambda a, e: str(a).startswith(str(e)),
    "ends": lambda a, e: str(a).endswith(str(e)),
    "matches": lambda a, e: re.search(str(e), str(a)) is not None,
}
_ALIASES = {"equal": "==", "equals": "==", "should be": "==", "should not be": "!=", "inequal": "!="}


class FormFieldKeywords(PdfComponent):
    """Read, check and fill AcroForm fields."""

    @keyword
    def get_form_fields(self, path: str | Path) -> dict[str, FieldValue]:
        """Returns all fields of the PDF form as a dictionary of field name to value.

        | =Arguments= | =Description= |
        | ``path``    | The PDF file. |

        Names are the form's hierarchical names joined with dots (``kind.geburtsdatum``), in the order of
        the form. Text fields give a string or ``None`` when empty, checkboxes ``True``/``False``, radio
        groups and choice fields the selected export value or ``None``. A PDF without a form gives an
        empty dictionary. Reads only the form, not the pages, so it is fast on long documents.

        Example:
        | ${felder}=    Get Form Fields    ${ANTRAG}
        | Should Be Equal    ${felder}[antragsteller.ort]    Gießen
        | Should Be True    ${felder}[anlagen.geburtsurkunde]

        See `Get Form Field Value` for one field and `Fill Form` to write values.
        """
        return reader.read_fields(path)

    @keyword
    def get_form_field_value(
        self,
        path: str | Path,
        name: str,
        assertion_operator: str | None = None,
        expected: FieldValue = None,
        message: str | None = None,
    ) -> FieldValue:
        """Returns the value of one form field, optionally checking it first.

        | =Arguments= | =Description= |
        | ``path`` | The PDF file. |
        | ``name`` | Field name with dots, as `Get Form Fields` shows it, e.g. ``kind.name``. |
        | ``assertion_operator`` | Optional check, see below. |
        | ``expected`` | The value the check compares with. |
        | ``message`` | Replaces the failure message of the check. |

        Checks: ``==``, ``!=``, ``contains``, ``not contains``, ``starts``, ``ends`` and ``matches``
        (regular expression). Checkboxes compare as booleans (``True``, ``ja``, ``nein`` ...), other
        fields as text, an empty field as empty text. A failed check fails the keyword.

        An unknown field name fails with ``UnknownFieldError``, listing the fields the form has.

        Example:
        | ${name}=    Get Form Field Value    ${ANTRAG}    kind.name
        | Get Form Field Value    ${ANTRAG}    kind.name    ==    Müller
        | Get Form Field Value    ${ANTRAG}    anlagen.geburtsurkunde    ==    ${True}
        | Get Form Field Value    ${ANTRAG}    antragsteller.plz    matches    ^\\\\d{5}$

        See `Get Form Fields` for all fields at once.
        """
        fields = reader.read_fields(path)
        if name not in fields:
            raise UnknownFieldError(path, name, fields)
        value = fields[name]
        if assertion_operator:
            _check(name, value, assertion_operator, expected, message)
        return value

    @keyword
    def fill_form(
        self,
        path: str | Path,
        values: Mapping[str, FieldValue],
        output: str | Path,
        flatten: bool = False,
    ) -> str:
        """Writes a copy of the PDF form with the given values and returns its path.

        | =Arguments= | =Description= |
        | ``path`` | The form to fill; it is not changed. |
        | ``values`` | Dictionary of field name (with dots) to value, see below. |
        | ``output`` | Where to write the filled copy; folders are created. May be ``path`` itself. |
        | ``flatten`` | ``True`` draws the values into the pages and removes the form fields. |

        Values: text for text fields (``None`` empties the field), ``True``/``False`` or ``ja``/``nein``
        for checkboxes, one of the export values for radio groups and choice fields. A flattened form
        can no longer be edited; its values are then part of the page text.

        Unknown field names fail with ``UnknownFieldError`` and values that a radio group or choice field
        does not offer with ``InvalidFieldValueError``; no file is written then. Umlauts and ß are kept.

        Example:
        | &{werte}=    Create Dictionary    kind.name=Müller    anlagen.geburtsurkunde=${True}
        | Fill Form    ${VORLAGE}    ${werte}    ${OUTPUT_DIR}/antrag.pdf
        | Fill Form    ${VORLAGE}    ${werte}    ${OUTPUT_DIR}/bescheid.pdf    flatten=True

        See `Get Form Fields` to read the values back.
        """
        return str(reader.fill_form(path, dict(values), output, flatten=flatten))


def _check(name: str, value: FieldValue, operator: str, expected: object, message: str | None) -> None:
    key = _ALIASES.get(operator.strip().lower(), operator.strip().lower())
    check = OPERATORS.get(key)
    if check is None:
        raise ValueError(
            f"Unbekannter Vergleich '{operator}'. Erlaubt: {', '.join(OPERATORS)}."
        )
    actual, wanted = _normalize(value, expected)
    if not check(actual, wanted):
        raise AssertionError(
            message or f"Feld '{name}' hat den Wert '{_text(value)}', erwartet {key} '{_text(expected)}'."
        )
