"""Writing, checking and reading the open data publication of one city.

Per year the target folder holds::

    nutzungsstatistik-<stadt>-<jahr>.csv             UTF-8, comma, CRLF, columns in kennzahlen.SPALTEN order
    nutzungsstatistik-<stadt>-<jahr>.json            the same rows, nested, with title and licence
    nutzungsstatistik-<stadt>-<jahr>.png / .svg      the chart (optional)
    nutzungsstatistik-<stadt>-<jahr>.metadaten.json  DCAT-AP.de metadata as JSON-LD

and once for all years ``datapackage.json`` (Frictionless Data Package), ``nutzungsstatistik.tableschema.json``
(Frictionless Table Schema of the CSV) and ``nutzungsstatistik.schema.json`` (JSON Schema of the JSON).

Every file is built in memory and checked against its schema before the first one is written; a file whose
content did not change is not written again, so a repeated run leaves the folder byte for byte as it was,
including the ``modified`` date of the metadata. Each file is replaced atomically (``os.replace``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from jsonschema import Draft202012Validator, FormatChecker
from rathaus.errors import ApplicationError

from nutzungsstatistik.kennzahlen import (
    AUTHENTIFIZIERUNGEN,
    GRUNDZAHLEN,
    KENNZAHLEN,
    SPALTEN,
    ZAHLUNGSARTEN,
    Kennzahlen,
    Schluessel,
)

SCHEMAS = Path(__file__).resolve().parent / "schemas"
TABLESCHEMA = "nutzungsstatistik.tableschema.json"
JSONSCHEMA = "nutzungsstatistik.schema.json"
DATAPACKAGE = "datapackage.json"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

#: Licences a city may choose, with their DCAT-AP.de URIs.
LIZENZEN = {
    "dl-de/by-2-0": {
        "name": "Datenlizenz Deutschland – Namensnennung – Version 2.0",
        "url": "https://www.govdata.de/dl-de/by-2-0",
        "dcat": "http://dcat-ap.de/def/licenses/dl-by-de/2.0",
        "paket": "dl-de-by-2.0",
    },
    "dl-de/zero-2-0": {
        "name": "Datenlizenz Deutschland – Zero – Version 2.0",
        "url": "https://www.govdata.de/dl-de/zero-2-0",
        "dcat": "http://dcat-ap.de/def/licenses/dl-zero-de/2.0",
        "paket": "dl-de-zero-2.0",
    },
    "cc-by-4.0": {
        "name": "Creative Commons Namensnennung – 4.0 International",
        "url": "https://creativecommons.org/licenses/by/4.0/",
        "dcat": "http://dcat-ap.de/def/licenses/cc-by/4.0",
        "paket": "CC-BY-4.0",
    },
}
_EU = "http://publications.europa.eu/resource/authority"
_FORMATE = {
    "csv": ("CSV", "text/csv"),
    "json": ("JSON", "application/json"),
    "png": ("PNG", "image/png"),
    "svg": ("SVG", "image/svg+xml"),
}


class PublicationError(ApplicationError):
    """The publication does not match its schema or cannot be written: fix the cause and run again."""

    code = "VEROEFFENTLICHUNG"


@dataclass(frozen=True)
class Angaben:
    """Who publishes what under which licence: the ``veroeffentlichung`` settings plus the city's data."""

    stadt: str
    herausgeber: str
    titel: str = "Nutzung der Onlinedienste"
    beschreibung: str = (
        "Monatliche Nutzungszahlen der Onlinedienste: Aufrufe, abgeschlossene und abgebrochene Anträge sowie "
        "abgeschlossene Anträge nach Zahlungsart und Authentifizierung (BundID, ELSTER, ohne Anmeldung), je "
        "Onlinedienst und Plattform."
    )
    lizenz: str = "dl-de/by-2-0"
    namensnennung: str = ""
    webseite: str = ""
    kontakt: str = ""
    schlagworte: tuple[str, ...] = ("Onlinedienste", "Onlinezugangsgesetz", "Nutzungsstatistik", "eGovSAD")
    diagramm: bool = True

    def __post_init__(self) -> None:
        if not self.namensnennung:  # the licence's attribution names the publisher unless told otherwise
            object.__setattr__(self, "namensnennung", self.herausgeber)

    @classmethod
    def aus_konfiguration(cls, config: Mapping[str, Any]) -> Angaben:
        """Builds the settings from a city's loaded configuration (with ``stadt_daten``)."""
        stadt = config.get("stadt_daten") or {}
        settings = config.get("veroeffentlichung") or {}
        amt = (stadt.get("aemter") or {}).get(config.get("amt") or "statistik") or {}
        name = str(stadt.get("name") or config["stadt"])
        defaults = cls(stadt=config["stadt"], herausgeber=name)
        return cls(
            stadt=str(config["stadt"]),
            herausgeber=name,
            titel=str(settings.get("titel") or defaults.titel),
            beschreibung=str(settings.get("beschreibung") or defaults.beschreibung),
            lizenz=str(settings.get("lizenz") or defaults.lizenz),
            namensnennung=str(settings.get("namensnennung") or name),
            webseite=str(stadt.get("website") or ""),
            kontakt=str(settings.get("kontakt") or amt.get("email") or stadt.get("email") or ""),
            schlagworte=tuple(settings.get("schlagworte") or defaults.schlagworte),
            diagramm=bool(settings.get("diagramm", True)),
        )

    def basisname(self, jahr: int) -> str:
        return f"nutzungsstatistik-{self.stadt}-{jahr}"

    def jahrestitel(self, jahr: int) -> str:
        return f"{self.titel} {jahr} – {self.herausgeber}"


