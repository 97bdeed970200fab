"""Reading the usage exports of the platforms into figures per month, online service and platform.

Two export formats are understood, named by the ``format`` of a platform in the city's configuration:

``civento``
    The form platform's statistics export: semicolon separated, German numbers (``1.234``), Windows-1252
    or UTF-8 (often with a byte order mark), one row per month, service, payment and authentication
    type, ending in a ``Summe`` row::

        Monat;Onlinedienst;Aufrufe;Abgeschlossen;Abgebrochen;Zahlungsart;Authentifizierung

``serviceportal``
    A service portal's export: comma separated UTF-8, one row per day (ISO date) and service, payment and
    authentication types as columns::

        date,service,visits,completed,abandoned,payment_none,payment_creditcard,payment_paypal,...

A malformed export raises :class:`ExportError` (a business error) whose German message names the file,
the line and the column and says what to do. Messages quote at most the one offending cell of a figure,
month or type column, never a whole row.
"""

from __future__ import annotations

import codecs
import csv
import fnmatch
import io
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from rathaus.errors import BusinessError

from nutzungsstatistik.kennzahlen import (
    AUTHENTIFIZIERUNGEN,
    ZAHLUNGSARTEN,
    Kennzahlen,
    Schluessel,
    leer,
    parse_anzahl,
    parse_monat,
)

#: Export formats this process can read, with a German description for messages and the schema.
FORMATE = {
    "civento": "Civento-Statistikexport (Semikolon, deutsche Zahlen, eine Zeile je Zahlungs- und Anmeldeart)",
    "serviceportal": "Serviceportal-Export (Komma, UTF-8, eine Zeile je Tag und Onlinedienst)",
}
KODIERUNGEN = ("auto", "utf-8", "windows-1252")
#: Values of a totals row's first cell; such a row is checked against the other rows, not counted.
SUMMENZEILEN = {"summe", "gesamt", "insgesamt", "total"}
_MAX_SHOWN = 30
MAX_EXPORT_BYTES = 64 * 1024 * 1024  # a year of a platform's figures is a few MB at most
_GRUNDZAHLEN = ("aufrufe", "abgeschlossen", "abgebrochen")


class ExportError(BusinessError):
    """An export cannot be read: wrong header, a cell that is no count, an unknown month format, ..."""

    code = "EXPORT_FEHLERHAFT"


@dataclass(frozen=True)
class Plattform:
    """One platform of the city's configuration: its name in the data and how its exports look."""

    name: str
    format: str
    muster: str = "*.csv"
    kodierung: str = "auto"
    bezeichnung: str = ""

    @classmethod
    def aus_konfiguration(cls, eintrag: Mapping[str, Any]) -> Plattform:
        """Builds a platform from one entry of the configuration's ``plattformen`` list."""
        return cls(
            name=str(eintrag["name"]),
            format=str(eintrag["format"]),
            muster=str(eintrag.get("muster") or "*.csv"),
            kodierung=str(eintrag.get("kodierung") or "auto"),
            bezeichnung=str(eintrag.get("bezeichnung") or eintrag["name"]),
        )

    def passt(self, datei: Path) -> bool:
        return fnmatch.fnmatch(datei.name.casefold(), self.muster.casefold())


@dataclass
class Export:
    """The figures of one export file, summed per month, online service and platform.

    Its text form gives counts only, so that Robot's log of an assignment shows no figures.
    """

    datei: Path
    plattform: str
    zeilen: int
    werte: dict[Schluessel, Kennzahlen] = field(default_factory=dict)

    @property
    def monate(self) -> list[str]:
        return sorted({key.monat for key in self.werte})

    @property
    def dienste(self) -> list[str]:
        return sorted({key.onlinedienst for key in self.werte})

    def __str__(self) -> str:
        monate = self.monate
        spanne = f"{monate[0]} bis {monate[-1]}" if monate else "keine Monate"
        return (f"Export '{self.datei.name}' ({self.plattform}): {self.zeilen} Zeilen, "
                f"{len(self.dienste)} Onlinedienste, {spanne}")

    __repr__ = __str__


# --- helpers shared by both formats -------------------------------------------------------------------


def _shown(value: str) -> str:
    value = " ".join(value.split())
    return value if len(value) <= _MAX_SHOWN else value[: _MAX_SHOWN - 1] + "…"


def _normalize_header(name: str) -> str:
    return " ".join(name.replace("\ufeff", "").strip().strip('"').split()).casefold()


@lru_cache(maxsize=1024)  # months, payment and authentication types repeat in every export
def _normalize_category(value: str) -> str:
    return "".join(ch for ch in value.casefold() if ch.isalnum())


