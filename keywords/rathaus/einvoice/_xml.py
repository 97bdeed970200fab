"""Safe XML parsing and typed value access for the syntax mappings (UBL, CII).

The parser never resolves entities, never loads a DTD or anything from the network, and keeps
libxml2's size limits (``huge_tree`` off), so an invoice cannot read local files (XXE) or blow up
memory (entity expansion). A document with a DTD is refused outright: neither UBL nor CII uses one.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from lxml import etree

from rathaus.einvoice.errors import InvalidValueError, NotXmlError, UnknownRootError, UnsafeXmlError

NS = {
    "ubl": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "cn": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
}

#: Root element (Clark notation) -> syntax.
ROOTS = {
    f"{{{NS['ubl']}}}Invoice": "UBL",
    f"{{{NS['cn']}}}CreditNote": "UBL",
    f"{{{NS['rsm']}}}CrossIndustryInvoice": "CII",
}
_ZUGFERD_1 = "urn:ferd:CrossIndustryDocument:invoice:1p0"

_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")

#: Bounds of every value read, checked before any arithmetic: an amount, quantity, price or rate has at most
#: this many digits before and after the decimal point (a trillion euros has 13; Decimal's default context
#: computes 28 significant digits, the rules 60, so sums of such values stay exact and never raise).
MAX_INTEGER_DIGITS = 15
MAX_FRACTION_DIGITS = 12
#: Dates outside these years are refused (an invoice dated 0001 or 9999 is a typing error or an attack).
MIN_YEAR, MAX_YEAR = 1900, 2199
#: Longest text of one element (names, ids, codes); longer text is no invoice data but padding.
MAX_TEXT = 1000
#: Longest code (currency, unit, VAT category, type code); real codes have 1 to 4 characters.
MAX_CODE = 35
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:Z|[+-]\d{2}:\d{2})?")
_CII_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")


def _parser() -> etree.XMLParser:
    # a new parser per document: lxml parsers must not be shared between threads
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False,
        remove_comments=True, remove_pis=True,
    )


def parse(data: bytes, source: str) -> tuple[Any, str]:
    """Parse ``data`` and return the root element and the syntax (``UBL``/``CII``).

    Raises :class:`NotXmlError`, :class:`UnsafeXmlError` or :class:`UnknownRootError`.
    """
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as error:
        line, column = (error.position or (error.lineno, 0))[:2]
        raise NotXmlError(source, f"Fehler in Zeile {line}, Spalte {column}") from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise UnsafeXmlError(source)
    syntax = ROOTS.get(root.tag)
    if syntax is None:
        qname = etree.QName(root)
        hint = f" (Namensraum '{qname.namespace}')" if qname.namespace else " (ohne Namensraum)"
        if qname.namespace == _ZUGFERD_1:
            hint = " (ZUGFeRD 1.0 ist veraltet und wird nicht angenommen)"
        raise UnknownRootError(source, qname.localname, hint)
    return root, syntax


class Values:
    """Typed values below one element; failures name the business term and the file."""

    def __init__(self, source: str) -> None:
        self.source = source

    @staticmethod
    def nodes(node: Any, path: str, **variables: Any) -> list[Any]:
        return node.xpath(path, namespaces=NS, **variables)

    def node(self, node: Any, path: str, **variables: Any) -> Any | None:
        found = self.nodes(node, path, **variables)
        return found[0] if found else None

    def text(self, node: Any, path: str, **variables: Any) -> str | None:
        """The first match's text, whitespace collapsed; ``None`` when absent or empty.

        Text longer than :data:`MAX_TEXT` characters raises :class:`InvalidValueError`.
        """
        for found in self.nodes(node, path, **variables):
            value = found if isinstance(found, str) else "".join(found.itertext())
            if len(value) > MAX_TEXT * 4:  # do not even split megabytes of padding
                raise self._too_long(path, value, MAX_TEXT)
            value = " ".join(value.split())
            if len(value) > MAX_TEXT:
                raise self._too_long(path, value, MAX_TEXT)
            if value:
                return value
        return None

    def code(self, node: Any, path: str, **variables: Any) -> str | None:
        """A code (currency, unit, category): text of at most :data:`MAX_CODE` characters."""
        value = self.text(node, path, **variables)
        if value is not None and len(value) > MAX_CODE:
            raise self._too_long(path, value, MAX_CODE)
        return value

    def _too_long(self, path: str, value: str, limit: int) -> InvalidValueError:
        element = path.split("|", maxsplit=1)[0].strip().rsplit("/", 1)[-1]
        return InvalidValueError(
            self.source, f"dem Element {element}", value[:60], f"ein Wert mit höchstens {limit} Zeichen "
            f"(angegeben sind {len(value)})",
        )

    def currencies(self, root: Any, tax_totals: list[Any]) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
        """The stated ``currencyID`` values: those of ``tax_totals`` (the document level VAT totals) in order,
        and (element name, currencyID) of every other element that states one, each pair once."""
        taxes: list[str] = []
        amounts: dict[tuple[str, str], None] = {}
        for element in self.nodes(root, "//*[@currencyID]"):
            currency = " ".join(element.get("currencyID")[: MAX_CODE * 4].split())
            if not currency:
                continue
            if len(currency) > MAX_CODE:
                raise self._too_long(f"{etree.QName(element).localname}/@currencyID", currency, MAX_CODE)
            if any(element is total for total in tax_totals):
                taxes.append(currency)
            else:
                amounts[(etree.QName(element).localname, currency)] = None
        return tuple(taxes), tuple(amounts)

    def amount(self, node: Any, path: str, term: str, **variables: Any) -> Decimal | None:
        value = self.text(node, path, **variables)
        if value is None:
            return None
        if not _DECIMAL.fullmatch(value):
            raise InvalidValueError(self.source, term, value, "ein Betrag wie 1234.50")
        whole, _, fraction = value.lstrip("+-").partition(".")
        if (
            len(whole.lstrip("0")) > MAX_INTEGER_DIGITS
            or len(fraction.rstrip("0")) > MAX_FRACTION_DIGITS
            or len(value) > MAX_INTEGER_DIGITS + MAX_FRACTION_DIGITS + 20  # padding zeros
        ):
            raise InvalidValueError(
                self.source, term, value, f"ein Betrag mit höchstens {MAX_INTEGER_DIGITS} Stellen vor und "
                f"{MAX_FRACTION_DIGITS} nach dem Komma",
            )
        return Decimal(value)

    def iso_date(self, node: Any, path: str, term: str) -> date | None:
        value = self.text(node, path)
        if value is None:
            return None
        found = _ISO_DATE.fullmatch(value)
        return self._date(found, value, term, "ein Datum wie 2025-03-31")

    def cii_date(self, node: Any, path: str, term: str) -> date | None:
        """A CII ``udt:DateTimeString``; XRechnung allows only format 102 (``YYYYMMDD``)."""
        element = self.node(node, path)
        value = self.text(node, path)
        if element is None or value is None:
            return None
        if element.get("format", "102") != "102":
            raise InvalidValueError(self.source, term, value, "ein Datum im Format 102 (JJJJMMTT)")
        return self._date(_CII_DATE.fullmatch(value), value, term, "ein Datum wie 20250331")

    def _date(self, found: re.Match[str] | None, value: str, term: str, expected: str) -> date:
        try:
            if found is None:
                raise ValueError(value)
            day = date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
        except ValueError:
            raise InvalidValueError(self.source, term, value, expected) from None
        if not MIN_YEAR <= day.year <= MAX_YEAR:
            raise InvalidValueError(
                self.source, term, value, f"ein Datum zwischen den Jahren {MIN_YEAR} und {MAX_YEAR}"
            )
        return day

    def indicator(self, node: Any, path: str, term: str) -> bool:
        value = (self.text(node, path) or "").lower()
        if value not in ("true", "false", "1", "0"):
            raise InvalidValueError(self.source, term, value, "true oder false")
        return value in ("true", "1")