@dataclass
class Ergebnis:
    """What a publication wrote: changed files, files left as they were, the target folder."""

    ordner: Path
    jahre: list[int] = field(default_factory=list)
    geschrieben: list[Path] = field(default_factory=list)
    unveraendert: list[Path] = field(default_factory=list)

    def __str__(self) -> str:
        return (f"Veröffentlichung in '{self.ordner}': {len(self.geschrieben)} Dateien geschrieben, "
                f"{len(self.unveraendert)} unverändert")

    __repr__ = __str__


# --- schemas ------------------------------------------------------------------------------------------


@cache
def _schema_bytes(name: str) -> bytes:
    return (SCHEMAS / name).read_bytes()


def tableschema() -> dict[str, Any]:
    """The Frictionless Table Schema of the published CSV."""
    return json.loads(_schema_bytes(TABLESCHEMA))


def jsonschema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the published JSON."""
    return json.loads(_schema_bytes(JSONSCHEMA))


# --- rendering ----------------------------------------------------------------------------------------


def _json_bytes(data: Any) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def csv_bytes(zeilen: Iterable[tuple[Schluessel, Kennzahlen]]) -> bytes:
    """The rows as CSV: header, then one line per row, in the order given."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(SPALTEN)
    for key, werte in zeilen:
        writer.writerow([key.monat, key.onlinedienst, key.plattform, *(werte[name] for name in KENNZAHLEN)])
    return buffer.getvalue().encode("utf-8")


def json_daten(zeilen: Iterable[tuple[Schluessel, Kennzahlen]], jahr: int, angaben: Angaben) -> dict[str, Any]:
    """The JSON document of one year."""
    lizenz = LIZENZEN[angaben.lizenz]
    return {
        "$schema": JSONSCHEMA,
        "titel": angaben.jahrestitel(jahr),
        "stadt": angaben.stadt,
        "herausgeber": angaben.herausgeber,
        "jahr": jahr,
        "lizenz": {
            "id": angaben.lizenz,
            "name": lizenz["name"],
            "url": lizenz["url"],
            "namensnennung": "" if angaben.lizenz == "dl-de/zero-2-0" else angaben.namensnennung,
        },
        "daten": [
            {
                "monat": key.monat,
                "onlinedienst": key.onlinedienst,
                "plattform": key.plattform,
                **{name: werte[name] for name in GRUNDZAHLEN},
                "zahlungsarten": {art: werte[f"zahlung_{art}"] for art in ZAHLUNGSARTEN},
                "authentifizierung": {art: werte[f"authentifizierung_{art}"] for art in AUTHENTIFIZIERUNGEN},
            }
            for key, werte in zeilen
        ],
    }