class _Reader:
    """State for reading one file: its name and platform, for messages."""

    def __init__(self, datei: Path, plattform: Plattform) -> None:
        self.datei = datei
        self.plattform = plattform
        self.hilfe = _HILFE[plattform.format]

    def fehler(self, text: str, code: str, zeile: int | None = None, spalte: str | None = None) -> ExportError:
        where = f"Export '{self.datei.name}' (Plattform {self.plattform.name})"
        if zeile is not None:
            where += f", Zeile {zeile}"
        if spalte is not None:
            where += f", Spalte '{spalte}'"
        return ExportError(f"{where}: {text}", code=code)

    def anzahl(self, text: str, zeile: int, spalte: str, deutsch: bool) -> int:
        value = parse_anzahl(text, deutsch)
        if value is None:
            shown = f"'{_shown(text)}'" if text.strip() else "Die leere Zelle"
            raise self.fehler(
                f"{shown} ist keine Anzahl (ganze Zahl ab 0). Bitte den Export in der Plattform neu erstellen "
                f"oder die Zelle korrigieren und die Datei wieder in den Exportordner legen.",
                "EXPORT_ZAHL", zeile, spalte,
            )
        return value

    def anzahlen(self, cells: list[str], keys: tuple[str, ...], pos: Mapping[str, int], names: Mapping[str, str],
                 zeile: int, deutsch: bool) -> dict[str, int]:
        """The counts of several columns of one row; plain digits take a fast path."""
        raw = [cells[pos[key]] for key in keys]
        joined = "".join(raw)
        if joined.isascii() and joined.isdigit() and all(raw):
            return dict(zip(keys, map(int, raw), strict=True))
        return {key: self.anzahl(text, zeile, names[key], deutsch) for key, text in zip(keys, raw, strict=True)}

    def monat(self, text: str, zeile: int, spalte: str, beispiele: str) -> str:
        value = parse_monat(text)
        if value is None:
            shown = f"'{_shown(text)}'" if text.strip() else "Die leere Zelle"
            raise self.fehler(
                f"{shown} ist kein bekanntes Monats- oder Datumsformat (erwartet z. B. {beispiele}). "
                "Bitte den Export mit diesem Format neu erstellen.",
                "EXPORT_MONAT", zeile, spalte,
            )
        return value

    def dienst(self, text: str, zeile: int, spalte: str, dienstnamen: Mapping[str, str]) -> str:
        name = " ".join(text.split())
        if not name:
            raise self.fehler("Der Name des Onlinedienstes fehlt. Bitte den Export prüfen und neu erstellen.",
                              "EXPORT_DIENST", zeile, spalte)
        if name[0] in "=+@":
            raise self.fehler(
                f"Der Name des Onlinedienstes beginnt mit '{name[0]}' (wie eine Tabellenformel) und wird so "
                "nicht veröffentlicht. Bitte den Export prüfen.", "EXPORT_DIENST", zeile, spalte)
        return dienstnamen.get(name, name)

    def decode(self, data: bytes) -> str:
        kodierung = self.plattform.kodierung
        try:
            if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                text = data.decode("utf-16")
            elif kodierung == "windows-1252":
                text = data.decode("cp1252")
            elif kodierung == "utf-8":
                text = data.decode("utf-8-sig")
            else:
                # some tools put a UTF-8 byte order mark before Windows-1252 text: the mark says nothing then
                body = data.removeprefix(codecs.BOM_UTF8)
                try:
                    text = body.decode("utf-8")
                except UnicodeDecodeError:
                    text = body.decode("cp1252")
        except UnicodeDecodeError as error:
            line = data[: error.start].count(b"\n") + 1
            raise self.fehler(
                f"Die Zeichenkodierung der Datei ist nicht lesbar (eingestellt: '{kodierung}'). Bitte in der "
                "Konfiguration die 'kodierung' der Plattform anpassen oder den Export als UTF-8 neu erstellen.",
                "EXPORT_KODIERUNG", line,
            ) from None
        # a UTF-8 byte order mark that a tool read as Windows-1252 and saved again
        while text.startswith(("\ufeff", "ï»¿")):
            text = text.removeprefix("\ufeff").removeprefix("ï»¿")
        return text

    def rows(self, text: str, delimiter: str) -> Iterable[tuple[int, list[str]]]:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        try:
            for row in reader:
                if "".join(row).strip():
                    yield reader.line_num, row
        except csv.Error as error:
            raise self.fehler(
                f"Die Zeile ist kein gültiges CSV ({error}). Bitte den Export neu erstellen, nicht von Hand ändern.",
                "EXPORT_CSV", reader.line_num + 1,
            ) from None

    def header(
        self, rows: Iterable[tuple[int, list[str]]], delimiter: str, spalten: Mapping[str, tuple[str, ...]]
    ) -> tuple[dict[str, int], dict[str, str], int, Iterable[tuple[int, list[str]]]]:
        """Finds the required columns; returns their positions, their names as written, the width."""
        iterator = iter(rows)
        try:
            line, cells = next(iterator)
        except StopIteration:
            raise self.fehler("Die Datei ist leer. Bitte den Export neu erstellen.", "EXPORT_LEER") from None
        names = [_normalize_header(cell) for cell in cells]
        positions: dict[str, int] = {}
        written: dict[str, str] = {}
        for key, aliases in spalten.items():
            found = [i for i, name in enumerate(names) if name in aliases]
            if len(found) > 1:
                raise self.fehler(f"Die Spalte '{cells[found[1]].strip()}' steht zweimal in der Kopfzeile. "
                                  "Bitte den Export neu erstellen.", "EXPORT_KOPFZEILE", line)
            if found:
                positions[key] = found[0]
                written[key] = cells[found[0]].replace("\ufeff", "").strip()
        missing = [aliases[0] for key, aliases in spalten.items() if key not in positions]
        if missing:
            other = "," if delimiter == ";" else ";"
            hint = ""
            if len(cells) == 1 and other in cells[0]:
                hint = (f" Die Kopfzeile ist mit '{other}' statt '{delimiter}' getrennt: stammt die Datei von einer "
                        f"anderen Plattform als '{self.plattform.name}'?")
            shown = ", ".join(f"'{name}'" for name in missing)
            raise self.fehler(
                f"In der Kopfzeile fehlen die Spalten {shown}.{hint} Erwartet wird: {self.hilfe}. Bitte den Export "
                "mit diesen Spalten neu erstellen oder die Plattform in der Konfiguration prüfen.",
                "EXPORT_KOPFZEILE", line,
            )
        return positions, written, len(cells), iterator

    def width(self, cells: list[str], expected: int, line: int) -> None:
        if len(cells) != expected:
            raise self.fehler(
                f"Die Zeile hat {len(cells)} statt {expected} Spalten. Bitte den Export neu erstellen, nicht von Hand "
                "ändern.", "EXPORT_ZEILE", line,
            )


