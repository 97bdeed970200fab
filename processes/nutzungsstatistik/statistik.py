"""Merging newly read exports into the published figures.

The published files are the process's memory: a row is keyed by month, online service and platform, and
the figures of a newer export for the same key replace the published ones. Nothing is ever added onto a
published figure, so an export read twice (or a month exported again with corrections) is never counted
twice. Within one run, exports are applied in file name order, so the later-named export of the same key
wins, whatever order the folder lists them in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from nutzungsstatistik.exporte import Export
from nutzungsstatistik.kennzahlen import KENNZAHLEN, Kennzahlen, Schluessel


@dataclass
class Zusammenfuehrung:
    """The figures after merging, and what the merge changed compared with the publication."""

    werte: dict[Schluessel, Kennzahlen]
    jahre: list[int]
    neu: int = 0
    ersetzt: int = 0
    unveraendert: int = 0
    #: keys found in more than one export of this run (the later-named export's figures count)
    mehrfach: list[Schluessel] = field(default_factory=list)

    def zeilen(self, jahr: int) -> list[tuple[Schluessel, Kennzahlen]]:
        """The rows of one year, sorted by month, online service and platform."""
        return sorted((key, werte) for key, werte in self.werte.items() if key.jahr == jahr)


def zusammenfuehren(
    veroeffentlicht: Mapping[Schluessel, Kennzahlen], exporte: Iterable[Export]
) -> Zusammenfuehrung:
    """Merges ``exporte`` into the published figures; keys in an export replace published keys."""
    neu: dict[Schluessel, Kennzahlen] = {}
    mehrfach: list[Schluessel] = []
    for export in sorted(exporte, key=lambda e: e.datei.name):
        for key, werte in export.werte.items():
            if key in neu:
                mehrfach.append(key)
            neu[key] = {name: werte[name] for name in KENNZAHLEN}
    result = Zusammenfuehrung(werte=dict(veroeffentlicht), jahre=sorted({key.jahr for key in neu}),
                              mehrfach=sorted(set(mehrfach)))
    for key, werte in neu.items():
        before = veroeffentlicht.get(key)
        if before is None:
            result.neu += 1
        elif before == werte:
            result.unveraendert += 1
        else:
            result.ersetzt += 1
        result.werte[key] = werte
    return result


def summen_je_dienst(zeilen: Iterable[tuple[Schluessel, Kennzahlen]], kennzahl: str) -> dict[str, list[int | None]]:
    """Per online service, the figure ``kennzahl`` of each month (index 0 = January), summed over
    platforms; ``None`` for months without data."""
    result: dict[str, list[int | None]] = {}
    for key, werte in zeilen:
        months = result.setdefault(key.onlinedienst, [None] * 12)
        index = int(key.monat[5:7]) - 1
        months[index] = (months[index] or 0) + werte[kennzahl]
    return dict(sorted(result.items()))
