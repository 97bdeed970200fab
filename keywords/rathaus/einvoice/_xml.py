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
        """The first match's text, whitespace collapsed; ``None`` when absent or empty."""
        for found in self.nodes(node, path, **variables):
            value = found if isinstance(found, str) else "".join(found.itertext())
            value = " ".join(value.split())
            if value:
                return value
        return None

    def currencies(self, root: Any, tax_totals: list[Any]) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
        """The stated ``currencyID`` values: those of ``tax_totals`` (the document level VAT totals) in order,
        and (element name, currencyID) of every other element that states one, each pair once."""
        taxes: list[str] = []
        amounts: dict[tuple[str, str], None] = {}
        for element in self.nodes(root, "//*[@currencyID]"):
            currency = " ".join(element.get("currencyID").split())
            if not currency:
                continue
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
            return date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
        except ValueError:
            raise InvalidValueError(self.source, term, value, expected) from None

    def indicator(self, node: Any, path: str, term: str) -> bool:
        value = (self.text(node, path) or "").lower()
        if value not in ("true", "false", "1", "0"):
            raise InvalidValueError(self.source, term, value, "true oder false")
        return value in ("true", "1")