def _last_day(monat: str) -> str:
    year, month = int(monat[:4]), int(monat[5:7])
    following = date(year + month // 12, month % 12 + 1, 1)
    return date.fromordinal(following.toordinal() - 1).isoformat()


def metadaten(
    zeilen: list[tuple[Schluessel, Kennzahlen]], jahr: int, angaben: Angaben, geaendert: str,
    dateien: Mapping[str, bytes],
) -> dict[str, Any]:
    """DCAT-AP.de metadata (JSON-LD) of one year's dataset with its distributions."""
    lizenz = LIZENZEN[angaben.lizenz]
    monate = sorted({key.monat for key, _ in zeilen})
    dienste = sorted({key.onlinedienst for key, _ in zeilen})
    publisher: dict[str, Any] = {"@type": "foaf:Organization", "foaf:name": angaben.herausgeber}
    if angaben.webseite:
        publisher["foaf:homepage"] = {"@id": angaben.webseite}
    distributionen = []
    for name, inhalt in dateien.items():
        endung = name.rsplit(".", 1)[-1]
        art, medientyp = _FORMATE[endung]
        distribution = {
            "@type": "dcat:Distribution",
            "dct:title": f"{angaben.jahrestitel(jahr)} ({art})",
            "dcat:downloadURL": {"@id": name},
            "dcat:accessURL": {"@id": name},
            "dct:format": {"@id": f"{_EU}/file-type/{art}"},
            "dcat:mediaType": medientyp,
            "dcat:byteSize": len(inhalt),
            "spdx:checksum": {"@type": "spdx:Checksum", "spdx:algorithm": {"@id": "spdx:checksumAlgorithm_sha256"},
                              "spdx:checksumValue": hashlib.sha256(inhalt).hexdigest()},
            "dct:license": {"@id": lizenz["dcat"]},
            "dct:modified": geaendert,
        }
        if angaben.lizenz != "dl-de/zero-2-0":
            distribution["dcatde:licenseAttributionByText"] = angaben.namensnennung
        if endung == "csv":
            distribution["dct:conformsTo"] = {"@id": TABLESCHEMA}
        elif endung == "json":
            distribution["dct:conformsTo"] = {"@id": JSONSCHEMA}
        distributionen.append(distribution)
    dataset: dict[str, Any] = {
        "@context": {
            "dcat": "http://www.w3.org/ns/dcat#",
            "dct": "http://purl.org/dc/terms/",
            "dcatde": "http://dcat-ap.de/def/dcatde/",
            "foaf": "http://xmlns.com/foaf/0.1/",
            "spdx": "http://spdx.org/rdf/terms#",
            "vcard": "http://www.w3.org/2006/vcard/ns#",
        },
        "@type": "dcat:Dataset",
        "dct:identifier": angaben.basisname(jahr),
        "dct:title": angaben.jahrestitel(jahr),
        "dct:description": f"{angaben.beschreibung} Onlinedienste: {', '.join(dienste)}.",
        "dct:publisher": publisher,
        "dct:license": {"@id": lizenz["dcat"]},
        "dct:temporal": {
            "@type": "dct:PeriodOfTime",
            "dcat:startDate": f"{monate[0]}-01",
            "dcat:endDate": _last_day(monate[-1]),
        },
        "dct:modified": geaendert,
        "dct:accrualPeriodicity": {"@id": f"{_EU}/frequency/MONTHLY"},
        "dct:language": {"@id": f"{_EU}/language/DEU"},
        "dcat:theme": [{"@id": f"{_EU}/data-theme/GOVE"}],
        "dcat:keyword": list(angaben.schlagworte),
        "dcat:distribution": distributionen,
    }
    if angaben.kontakt:
        dataset["dcat:contactPoint"] = {"@type": "vcard:Organization", "vcard:fn": angaben.herausgeber,
                                        "vcard:hasEmail": {"@id": f"mailto:{angaben.kontakt}"}}
    return dataset


def datenpaket(angaben: Angaben, dateien: Mapping[str, bytes]) -> dict[str, Any]:
    """The Frictionless Data Package of all years' CSV and JSON files in ``dateien`` (name -> content)."""
    lizenz = LIZENZEN[angaben.lizenz]
    resources = []
    for name in sorted(dateien):
        inhalt = dateien[name]
        stem, endung = name.rsplit(".", 1)
        resource: dict[str, Any] = {
            "name": stem if endung == "csv" else f"{stem}-{endung}",
            "path": name,
            "title": f"{angaben.titel} {stem.rsplit('-', 1)[-1]} ({endung.upper()})",
            "format": endung,
            "mediatype": _FORMATE[endung][1],
            "encoding": "utf-8",
            "bytes": len(inhalt),
            "hash": f"sha256:{hashlib.sha256(inhalt).hexdigest()}",
        }
        if endung == "csv":
            resource["profile"] = "tabular-data-resource"
            resource["dialect"] = {"delimiter": ",", "lineTerminator": "\r\n", "header": True}
            resource["schema"] = TABLESCHEMA
        else:
            resource["profile"] = "data-resource"
        resources.append(resource)
    package: dict[str, Any] = {
        "profile": "data-package",
        "name": f"nutzungsstatistik-{angaben.stadt}",
        "title": f"{angaben.titel} – {angaben.herausgeber}",
        "description": angaben.beschreibung,
        "keywords": list(angaben.schlagworte),
        "licenses": [{"name": lizenz["paket"], "path": lizenz["url"], "title": lizenz["name"]}],
        "contributors": [{"title": angaben.herausgeber, "role": "publisher",
                          **({"path": angaben.webseite} if angaben.webseite else {})}],
        "resources": resources,
    }
    return package


# --- checks -------------------------------------------------------------------------------------------

_YEARMONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_INTEGER = re.compile(r"[+-]?\d+")


def pruefe_csv(inhalt: bytes, schema: Mapping[str, Any]) -> list[str]:
    """Checks CSV bytes against a Table Schema (the subset this publication uses); returns the problems.

    Checked: UTF-8, header equal to the fields in order, field types ``string``, ``integer`` and
    ``yearmonth``, the constraints ``required``, ``minimum``, ``minLength`` and ``pattern``, and the
    uniqueness of the primary key.
    """
    try:
        text = inhalt.decode("utf-8")
    except UnicodeDecodeError:
        return ["Die CSV-Datei ist nicht UTF-8-kodiert."]
    fields = schema["fields"]
    names = [f["name"] for f in fields]
    rows = csv.reader(io.StringIO(text, newline=""))
    problems: list[str] = []
    header = next(rows, None)
    if header != names:
        return [f"Kopfzeile {header} entspricht nicht den Feldern {names}."]
    key_positions = [names.index(k) for k in schema.get("primaryKey", [])]
    missing = set(schema.get("missingValues", [""]))
    keys: dict[tuple[str, ...], int] = {}
    for line, row in enumerate(rows, start=2):
        if len(row) != len(fields):
            problems.append(f"Zeile {line}: {len(row)} statt {len(fields)} Spalten.")
            continue
        for value, spec in zip(row, fields, strict=True):
            problems.extend(f"Zeile {line}, Spalte '{spec['name']}': {p}" for p in _check_cell(value, spec, missing))
        key = tuple(row[i] for i in key_positions)
        if key_positions and key in keys:
            problems.append(f"Zeile {line}: Primärschlüssel {key} wie in Zeile {keys[key]}.")
        keys.setdefault(key, line)
    return problems


def _check_cell(value: str, spec: Mapping[str, Any], missing: set[str]) -> list[str]:
    constraints = spec.get("constraints", {})
    if value in missing:
        return ["Pflichtwert fehlt."] if constraints.get("required") else []
    kind = spec.get("type", "string")
    problem = None
    if kind == "integer" and not _INTEGER.fullmatch(value):
        problem = f"'{value}' ist keine ganze Zahl."
    elif kind == "integer" and "minimum" in constraints and int(value) < constraints["minimum"]:
        problem = f"{value} ist kleiner als {constraints['minimum']}."
    elif kind == "yearmonth" and not _YEARMONTH.fullmatch(value):
        problem = f"'{value}' ist kein Monat JJJJ-MM."
    elif kind not in ("integer", "yearmonth", "string"):
        problem = f"Feldtyp '{kind}' wird nicht geprüft."
    elif "minLength" in constraints and len(value) < constraints["minLength"]:
        problem = "Wert ist zu kurz."
    elif "pattern" in constraints and not re.fullmatch(constraints["pattern"], value):
        problem = f"'{value}' passt nicht zum Muster {constraints['pattern']}."
    return [problem] if problem else []


def pruefe_json(daten: Any, jahr: int | None = None) -> list[str]:
    """Checks a year's JSON document against the JSON Schema, the year and the sums; returns the problems."""
    validator = Draft202012Validator(jsonschema(), format_checker=FormatChecker())
    problems = [f"{'/'.join(map(str, e.absolute_path)) or '(Dokument)'}: {e.message}"
                for e in sorted(validator.iter_errors(daten), key=lambda e: list(map(str, e.absolute_path)))]
    if problems:
        return problems
    if jahr is not None and daten["jahr"] != jahr:
        problems.append(f"jahr ist {daten['jahr']}, erwartet {jahr}.")
    keys = set()
    for index, row in enumerate(daten["daten"]):
        key = (row["monat"], row["onlinedienst"], row["plattform"])
        if not row["monat"].startswith(f"{daten['jahr']}-"):
            problems.append(f"daten/{index}: Monat {row['monat']} liegt nicht im Jahr {daten['jahr']}.")
        if key in keys:
            problems.append(f"daten/{index}: Monat, Onlinedienst und Plattform kommen doppelt vor.")
        keys.add(key)
        for gruppe in ("zahlungsarten", "authentifizierung"):
            if sum(row[gruppe].values()) != row["abgeschlossen"]:
                problems.append(f"daten/{index}: Summe von '{gruppe}' ist nicht 'abgeschlossen'.")
    return problems


def pruefe_bild(name: str, inhalt: bytes) -> list[str]:
    """Checks that a chart is a PNG (signature) or a well-formed SVG."""
    if name.endswith(".png"):
        return [] if inhalt.startswith(PNG_SIGNATURE) else ["Die Datei ist kein PNG."]
    try:
        root = ElementTree.fromstring(inhalt)  # noqa: S314 - our own matplotlib output, not outside input
    except ElementTree.ParseError as error:
        return [f"Das SVG ist nicht wohlgeformt ({error})."]
    return [] if root.tag == "{http://www.w3.org/2000/svg}svg" else ["Das Wurzelelement ist kein <svg>."]


def pruefe_datenpaket(paket: Mapping[str, Any], vorhanden: Iterable[str]) -> list[str]:
    """Checks the Data Package's required properties and that each resource's file exists."""
    problems = [f"Pflichtangabe '{k}' fehlt." for k in ("name", "resources", "licenses") if not paket.get(k)]
    known = set(vorhanden)
    names = [r.get("name") for r in paket.get("resources", [])]
    if len(names) != len(set(names)):
        problems.append("Ressourcennamen sind nicht eindeutig.")
    for resource in paket.get("resources", []):
        if not re.fullmatch(r"[a-z0-9._-]+", str(resource.get("name", ""))):
            problems.append(f"Ressourcenname {resource.get('name')!r} ist nicht zulässig.")
        if resource.get("path") not in known:
            problems.append(f"Datei '{resource.get('path')}' der Ressource fehlt.")
    return problems


# --- reading and writing ------------------------------------------------------------------------------


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _write(path: Path, inhalt: bytes, ergebnis: Ergebnis) -> None:
    if _read(path) == inhalt:
        ergebnis.unveraendert.append(path)
        return
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".neu", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(inhalt)
        os.chmod(temporary, 0o644)  # open data: readable by the web server that publishes the folder
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    ergebnis.geschrieben.append(path)


def lese_veroeffentlichung(ordner: Path, stadt: str) -> dict[Schluessel, Kennzahlen]:
    """The figures published so far in ``ordner`` (all years' JSON files), checked against the schema."""
    werte: dict[Schluessel, Kennzahlen] = {}
    for path in sorted(Path(ordner).glob(f"nutzungsstatistik-{stadt}-[0-9][0-9][0-9][0-9].json")):
        try:
            daten = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise PublicationError(
                f"Die veröffentlichte Datei '{path}' ist kein gültiges JSON ({error}). Bitte aus der Sicherung "
                "wiederherstellen oder löschen und die Exporte dieses Jahres erneut einspielen.") from None
        problems = pruefe_json(daten, int(path.stem.rsplit("-", 1)[-1]))
        if problems:
            raise PublicationError(
                f"Die veröffentlichte Datei '{path}' passt nicht zum Schema ({problems[0]}). Bitte aus der Sicherung "
                "wiederherstellen oder löschen und die Exporte dieses Jahres erneut einspielen.")
        for row in daten["daten"]:
            key = Schluessel(row["monat"], row["onlinedienst"], row["plattform"])
            figures = {name: row[name] for name in GRUNDZAHLEN}
            figures.update({f"zahlung_{art}": row["zahlungsarten"][art] for art in ZAHLUNGSARTEN})
            figures.update({f"authentifizierung_{art}": row["authentifizierung"][art] for art in AUTHENTIFIZIERUNGEN})
            werte[key] = {name: figures[name] for name in KENNZAHLEN}
    return werte


def _modified(ordner: Path, basis: str, csv_neu: bytes, heute: date) -> str:
    """Today, unless the year's CSV is unchanged: then the date the existing metadata names."""
    if _read(ordner / f"{basis}.csv") == csv_neu:
        try:
            return str(json.loads((ordner / f"{basis}.metadaten.json").read_text(encoding="utf-8"))["dct:modified"])
        except (OSError, ValueError, KeyError):
            pass
    return heute.isoformat()


def veroeffentliche(
    ordner: Path, werte: Mapping[Schluessel, Kennzahlen], jahre: Iterable[int], angaben: Angaben,
    heute: date | None = None,
) -> Ergebnis:
    """Writes the publication of ``jahre`` from ``werte`` into ``ordner`` after checking every file.

    Raises :class:`PublicationError` (nothing written) when a file does not match its schema.
    """
    if angaben.lizenz not in LIZENZEN:
        raise PublicationError(f"Lizenz '{angaben.lizenz}' ist unbekannt; erlaubt: {', '.join(LIZENZEN)}.")
    heute = heute or date.today()
    ordner = Path(ordner)
    ordner.mkdir(parents=True, exist_ok=True)
    jahre = sorted(set(jahre))
    files: dict[str, bytes] = {TABLESCHEMA: _schema_bytes(TABLESCHEMA), JSONSCHEMA: _schema_bytes(JSONSCHEMA)}
    problems: list[str] = []
    for jahr in jahre:
        zeilen = sorted((key, w) for key, w in werte.items() if key.jahr == jahr)
        if not zeilen:
            continue
        basis = angaben.basisname(jahr)
        year_files = {f"{basis}.csv": csv_bytes(zeilen)}
        daten = json_daten(zeilen, jahr, angaben)
        year_files[f"{basis}.json"] = _json_bytes(daten)
        problems += [f"{basis}.csv: {p}" for p in pruefe_csv(year_files[f"{basis}.csv"], tableschema())]
        problems += [f"{basis}.json: {p}" for p in pruefe_json(daten, jahr)]
        if angaben.diagramm:
            from nutzungsstatistik.diagramm import zeichne

            beschreibung = (f"Liniendiagramm: Aufrufe (oben) und abgeschlossene Anträge (unten) je Monat "
                            f"für {len({k.onlinedienst for k, _ in zeilen})} Onlinedienste. Die Zahlen stehen in "
                            f"{basis}.csv.")
            png, svg = zeichne(zeilen, angaben.jahrestitel(jahr), beschreibung)
            year_files[f"{basis}.png"], year_files[f"{basis}.svg"] = png, svg
            problems += [f"{basis}.png: {p}" for p in pruefe_bild(".png", png)]
            problems += [f"{basis}.svg: {p}" for p in pruefe_bild(".svg", svg)]
        geaendert = _modified(ordner, basis, year_files[f"{basis}.csv"], heute)
        year_files[f"{basis}.metadaten.json"] = _json_bytes(metadaten(zeilen, jahr, angaben, geaendert, year_files))
        files.update(year_files)
    data_name = re.compile(rf"nutzungsstatistik-{angaben.stadt}-\d{{4}}\.(csv|json)")
    data_files = {p.name: p.read_bytes() for p in ordner.iterdir() if data_name.fullmatch(p.name)}
    data_files.update({name: inhalt for name, inhalt in files.items() if data_name.fullmatch(name)})
    paket = datenpaket(angaben, data_files)
    problems += [f"{DATAPACKAGE}: {p}" for p in pruefe_datenpaket(paket, data_files)]
    if problems:
        raise PublicationError(
            "Die Veröffentlichung passt nicht zu ihren Schemas und wurde nicht geschrieben: "
            + "; ".join(problems[:5]) + ". Bitte die RPA-Betreuung informieren.")
    files[DATAPACKAGE] = _json_bytes(paket)
    ergebnis = Ergebnis(ordner=ordner, jahre=jahre)
    for name, inhalt in files.items():
        _write(ordner / name, inhalt, ergebnis)
    return ergebnis


def pruefe_ordner(ordner: Path, stadt: str | None = None) -> list[Path]:
    """Checks every published file in ``ordner`` against its schema; returns the files checked.

    Raises :class:`PublicationError` naming the first problems.
    """
    ordner = Path(ordner)
    problems: list[str] = []
    checked: list[Path] = []
    pattern = f"nutzungsstatistik-{stadt or '*'}-[0-9][0-9][0-9][0-9]"
    schema = tableschema()
    for path in sorted(ordner.glob(f"{pattern}.*")):
        inhalt = path.read_bytes()
        if path.suffix == ".csv":
            found = pruefe_csv(inhalt, schema)
        elif path.name.endswith(".metadaten.json"):
            found = _check_metadata(inhalt)
        elif path.suffix == ".json":
            try:
                found = pruefe_json(json.loads(inhalt), int(path.stem.rsplit("-", 1)[-1]))
            except ValueError as error:
                found = [f"kein gültiges JSON ({error})"]
        elif path.suffix in (".png", ".svg"):
            found = pruefe_bild(path.name, inhalt)
        else:
            continue
        problems += [f"{path.name}: {p}" for p in found]
        checked.append(path)
    package = ordner / DATAPACKAGE
    if package.is_file():
        paket = json.loads(package.read_text(encoding="utf-8"))
        problems += [f"{DATAPACKAGE}: {p}" for p in pruefe_datenpaket(paket, (p.name for p in ordner.iterdir()))]
        for resource in paket.get("resources", []):
            path = ordner / resource["path"]
            if path.is_file() and resource.get("hash") != f"sha256:{hashlib.sha256(path.read_bytes()).hexdigest()}":
                problems.append(f"{DATAPACKAGE}: Prüfsumme von '{resource['path']}' stimmt nicht.")
        checked.append(package)
    if problems:
        raise PublicationError(f"Veröffentlichung in '{ordner}' ist fehlerhaft: " + "; ".join(problems[:5]))
    return checked


_METADATA_REQUIRED = ("dct:identifier", "dct:title", "dct:description", "dct:publisher", "dct:license",
                      "dct:temporal", "dct:modified", "dcat:distribution")


def _check_metadata(inhalt: bytes) -> list[str]:
    try:
        data = json.loads(inhalt)
    except ValueError as error:
        return [f"kein gültiges JSON ({error})"]
    problems = [f"Pflichtangabe '{k}' fehlt." for k in _METADATA_REQUIRED if not data.get(k)]
    if data.get("@type") != "dcat:Dataset":
        problems.append("@type ist nicht dcat:Dataset.")
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(data.get("dct:modified", ""))):
        problems.append("dct:modified ist kein Datum JJJJ-MM-TT.")
    return problems
