"""The official verdict: a KoSIT validator configuration (``scenarios.xml`` + ``resources/``) run with Saxon-HE.

Public bodies decide on e-invoices with the KoSIT validator and its configuration for XRechnung. This module
runs such a configuration from a folder it is given, the way the validator decides
(``../shared/corpora/kosit-xrechnung-config/README.md``):

1. the first ``<scenario>`` whose ``<match>`` XPath holds for the document is taken; none → reject;
2. the scenario's XML Schema (``validateWithXmlSchema``); invalid → reject, the Schematron is not run;
3. each ``validateWithSchematron`` stylesheet (compiled Schematron, XSLT 2.0) runs on Saxon-HE
   (``saxonche``); every ``svrl:failed-assert`` (and ``svrl:successful-report``) is a message whose level
   comes from its ``flag`` (``fatal``/``error`` → error, ``warning``, ``information``; none → error);
4. the scenario's ``<customLevel level="…">RULE …</customLevel>`` overrides the level of those rules;
5. accepted when the schema is valid and no message is at level error; warnings never reject.

The folder is configuration, never part of this repository (its files carry EUPL and Apache licences of
their own). It is named by the caller, ``--kosit DIR``, or the environment variable
``RATHAUS_KOSIT_CONFIG`` (:func:`configured_folder`).

Cost: the stylesheets are compiled once per process and folder (about 1.5 s and 200 MB for XRechnung's
four) and reused; one check then takes a few milliseconds (``benchmarks/bench_einvoice_official.py``).
The XML Schema check runs on libxml2 (lxml): Saxon-HE has no schema validation, and the XSDs are XSD 1.0.

Hostile input: the document is parsed by the project's safe parser first (no DTD, no entities, libxml2's
size and depth limits), so Saxon only ever sees a document without a DTD.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from lxml import etree

from rathaus.einvoice import _xml
from rathaus.einvoice.errors import (
    EmptyInvoiceFileError,
    InvoiceFileMissingError,
    InvoiceTooLargeError,
    KositConfigurationError,
    NotXmlError,
    file_label,
)

#: The environment variable that names the configuration folder when no folder is given.
ENV_VARIABLE = "RATHAUS_KOSIT_CONFIG"

#: KoSIT's scenario namespace.
SCENARIO_NS = "http://www.xoev.de/de/validator/framework/1/scenarios"
_SVRL = "http://purl.oclc.org/dsdl/svrl"

#: Levels of a message, as the KoSIT validator names them.
ERROR, WARNING, INFORMATION = "error", "warning", "information"
_FLAGS = {"fatal": ERROR, "error": ERROR, "warning": WARNING, "information": INFORMATION, "info": INFORMATION}

#: Rule ids for what the configuration decides outside any Schematron rule.
NO_SCENARIO = "NO-SCENARIO"
SCHEMA = "SCHEMA"

#: At most this many XML Schema messages are kept (an invoice full of errors would otherwise list thousands).
MAX_SCHEMA_MESSAGES = 25
#: Largest XML document checked (bytes); e-invoices are far smaller, mails bring at most 20 MB attachments.
MAX_XML_BYTES = 50 * 1024 * 1024

_RULE_PREFIX = re.compile(r"^\s*\[([A-Za-z0-9_.\-]+)\]\s*-?\s*")


@dataclass(frozen=True)
class OfficialMessage:
    """One message of the official check: rule id, level, text and where in the document."""

    rule: str
    level: str
    text: str
    location: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "level": self.level, "text": self.text, "location": self.location}

    def __str__(self) -> str:
        return f"[{self.rule}] {self.text}"


@dataclass(frozen=True, repr=False)
class OfficialVerdict:
    """What the official rules decide on one document: accepted or not, the scenario, the messages."""

    accepted: bool
    #: name of the scenario that matched, ``None`` when none did
    scenario: str | None
    errors: tuple[OfficialMessage, ...]
    warnings: tuple[OfficialMessage, ...]
    information: tuple[OfficialMessage, ...] = ()
    #: the file name the document came from
    source: str = ""
    #: name of the XML inside a PDF, ``None`` for plain XML
    attachment: str | None = None
    #: the configuration's name (``Validator Configuration XRechnung 3.0.2``)
    configuration: str = ""

    @property
    def rules(self) -> list[str]:
        """Ids of the rules at level error, in the order reported, each once."""
        return list(dict.fromkeys(message.rule for message in self.errors))

    def as_dict(self) -> dict[str, Any]:
        """``{"accepted", "scenario", "errors", "warnings"}`` as ``rathaus invoice check --json`` prints it."""
        return {
            "accepted": self.accepted,
            "scenario": self.scenario,
            "errors": [message.as_dict() for message in self.errors],
            "warnings": [message.as_dict() for message in self.warnings],
        }

    def __repr__(self) -> str:
        state = "angenommen" if self.accepted else f"abgelehnt ({', '.join(self.rules)})"
        return f"<Amtliche Prüfung {self.source}: {state}, Szenario {self.scenario or 'keines'}>"

    __str__ = __repr__


@dataclass(frozen=True)
class Scenario:
    """One ``<scenario>`` of ``scenarios.xml``: match, schema, stylesheets and custom levels."""

    name: str
    namespaces: Mapping[str, str]
    match: str
    schema: Path | None
    schematrons: tuple[Path, ...]
    custom_levels: Mapping[str, str] = field(default_factory=dict)


# -- Saxon, once per process --------------------------------------------------------------------------

_LOCK = threading.RLock()
_PROCESSOR: list[Any] = []  # the one processor, once created
_STYLESHEETS: dict[str, Any] = {}
_SCHEMAS: dict[str, Any] = {}
_CONFIGURATIONS: dict[str, KositConfiguration] = {}


def _saxon() -> Any:
    """The process's one Saxon-HE processor (created on first use; saxonche loads only then)."""
    with _LOCK:
        if not _PROCESSOR:
            from saxonche import PySaxonProcessor

            _PROCESSOR.append(PySaxonProcessor(license=False))
        return _PROCESSOR[0]


