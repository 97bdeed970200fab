"""Process keywords of 'nutzungsstatistik': read platform exports, publish the figures as open data.

Import in Robot as ``Library    nutzungsstatistik.keywords.Nutzungsstatistik`` with ``processes/`` on the
Python path (``robot.yaml`` and ``rathaus run`` put it there).
"""

from __future__ import annotations

import filecmp
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from rathaus.core.project import Project
from robot.api import logger
from robot.api.deco import keyword, library

from nutzungsstatistik.exporte import Export, Plattform, lese_export, plattform_fuer
from nutzungsstatistik.statistik import zusammenfuehren
from nutzungsstatistik.veroeffentlichung import (
    Angaben,
    Ergebnis,
    lese_veroeffentlichung,
    pruefe_ordner,
    veroeffentliche,
)

#: File names a platform or an editor leaves while still writing; they are not exports (yet).
_UNFINISHED = (".part", ".tmp", ".crdownload", ".partial")


@dataclass
class Veroeffentlichung(Ergebnis):
    """A publication's result plus what the merge changed (counts only in its text form)."""

    neu: int = 0
    ersetzt: int = 0
    unveraendert_werte: int = 0
    mehrfach: int = 0

    def __str__(self) -> str:
        return (f"{super().__str__()}; Monatswerte {self.neu} neu, {self.ersetzt} ersetzt, "
                f"{self.unveraendert_werte} unverändert")

    __repr__ = __str__