# --- Civento ------------------------------------------------------------------------------------------

_CIVENTO_SPALTEN = {
    "monat": ("monat", "berichtsmonat"),
    "onlinedienst": ("onlinedienst", "dienst", "leistung"),
    "aufrufe": ("aufrufe",),
    "abgeschlossen": ("abgeschlossen",),
    "abgebrochen": ("abgebrochen",),
    "zahlungsart": ("zahlungsart",),
    "authentifizierung": ("authentifizierung",),
}
_ZAHLUNGSARTEN = {
    "": "keine", "keine": "keine", "kostenfrei": "keine", "gebuehrenfrei": "keine", "gebührenfrei": "keine",
    "ohne": "keine", "kreditkarte": "kreditkarte", "paypal": "paypal", "lastschrift": "lastschrift",
    "sepalastschrift": "lastschrift", "lastschriftverfahren": "lastschrift", "rechnung": "rechnung",
    "kaufaufrechnung": "rechnung", "überweisung": "rechnung", "ueberweisung": "rechnung",
}
_AUTHENTIFIZIERUNGEN = {
    "": "ohne", "ohne": "ohne", "keine": "ohne", "anonym": "ohne", "bundid": "bundid",
    "nutzerkontobund": "bundid", "bundidonlineausweis": "bundid", "elster": "elster",
    "elsterzertifikat": "elster", "meinunternehmenskonto": "elster", "meinunternehmenskontoelster": "elster",
}


def _kategorie(reader: _Reader, value: str, bekannt: Mapping[str, str], liste: tuple[str, ...], art: str,
               line: int, spalte: str) -> str:
    category = bekannt.get(_normalize_category(value))
    if category is None:
        allowed = ", ".join(liste)
        raise reader.fehler(
            f"'{_shown(value)}' ist keine bekannte {art} (bekannt: {allowed}). Bitte die Prozessverantwortlichen "
            "bitten, die Art zu ergänzen; bis dahin die Datei nicht erneut einspielen.",
            "EXPORT_KATEGORIE", line, spalte,
        )
    return category