def _compile(path: Path | None, text: str | None, folder: Path) -> Any:
    """A compiled stylesheet from a file (cached by its absolute path) or from text (not cached)."""
    key = str(path) if path is not None else None
    with _LOCK:
        if key is not None and key in _STYLESHEETS:
            return _STYLESHEETS[key]
        compiler = _saxon().new_xslt30_processor()
        try:
            if path is not None:
                compiled = compiler.compile_stylesheet(stylesheet_file=str(path))
            else:
                compiled = compiler.compile_stylesheet(stylesheet_text=text, encoding="UTF-8")
        except Exception as error:  # PySaxonApiError: a static error in the stylesheet
            what = f"Das Prüfskript '{path.relative_to(folder) if path else 'scenarios.xml (match)'}'"
            raise KositConfigurationError(
                folder, f"{what} lässt sich nicht übersetzen ({_first_line(error)})"
            ) from None
        if key is not None:
            _STYLESHEETS[key] = compiled
        return compiled


def _schema(path: Path, folder: Path) -> Any:
    key = str(path)
    with _LOCK:
        if key not in _SCHEMAS:
            try:
                parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
                _SCHEMAS[key] = etree.XMLSchema(etree.parse(str(path), parser))
            except (etree.XMLSchemaParseError, etree.XMLSyntaxError, OSError) as error:
                raise KositConfigurationError(
                    folder, f"Das XML-Schema '{path.relative_to(folder)}' lässt sich nicht lesen ({_first_line(error)})"
                ) from None
        return _SCHEMAS[key]


def _first_line(error: object) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return " ".join((lines[0] if lines else type(error).__name__).split())[:200]


# -- the configuration --------------------------------------------------------------------------------