@library(scope="GLOBAL", auto_keywords=False)
class Nutzungsstatistik:
    """Keywords of the process 'nutzungsstatistik' (eGovSAD): usage figures of online services as open data.

    The platforms (Civento, a service portal, ...) export monthly usage figures as CSV files into a
    folder. `Read Usage Export` turns one file into figures per month, online service and platform;
    `Publish Usage Statistics` merges them into the city's publication (CSV and JSON per year with a
    Frictionless Table Schema, a JSON Schema, a Data Package, DCAT-AP.de metadata and a chart as PNG
    and SVG), checking every file against its schema before writing it. A newer export for a month
    replaces that month's figures: nothing is counted twice. Exports are moved to ``verarbeitet`` after
    the publication is written (`Move Export To Folder`); a malformed one is set aside with a note
    (`Set Export Aside`).

    Exports contain no personal data; still, the text form of every value these keywords return shows
    counts only, so that Robot's log holds no figures of single rows.
    """

    def __init__(self, today: str | None = None) -> None:
        """``today`` (``JJJJ-MM-TT``) fixes the ``modified`` date of new publications, for tests."""
        self._today = date.fromisoformat(today) if today else None

    @keyword
    def resolve_local_folder(self, folder: str | Path) -> Path:
        """Returns ``folder`` as an absolute path; a relative one is taken relative to ``RATHAUS_HOME``.

        ``RATHAUS_HOME`` is the folder for a city's local data (``rathaus run`` sets it; default
        ``<project>/var``). The folder is created when missing.

        | =Arguments= | =Description= |
        | ``folder`` | A folder from the configuration, e.g. ``marburg/nutzungsstatistik/exporte``. |

        Example:
        | ${quelle}=    Resolve Local Folder    ${CONFIG.quelle}
        """
        path = Path(folder).expanduser()
        if not path.is_absolute():
            path = Project.locate().home / path
        path.mkdir(parents=True, exist_ok=True)
        return path

    @keyword
    def find_usage_exports(self, folder: str | Path) -> list[Path]:
        """Returns the files in ``folder`` that wait to be read, sorted by name.

        Sub-folders (``verarbeitet``, ``fehlerhaft``), hidden files and files still being written
        (``.part``, ``.tmp``, ``.crdownload``) are left out. Files of any other type are returned, so that
        `Read Usage Export` can tell the clerk that, e.g., an ``.xlsx`` must be exported as CSV.

        | =Arguments= | =Description= |
        | ``folder`` | The folder the platforms' exports are dropped into. |

        Example:
        | ${dateien}=    Find Usage Exports    ${quelle}

        See also `Read Usage Export`.
        """
        folder = Path(folder)
        return sorted(
            (path for path in folder.iterdir()
             if path.is_file() and not path.name.startswith((".", "~$")) and not path.name.endswith(_UNFINISHED)),
            key=lambda path: path.name,
        )

    @keyword
    def read_usage_export(
        self, file: Path, platforms: Sequence[Mapping[str, Any]], service_names: Mapping[str, str] | None = None
    ) -> Export:
        """Reads one export into figures per month, online service and platform.

        The platform is the first of ``platforms`` whose ``muster`` (file name pattern) matches the file;
        its ``format`` (``civento`` or ``serviceportal``) decides how the file is read. Fails with a
        business error whose German message names the file, the line and the column and says what to
        do: unknown file name, not a CSV file, missing columns, a figure that is no count, an unknown
        month format or payment type, a repeated row, a totals row that does not add up.

        | =Arguments= | =Description= |
        | ``file`` | The export file. |
        | ``platforms`` | The configuration's ``plattformen`` list (``name``, ``format``, ``muster``, ``kodierung``). |
        | ``service_names`` | Optional mapping from a service's name in an export to its published name. |

        Example:
        | ${export}=    Read Usage Export    ${datei}    ${CONFIG.plattformen}    ${CONFIG.dienstnamen}
        | Log    ${export}

        See also `Publish Usage Statistics`.
        """
        plattformen = [Plattform.aus_konfiguration(entry) for entry in platforms]
        export = lese_export(Path(file), plattform_fuer(Path(file), plattformen), service_names or {})
        logger.info(str(export))
        return export

    @keyword
    def publish_usage_statistics(
        self, exports: Sequence[Export], folder: str | Path, config: Mapping[str, Any]
    ) -> Veroeffentlichung:
        """Merges ``exports`` into the city's publication in ``folder`` and writes the changed files.

        The figures published so far are read from the folder's JSON files; an export's month, service
        and platform replace the published figures of that key (later file names win within one run).
        Only the years the exports touch are rebuilt. Every file is checked against its schema before the
        first is written; files whose content is unchanged are not rewritten, so a repeated run leaves
        the folder byte for byte as it was. Fails with an application error when a file would not match
        its schema or the published files are damaged.

        | =Arguments= | =Description= |
        | ``exports`` | Exports from `Read Usage Export`. |
        | ``folder`` | Target folder of the publication (the configuration's ``ziel``). |
        | ``config`` | The city's loaded configuration (``stadt``, ``stadt_daten``, ``veroeffentlichung``). |

        Example:
        | ${ergebnis}=    Publish Usage Statistics    ${exporte}    ${ziel}    ${CONFIG}
        | Log    ${ergebnis.geschrieben}

        See also `Validate Published Statistics`.
        """
        folder = Path(folder)
        angaben = Angaben.aus_konfiguration(config)
        merged = zusammenfuehren(lese_veroeffentlichung(folder, angaben.stadt), exports)
        result = Veroeffentlichung(ordner=folder, jahre=merged.jahre)
        if merged.jahre:
            written = veroeffentliche(folder, merged.werte, merged.jahre, angaben, self._today)
            result.geschrieben, result.unveraendert = written.geschrieben, written.unveraendert
        result.neu, result.ersetzt, result.unveraendert_werte = merged.neu, merged.ersetzt, merged.unveraendert
        result.mehrfach = len(merged.mehrfach)
        logger.info(str(result))
        return result

    @keyword
    def move_export_to_folder(self, file: Path, folder: str | Path) -> Path:
        """Moves an export into ``folder`` (created when missing); returns its new path.

        A file of the same name already there is kept: an identical one makes the move a plain removal,
        a different one gives the moved file a number (``export-2.csv``).

        | =Arguments= | =Description= |
        | ``file`` | The export, after its figures are published. |
        | ``folder`` | E.g. ``${quelle}/verarbeitet``. |

        Example:
        | Move Export To Folder    ${export.datei}    ${quelle}/verarbeitet
        """
        file, folder = Path(file), Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / file.name
        number = 1
        while target.exists():
            if target.is_file() and filecmp.cmp(file, target, shallow=False):
                file.unlink()
                return target
            number += 1
            target = folder / f"{file.stem}-{number}{file.suffix}"
        shutil.move(str(file), str(target))
        return target

    @keyword
    def set_export_aside(self, file: Path, message: str, folder: str | Path) -> Path:
        """Moves a malformed export into ``folder`` with a note ``<name>.fehler.txt``; returns the note.

        The note holds the error message (file, line, column, what to do) and how to feed the corrected
        file in again, for the clerk who opens the folder.

        | =Arguments= | =Description= |
        | ``file`` | The export that could not be read. |
        | ``message`` | The German error message from `Read Usage Export`. |
        | ``folder`` | E.g. ``${quelle}/fehlerhaft``. |

        Example:
        | ${hinweis}=    Set Export Aside    ${datei}    ${error}    ${quelle}/fehlerhaft
        """
        moved = self.move_export_to_folder(file, folder)
        note = moved.with_name(f"{moved.name}.fehler.txt")
        note.write_text(
            f"Der Export '{moved.name}' wurde nicht veröffentlicht.\n\n{message}\n\n"
            f"Nach der Korrektur die Datei wieder in den Exportordner '{Path(file).parent}' legen (diese "
            "Hinweisdatei danach löschen). Der nächste Lauf liest sie; Monate, die schon veröffentlicht sind, "
            "werden dabei ersetzt, nicht doppelt gezählt.\n",
            encoding="utf-8",
        )
        return note

    @keyword
    def validate_published_statistics(self, folder: str | Path, city: str | None = None) -> int:
        """Checks every published file in ``folder`` against its schema; returns the number of files checked.

        CSV against the Frictionless Table Schema (header, types, constraints, primary key), JSON against
        the JSON Schema plus year and sums, the metadata's required DCAT fields, the charts (PNG signature,
        well-formed SVG) and the Data Package's checksums. Fails with the first problems found.

        | =Arguments= | =Description= |
        | ``folder`` | The publication folder. |
        | ``city`` | Check only this city's files (default: all). |

        Example:
        | ${anzahl}=    Validate Published Statistics    ${ziel}    marburg
        """
        return len(pruefe_ordner(Path(folder), city))

    @keyword
    def run_summary_lines(
        self, read: Sequence[Export], malformed: Mapping[str, str], publication: Veroeffentlichung | None,
        source: str | Path = "", left: Mapping[str, str] | None = None,
    ) -> list[str]:
        """The German lines that tell the clerk what a run did.

        | =Arguments= | =Description= |
        | ``read`` | The exports read without error. |
        | ``malformed`` | File name -> error message of each export set aside. |
        | ``publication`` | The result of `Publish Usage Statistics`, or ``None``. |
        | ``source`` | The export folder, named when it held no exports. |
        | ``left`` | File name -> message of each export left in the folder after an unexpected error. |

        Example:
        | ${zeilen}=    Run Summary Lines    ${exporte}    ${fehler}    ${ergebnis}    ${quelle}
        | Append To Run Summary    ${zeilen}
        """
        lines = [f"Exporte gelesen: {len(read)}"]
        left = left or {}
        if not read and not malformed and not left:
            lines.append(f"Keine neuen Exporte im Ordner '{source}'; nichts veröffentlicht.")
        if publication is not None and publication.jahre:
            lines.append(f"Monatswerte: {publication.neu} neu, {publication.ersetzt} ersetzt, "
                         f"{publication.unveraendert_werte} unverändert")
            if publication.mehrfach:
                lines.append(f"In mehreren Exporten dieses Laufs: {publication.mehrfach} Monatswerte (es gilt "
                             "jeweils der Export mit dem späteren Dateinamen)")
            main = [p.name for p in publication.geschrieben if p.name.startswith("nutzungsstatistik-")
                    and not p.name.endswith(".metadaten.json")]
            if main:
                lines.append(f"Veröffentlicht: {', '.join(main)}")
            else:
                lines.append("Veröffentlichung unverändert (gleiche Zahlen wie bisher)")
            lines.append(f"Ablage: {publication.ordner}")
        if malformed:
            lines.append(f"Fehlerhafte Exporte: {len(malformed)} ({', '.join(malformed)}) – abgelegt in "
                         "'fehlerhaft' mit Hinweisdatei")
            lines.extend(f"  - {message}" for message in malformed.values())
        if left:
            lines.append(f"Wegen eines unerwarteten Fehlers nicht gelesen: {len(left)} ({', '.join(left)}) – "
                         "bleiben im Exportordner; bitte das RPA-Team informieren, wenn der Fehler bleibt")
            lines.extend(f"  - {message}" for message in left.values())
        return lines