def _read_civento(reader: _Reader, text: str, dienstnamen: Mapping[str, str]) -> Export:
    rows = reader.rows(text, ";")
    pos, names, width, rows = reader.header(rows, ";", _CIVENTO_SPALTEN)
    werte: dict[Schluessel, Kennzahlen] = {}
    seen: dict[tuple[str, str, str, str], int] = {}
    totals: tuple[int, dict[str, int]] | None = None
    summed = dict.fromkeys(_GRUNDZAHLEN, 0)
    count = 0
    for line, cells in rows:
        reader.width(cells, width, line)
        first = _normalize_category(cells[pos["monat"]]) or _normalize_category(cells[pos["onlinedienst"]])
        if first in SUMMENZEILEN:
            totals = (line, reader.anzahlen(cells, _GRUNDZAHLEN, pos, names, line, deutsch=True))
            continue
        if totals is not None:
            raise reader.fehler("Nach der Summenzeile folgen weitere Zeilen. Bitte den Export neu erstellen.",
                                "EXPORT_SUMME", line)
        monat = reader.monat(cells[pos["monat"]], line, names["monat"], "03.2025 oder März 2025")
        dienst = reader.dienst(cells[pos["onlinedienst"]], line, names["onlinedienst"], dienstnamen)
        zahlung = _kategorie(reader, cells[pos["zahlungsart"]], _ZAHLUNGSARTEN, ZAHLUNGSARTEN, "Zahlungsart",
                             line, names["zahlungsart"])
        anmeldung = _kategorie(reader, cells[pos["authentifizierung"]], _AUTHENTIFIZIERUNGEN, AUTHENTIFIZIERUNGEN,
                               "Authentifizierung", line, names["authentifizierung"])
        values = reader.anzahlen(cells, _GRUNDZAHLEN, pos, names, line, deutsch=True)
        combination = (monat, dienst, zahlung, anmeldung)
        if combination in seen:
            raise reader.fehler(
                f"Die Zeile wiederholt Zeile {seen[combination]} (gleicher Monat, Onlinedienst, Zahlungsart und "
                "Authentifizierung); sie würde doppelt gezählt. Bitte den Export neu erstellen.",
                "EXPORT_DOPPELT", line,
            )
        seen[combination] = line
        key = Schluessel(monat, dienst, reader.plattform.name)
        target = werte.get(key)
        if target is None:
            target = werte[key] = leer()
        for name, value in values.items():
            target[name] += value
            summed[name] += value
        target[f"zahlung_{zahlung}"] += values["abgeschlossen"]
        target[f"authentifizierung_{anmeldung}"] += values["abgeschlossen"]
        count += 1
    if totals is not None:
        line, expected = totals
        wrong = [name for name in expected if expected[name] != summed[name]]
        if wrong:
            name = wrong[0]
            raise reader.fehler(
                f"Die Summenzeile nennt {expected[name]}, die Zeilen ergeben {summed[name]}. Der Export ist "
                "vermutlich unvollständig; bitte neu erstellen.", "EXPORT_SUMME", line, names[name],
            )
    return Export(reader.datei, reader.plattform.name, count, werte)


# --- service portal -----------------------------------------------------------------------------------

_PORTAL_ZAHLUNG = {
    "keine": "payment_none", "kreditkarte": "payment_creditcard", "paypal": "payment_paypal",
    "lastschrift": "payment_directdebit", "rechnung": "payment_invoice",
}
_PORTAL_AUTH = {"bundid": "auth_bundid", "elster": "auth_elster", "ohne": "auth_none"}
_PORTAL_SPALTEN: dict[str, tuple[str, ...]] = {
    "datum": ("date", "day"),
    "onlinedienst": ("service", "service_name"),
    "aufrufe": ("visits", "views"),
    "abgeschlossen": ("completed", "submitted"),
    "abgebrochen": ("abandoned",),
    **{f"zahlung_{art}": (column,) for art, column in _PORTAL_ZAHLUNG.items()},
    **{f"authentifizierung_{art}": (column,) for art, column in _PORTAL_AUTH.items()},
}


_ZAHLUNG_KEYS = tuple(f"zahlung_{art}" for art in ZAHLUNGSARTEN)
_AUTH_KEYS = tuple(f"authentifizierung_{art}" for art in AUTHENTIFIZIERUNGEN)
_PORTAL_FIGURES = tuple(key for key in _PORTAL_SPALTEN if key not in ("datum", "onlinedienst"))


