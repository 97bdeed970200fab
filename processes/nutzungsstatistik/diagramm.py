"""The chart of a year's publication: monthly calls and completed applications per online service.

Drawn with matplotlib's object API (``Figure``, no pyplot state) on the Agg backend, as PNG and SVG. The
output is byte for byte reproducible: the SVG's element ids come from a fixed ``svg.hashsalt``, and no
creation date is written into either file. matplotlib keeps its cache in a temporary folder
(``MPLCONFIGDIR``) unless the runner sets one, so that a robot writes nothing into the home folder.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

os.environ.setdefault(
    "MPLCONFIGDIR", str(Path(tempfile.gettempdir()) / f"rathaus-matplotlib-{getattr(os, 'getuid', lambda: 0)()}")
)

import matplotlib

matplotlib.use("Agg")

from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from nutzungsstatistik.kennzahlen import MONATSKUERZEL, Kennzahlen, Schluessel
from nutzungsstatistik.statistik import summen_je_dienst

#: Okabe–Ito colours (distinguishable with colour vision deficiencies), each paired with a marker.
FARBEN = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#F0E442")
MARKER = ("o", "s", "^", "D", "v", "P", "X", "*")
_RC = {
    "svg.hashsalt": "rathaus-nutzungsstatistik",
    "svg.fonttype": "path",
    "font.family": "DejaVu Sans",
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _tausender(value: float, _position: int) -> str:
    return f"{int(value):,}".replace(",", ".")


def _figure(zeilen: list[tuple[Schluessel, Kennzahlen]], titel: str) -> Figure:
    figure = Figure(figsize=(11, 7.5), dpi=100, layout="constrained")
    axes = figure.subplots(2, 1, sharex=True)
    months = list(range(1, 13))
    for ax, kennzahl, label in ((axes[0], "aufrufe", "Aufrufe"), (axes[1], "abgeschlossen", "Abgeschlossene Anträge")):
        for index, (dienst, values) in enumerate(summen_je_dienst(zeilen, kennzahl).items()):
            ax.plot(months, [float("nan") if v is None else v for v in values], label=dienst,
                    color=FARBEN[index % len(FARBEN)], marker=MARKER[index % len(MARKER)], markersize=4,
                    linewidth=1.6)
        ax.set_ylabel(label)
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_formatter(FuncFormatter(_tausender))
        ax.grid(axis="y", color="#dddddd", linewidth=0.8)
    axes[1].set_xticks(months, MONATSKUERZEL)
    axes[1].set_xlim(0.6, 12.4)
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside right center", title="Onlinedienst", frameon=False)
    figure.suptitle(titel, fontsize=13)
    return figure


def zeichne(zeilen: Iterable[tuple[Schluessel, Kennzahlen]], titel: str, beschreibung: str) -> tuple[bytes, bytes]:
    """PNG and SVG of the chart for one year's rows; ``beschreibung`` becomes the files' text alternative."""
    zeilen = list(zeilen)
    with rc_context(_RC):
        figure = _figure(zeilen, titel)
        png, svg = io.BytesIO(), io.BytesIO()
        figure.savefig(png, format="png", metadata={"Title": titel, "Description": beschreibung, "Software": None})
        figure.savefig(svg, format="svg", metadata={"Title": titel, "Description": beschreibung, "Date": None,
                                                    "Creator": None})
    return png.getvalue(), svg.getvalue()
