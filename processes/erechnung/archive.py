"""Archive of originals: a stand-in for the city's DMS/eAkte, one folder per invoice with a JSON sidecar.

Layout under the configured folder::

    <year received>/<Leitweg-ID>/<supplier>_<invoice number>/
        <original file>            the invoice exactly as it arrived (XML or PDF)
        <enclosures>               other files of the same mail (delivery notes, time sheets)
        beleg.json                 received, Message-ID, sha256 of each file, finance entry

The archive reference is the folder path relative to the archive root. Archiving the same file again
(a rerun after a crash) reuses the folder; a different file under the same supplier and number gets a
folder of its own (``…-2``), so nothing is overwritten.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from rathaus.core.project import Project
from rathaus.errors import ApplicationError
from rathaus.files import safe_file_name

SIDECAR = "beleg.json"


class ArchiveError(ApplicationError):
    """The archive folder cannot be written: a system problem, retry after fixing it."""

    code = "ARCHIV_NICHT_BESCHREIBBAR"


@dataclass(frozen=True)
class ArchivedInvoice:
    """Where an invoice was archived."""

    #: the folder relative to the archive root, e.g. ``2026/06631009-66-69/Lichtwerk_GmbH_LW-815``
    reference: str
    folder: Path
    original: Path
    #: False when an earlier run had archived the same file already
    new: bool


def resolve_root(folder: str, home: str | os.PathLike[str] | None = None) -> Path:
    """The archive root: ``folder`` when absolute, else below ``home``, by default the project's
    local data folder (``RATHAUS_HOME``, else ``<project>/var``)."""
    path = Path(folder)
    if path.is_absolute():
        return path
    base = Path(home) if home else Project.locate().home
    return (base / path).resolve()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def folder_name(supplier: str | None, number: str | None) -> str:
    """``<supplier>_<number>`` made safe for every file system, with blanks as ``_``."""
    text = f"{supplier or 'Lieferant unbekannt'}_{number or 'ohne Nummer'}"
    return safe_file_name("_".join(text.split()), fallback="rechnung")[:120]


def archive_invoice(
    root: Path,
    original: Path,
    *,
    leitweg_id: str,
    supplier: str | None,
    number: str | None,
    received: date,
    message_id: str | None,
    enclosures: Sequence[Path] = (),
    details: Mapping[str, Any] | None = None,
) -> ArchivedInvoice:
    """Copy the original (and the mail's enclosures) into the archive and write the sidecar."""
    original = Path(original)
    checksum = sha256_of(original)
    base = root / str(received.year) / safe_file_name(leitweg_id, fallback="ohne-leitweg-id")
    name = folder_name(supplier, number)
    try:
        for attempt in range(1, 100):
            folder = base / (name if attempt == 1 else f"{name}-{attempt}")
            sidecar = folder / SIDECAR
            if sidecar.is_file():
                existing = json.loads(sidecar.read_text(encoding="utf-8"))
                if existing.get("datei", {}).get("sha256") == checksum:
                    return ArchivedInvoice(_relative(folder, root), folder, folder / existing["datei"]["name"], False)
                continue
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / safe_file_name(original.name, fallback="rechnung")
            shutil.copyfile(original, target)
            files = []
            for enclosure in map(Path, enclosures):
                copy = folder / safe_file_name(f"anlage-{enclosure.name}", fallback="anlage")
                shutil.copyfile(enclosure, copy)
                files.append({"name": copy.name, "sha256": sha256_of(copy), "bytes": copy.stat().st_size})
            record = {
                "rechnungsnummer": number,
                "lieferant": supplier,
                "leitweg_id": leitweg_id,
                "eingang": received.isoformat(),
                "message_id": message_id,
                "datei": {"name": target.name, "sha256": checksum, "bytes": target.stat().st_size},
                "anlagen": files,
                "archiviert_am": datetime.now().astimezone().isoformat(timespec="seconds"),
                "beleg": None,
                **dict(details or {}),
            }
            _write_json(sidecar, record)
            return ArchivedInvoice(_relative(folder, root), folder, target, True)
    except OSError as error:
        raise ArchiveError(
            f"Rechnung {number or original.name}: Das Archiv '{root}' ist nicht beschreibbar ({error.strerror}). "
            "Bitte Speicherplatz und Berechtigungen prüfen und den Lauf erneut starten."
        ) from None
    raise ArchiveError(f"Rechnung {number}: zu viele verschiedene Dateien unter '{base / name}'. Bitte prüfen.")


def record_entry(root: Path, reference: str, entry: str) -> None:
    """Write the finance system's entry number (Belegnummer) into the sidecar of an archived invoice."""
    sidecar = root / reference / SIDECAR
    try:
        record = json.loads(sidecar.read_text(encoding="utf-8"))
        record["beleg"] = entry
        _write_json(sidecar, record)
    except (OSError, ValueError) as error:
        raise ArchiveError(
            f"Archiv '{reference}': Die Belegnummer {entry} ließ sich nicht vermerken ({error}). "
            "Bitte das Archiv prüfen; die Rechnung ist im Finanzverfahren erfasst."
        ) from None


def read_record(root: Path, reference: str) -> dict[str, Any]:
    """The sidecar of an archived invoice."""
    return json.loads((root / reference / SIDECAR).read_text(encoding="utf-8"))


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def _relative(folder: Path, root: Path) -> str:
    return folder.relative_to(root).as_posix()