def _read_serviceportal(reader: _Reader, text: str, dienstnamen: Mapping[str, str]) -> Export:
    rows = reader.rows(text, ",")
    pos, names, width, rows = reader.header(rows, ",", _PORTAL_SPALTEN)
    werte: dict[Schluessel, Kennzahlen] = {}
    seen: dict[tuple[str, str], int] = {}
    count = 0
    for line, cells in rows:
        reader.width(cells, width, line)
        day = cells[pos["datum"]].strip()
        monat = reader.monat(day, line, names["datum"], "2025-03-14")
        dienst = reader.dienst(cells[pos["onlinedienst"]], line, names["onlinedienst"], dienstnamen)
        values = reader.anzahlen(cells, _PORTAL_FIGURES, pos, names, line, deutsch=False)
        for group, label in ((_ZAHLUNG_KEYS, "Zahlungsarten"), (_AUTH_KEYS, "Authentifizierungen")):
            total = sum(map(values.__getitem__, group))
            if total != values["abgeschlossen"]:
                raise reader.fehler(
                    f"Die Summe der {label} ({total}) ist nicht gleich der Zahl abgeschlossener Anträge "
                    f"({values['abgeschlossen']}). Bitte den Export neu erstellen.",
                    "EXPORT_SUMME", line, names["abgeschlossen"],
                )
        if (day, dienst) in seen:
            raise reader.fehler(
                f"Die Zeile wiederholt Tag und Onlinedienst aus Zeile {seen[(day, dienst)]}; sie würde doppelt "
                "gezählt. Bitte den Export neu erstellen.", "EXPORT_DOPPELT", line,
            )
        seen[(day, dienst)] = line
        key = Schluessel(monat, dienst, reader.plattform.name)
        target = werte.get(key)
        if target is None:
            target = werte[key] = leer()
        for name, value in values.items():
            target[name] += value
        count += 1
    return Export(reader.datei, reader.plattform.name, count, werte)


_PARSER: dict[str, Callable[[_Reader, str, Mapping[str, str]], Export]] = {
    "civento": _read_civento,
    "serviceportal": _read_serviceportal,
}
_HILFE = {
    "civento": ";".join(aliases[0].capitalize() for aliases in _CIVENTO_SPALTEN.values()),
    "serviceportal": ",".join(aliases[0] for aliases in _PORTAL_SPALTEN.values()),
}


# --- entry points -------------------------------------------------------------------------------------


def plattform_fuer(datei: Path, plattformen: Iterable[Plattform]) -> Plattform:
    """The first platform whose file name pattern matches ``datei``; a business error when none does."""
    plattformen = list(plattformen)
    for plattform in plattformen:
        if plattform.passt(datei):
            return plattform
    patterns = ", ".join(p.muster for p in plattformen) or "keine Plattform konfiguriert"
    raise ExportError(
        f"Export '{datei.name}': Der Dateiname passt zu keiner Plattform (Muster: {patterns}). Bitte die Datei "
        "passend benennen oder die Plattform in der Konfiguration ergänzen.",
        code="EXPORT_UNBEKANNT",
    )


def lese_export(datei: Path, plattform: Plattform, dienstnamen: Mapping[str, str] | None = None) -> Export:
    """Reads one export file of ``plattform`` into figures per month, online service and platform.

    ``dienstnamen`` maps a service name as the platform writes it to the name published (so that one
    service carries one name across platforms). Raises :class:`ExportError` for a malformed file.
    """
    datei = Path(datei)
    if plattform.format not in _PARSER:
        raise ExportError(f"Plattform {plattform.name}: Format '{plattform.format}' ist unbekannt; bekannt: "
                          f"{', '.join(_PARSER)}. Bitte die Konfiguration prüfen.", code="EXPORT_FORMAT")
    reader = _Reader(datei, plattform)
    if datei.suffix.casefold() != ".csv":
        raise reader.fehler(
            f"Die Datei ist keine CSV-Datei ('{datei.suffix or 'ohne Endung'}'). Bitte in der Plattform als CSV "
            "exportieren und die CSV-Datei in den Exportordner legen.", "EXPORT_DATEITYP")
    with datei.open("rb") as handle:
        data = handle.read(MAX_EXPORT_BYTES + 1)
    if len(data) > MAX_EXPORT_BYTES:
        raise reader.fehler(
            f"Die Datei ist größer als {MAX_EXPORT_BYTES // (1024 * 1024)} MB und damit kein Export der Plattform. "
            "Bitte den Export in der Plattform neu erstellen (ein Jahr je Datei).", "EXPORT_ZU_GROSS")
    text = reader.decode(data)
    export = _PARSER[plattform.format](reader, text, dienstnamen or {})
    if not export.werte:
        raise reader.fehler("Der Export enthält keine Datenzeilen. Bitte den Zeitraum in der Plattform prüfen und "
                            "den Export neu erstellen.", "EXPORT_LEER")
    return export