def configured_folder(folder: str | Path | None = None) -> Path:
    """The configuration folder: ``folder`` if given, else ``RATHAUS_KOSIT_CONFIG``; fails without either."""
    chosen = folder if folder not in (None, "") else os.environ.get(ENV_VARIABLE, "").strip()
    if not chosen:
        raise KositConfigurationError(
            None,
            "Keine Konfiguration der amtlichen Prüfregeln angegeben. Bitte den Ordner einer entpackten "
            f"KoSIT-Prüfkonfiguration für XRechnung mit --kosit ORDNER oder der Umgebungsvariablen {ENV_VARIABLE} "
            "angeben",
        )
    return Path(chosen).expanduser()


class KositConfiguration:
    """A loaded KoSIT validator configuration: its scenarios with their compiled stylesheets and schemas.

    Get one with :meth:`load`, which caches by folder: the stylesheets are compiled once per process.
    """

    def __init__(self, folder: Path, name: str, scenarios: tuple[Scenario, ...]) -> None:
        self.folder = folder
        self.name = name
        self.scenarios = scenarios
        self._match = _compile(None, _match_stylesheet(scenarios), folder)
        for scenario in scenarios:  # compile and parse everything now, so that each check is fast
            if scenario.schema is not None:
                _schema(scenario.schema, folder)
            for stylesheet in scenario.schematrons:
                _compile(stylesheet, None, folder)

    def __repr__(self) -> str:
        return f"<KoSIT-Konfiguration {self.name} ({len(self.scenarios)} Szenarien)>"

    @classmethod
    def load(cls, folder: str | Path | None = None) -> KositConfiguration:
        """The configuration in ``folder`` (or ``RATHAUS_KOSIT_CONFIG``), loaded and compiled once per process.

        Raises :class:`KositConfigurationError` with a German message naming the folder when it is no
        KoSIT configuration (no ``scenarios.xml``, a file it names is missing, a stylesheet is broken).
        """
        path = configured_folder(folder)
        try:
            key = str(path.resolve(strict=True))
        except OSError:
            raise KositConfigurationError(path, "Der Ordner existiert nicht") from None
        with _LOCK:
            if key not in _CONFIGURATIONS:
                name, scenarios = _read_scenarios(Path(key))
                _CONFIGURATIONS[key] = cls(Path(key), name, scenarios)
            return _CONFIGURATIONS[key]

    # -- checking -------------------------------------------------------------------------------------

    def check_file(self, path: str | Path) -> OfficialVerdict:
        """The verdict on an XML invoice or a PDF with an embedded invoice (ZUGFeRD / Factur-X).

        Raises the e-invoice library's errors (``FILE-MISSING``, ``SYNTAX-…``, ``PDF-…``) when the file
        cannot be read or holds no invoice: there is nothing the official rules could decide on.
        """
        path = Path(path)
        try:
            size = path.stat().st_size
            if size > MAX_XML_BYTES * 2:
                raise InvoiceTooLargeError(path, size, MAX_XML_BYTES * 2)
            data = path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise InvoiceFileMissingError(path) from None
        except OSError as error:
            raise InvoiceFileMissingError(path, f"nicht gelesen ({error.strerror or error})") from None
        return self.check_data(data, path.name)

    def check_data(self, data: bytes, name: str) -> OfficialVerdict:
        """The verdict on an invoice given as bytes (XML, or a PDF with the XML embedded)."""
        from rathaus.einvoice.reader import extract_invoice_xml_data, is_pdf

        source = file_label(name)
        if not data.strip():
            raise EmptyInvoiceFileError(source)
        attachment = None
        if is_pdf(data):
            attachment, data = extract_invoice_xml_data(data, source)
        return self.check_xml(data, source, attachment)

    def check_xml(self, data: bytes, source: str, attachment: str | None = None) -> OfficialVerdict:
        """The verdict on an invoice XML document."""
        label = f"{source} (Anlage {attachment})" if attachment else source
        if len(data) > MAX_XML_BYTES:
            raise InvoiceTooLargeError(label, len(data), MAX_XML_BYTES)
        stripped = data.lstrip(b"\xef\xbb\xbf \t\r\n")
        if not stripped.startswith(b"<") and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise NotXmlError(label)
        root, syntax = _xml.parse(data, label)  # refuses DTDs and anything that is no UBL / CII invoice
        text = etree.tostring(root, encoding="unicode")
        with _LOCK:
            document = _saxon().parse_xml(xml_text=text, encoding="UTF-8")
            chosen = self._scenario(document)
        verdict = {"source": source, "attachment": attachment, "configuration": self.name}
        if chosen is None:
            return OfficialVerdict(False, None, (_no_scenario(root, syntax, self),), (), **verdict)
        messages: list[OfficialMessage] = []
        if chosen.schema is not None:
            messages = _schema_messages(_schema(chosen.schema, self.folder), root)
        if not messages:
            for stylesheet in chosen.schematrons:
                with _LOCK:
                    report = _compile(stylesheet, None, self.folder).transform_to_string(xdm_node=document)
                messages += _svrl_messages(report, chosen.custom_levels)
        by_level: dict[str, list[OfficialMessage]] = {ERROR: [], WARNING: [], INFORMATION: []}
        for message in messages:
            by_level[message.level].append(message)
        return OfficialVerdict(
            not by_level[ERROR], chosen.name, tuple(by_level[ERROR]), tuple(by_level[WARNING]),
            tuple(by_level[INFORMATION]), **verdict,
        )

    def _scenario(self, document: Any) -> Scenario | None:
        index = (self._match.transform_to_string(xdm_node=document) or "").strip()
        return self.scenarios[int(index)] if index.isdigit() else None


def check_invoice_file(path: str | Path, folder: str | Path | None = None) -> OfficialVerdict:
    """The official verdict on one file with the configuration in ``folder`` (or ``RATHAUS_KOSIT_CONFIG``)."""
    return KositConfiguration.load(folder).check_file(path)


def check_invoice_data(data: bytes, name: str, folder: str | Path | None = None) -> OfficialVerdict:
    """The official verdict on an invoice given as bytes, e.g. a mail attachment."""
    return KositConfiguration.load(folder).check_data(data, name)


# -- reading scenarios.xml ----------------------------------------------------------------------------


def _read_scenarios(folder: Path) -> tuple[str, tuple[Scenario, ...]]:
    file = folder / "scenarios.xml"
    if not file.is_file():
        raise KositConfigurationError(
            folder, "Er enthält keine Datei scenarios.xml; erwartet ist eine entpackte KoSIT-Prüfkonfiguration"
        )
    try:
        root = etree.parse(str(file), etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
    except (etree.XMLSyntaxError, OSError) as error:
        raise KositConfigurationError(folder, f"scenarios.xml ist kein lesbares XML ({_first_line(error)})") from None
    ns = {"s": SCENARIO_NS}
    scenarios = []
    for element in root.iterfind("s:scenario", ns):
        name = " ".join(element.findtext("s:name", "", ns).split())
        match = " ".join(element.findtext("s:match", "", ns).split())
        if not match:
            raise KositConfigurationError(folder, f"Szenario '{name}' in scenarios.xml hat kein <match>")
        namespaces = {
            item.get("prefix", ""): (item.text or "").strip() for item in element.iterfind("s:namespace", ns)
        }
        schema = element.findtext("s:validateWithXmlSchema/s:resource/s:location", None, ns)
        schematrons = [
            (item.text or "").strip()
            for item in element.iterfind("s:validateWithSchematron/s:resource/s:location", ns)
        ]
        custom = {}
        for level in element.iterfind(".//s:customLevel", ns):
            value = (level.get("level") or "").strip().lower()
            if value not in (ERROR, WARNING, INFORMATION):
                raise KositConfigurationError(
                    folder, f"Szenario '{name}': unbekannte Stufe '{value}' in <customLevel>"
                )
            custom.update({rule: value for rule in (level.text or "").split()})
        scenarios.append(Scenario(
            name=name,
            namespaces=namespaces,
            match=match,
            schema=_resource(folder, schema.strip()) if schema else None,
            schematrons=tuple(_resource(folder, location) for location in schematrons),
            custom_levels=custom,
        ))
    if not scenarios:
        raise KositConfigurationError(folder, "scenarios.xml enthält kein <scenario>")
    name = " ".join(root.getroot().findtext("s:name", "", ns).split()) or folder.name
    return name, tuple(scenarios)


def _resource(folder: Path, location: str) -> Path:
    path = (folder / location).resolve()
    if folder not in path.parents or not path.is_file():
        raise KositConfigurationError(folder, f"Die Datei '{location}', die scenarios.xml nennt, fehlt")
    return path


def _match_stylesheet(scenarios: tuple[Scenario, ...]) -> str:
    """One XSLT that gives the index of the first scenario whose match holds, or nothing."""
    whens = []
    for index, scenario in enumerate(scenarios):
        declarations = " ".join(
            f"xmlns:{prefix}={quoteattr(uri)}" for prefix, uri in scenario.namespaces.items() if prefix
        )
        whens.append(f"<xsl:when {declarations} test={quoteattr(scenario.match)}>{index}</xsl:when>")
    return (
        '<xsl:stylesheet version="3.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">'
        '<xsl:output method="text"/><xsl:template match="/"><xsl:choose>'
        + "".join(whens)
        + "<xsl:otherwise/></xsl:choose></xsl:template></xsl:stylesheet>"
    )


# -- messages -----------------------------------------------------------------------------------------


def _schema_messages(schema: Any, root: Any) -> list[OfficialMessage]:
    if schema.validate(root):
        return []
    messages = []
    for entry in list(schema.error_log)[:MAX_SCHEMA_MESSAGES]:
        text = " ".join(str(entry.message).split())
        messages.append(OfficialMessage(SCHEMA, ERROR, f"XML-Schema: {text}", f"Zeile {entry.line}"))
    return messages


def _svrl_messages(report: str, custom_levels: Mapping[str, str]) -> list[OfficialMessage]:
    root = etree.fromstring(report.encode("utf-8"), etree.XMLParser(resolve_entities=False, huge_tree=True))
    messages = []
    for element in root.iter(f"{{{_SVRL}}}failed-assert", f"{{{_SVRL}}}successful-report"):
        text = " ".join("".join(element.findtext(f"{{{_SVRL}}}text") or "").split())
        rule = (element.get("id") or "").strip()
        found = _RULE_PREFIX.match(text)
        if found and (not rule or found.group(1) == rule):
            rule = rule or found.group(1)
            text = text[found.end():]
        rule = rule or "SCHEMATRON"
        level = custom_levels.get(rule) or _FLAGS.get((element.get("flag") or "").strip().lower(), ERROR)
        messages.append(OfficialMessage(rule, level, text, element.get("location") or ""))
    return messages


def _no_scenario(root: Any, syntax: str, configuration: KositConfiguration) -> OfficialMessage:
    path = (
        "cbc:CustomizationID" if syntax == "UBL"
        else "rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID"
    )
    found = _xml.Values("").text(root, path)
    stated = f"'{found[:120]}'" if found else "keine"
    return OfficialMessage(
        NO_SCENARIO,
        ERROR,
        f"Kein Prüfszenario der Konfiguration '{configuration.name}' gilt für dieses Dokument "
        f"(Spezifikationskennung BT-24: {stated}); angenommen werden nur Rechnungen nach den Standards, "
        "die die Konfiguration nennt (z. B. XRechnung 3.0).",
        "/",
    )
