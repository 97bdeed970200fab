"""Artifacts of runs: the Robot Framework log and output, letters, screenshots and the run summary.

Runners upload them while they hold the run; they are stored under ``<data_dir>/artifacts/<city>/<run>/`` with
their size and SHA-256. Artifacts are case data: only people of the run's own city see them (operators and
process owners of other cities get :class:`NotFound`, as if the run had none).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rathaus_controlroom.models import Artifact, Run
from rathaus_controlroom.services.errors import Invalid, NotFound
from rathaus_controlroom.services.runners import held_run
from rathaus_controlroom.services.runs import as_utc, may_see_case_data
from rathaus_controlroom.services.users import Principal

log = logging.getLogger(__name__)

#: an artifact may be larger than an upload (a long run's log); beyond this it is refused
MAX_ARTIFACT_BYTES = 200 * 1024 * 1024
_SEGMENT = re.compile(r"^[^/\\\x00-\x1f]{1,120}$")
_CHUNK = 1024 * 1024

#: media types for downloads; log.html is shown in the browser as HTML
MEDIA_TYPES = {".html": "text/html; charset=utf-8", ".xml": "application/xml", ".txt": "text/plain; charset=utf-8",
               ".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
               ".svg": "image/svg+xml", ".csv": "text/csv; charset=utf-8", ".json": "application/json",
               ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


_KINDS_BY_NAME = {"log.html": "log", "report.html": "report", "output.xml": "output", "zusammenfassung.txt": "summary"}
_KINDS_BY_SUFFIX = {".pdf": "letter", ".docx": "letter", ".png": "screenshot", ".jpg": "screenshot",
                    ".jpeg": "screenshot"}


#: folder of the results a robot leaves outside its output folder (``artifacts:`` of process.yaml)
RESULTS_FOLDER = "ergebnis"


def kind_of(name: str) -> str:
    """What an artifact is, from its name: log, report, output, summary, letter, screenshot, file, or ergebnis
    (a published or archived result, uploaded as ``ergebnis/<config key>/<path>``)."""
    if PurePosixPath(name).parts[:1] == (RESULTS_FOLDER,):
        return RESULTS_FOLDER
    base = PurePosixPath(name).name.lower()
    return _KINDS_BY_NAME.get(base) or _KINDS_BY_SUFFIX.get(PurePosixPath(base).suffix, "file")


def media_type(name: str) -> str:
    return MEDIA_TYPES.get(PurePosixPath(name).suffix.lower(), "application/octet-stream")


def check_name(name: str) -> str:
    """A relative path such as ``schritt-2/briefe/a.pdf``: no absolute paths, no ``..``, at most 4 levels."""
    parts = (name or "").strip().split("/")
    if not 1 <= len(parts) <= 4 or any(p in ("", ".", "..") or not _SEGMENT.match(p) for p in parts):
        raise Invalid(f"Artefaktname '{(name or '')[:80]}' ist ungültig: relativer Pfad ohne '..', höchstens "
                      "4 Ebenen.")
    return "/".join(parts)


@dataclass(frozen=True)
class ArtifactView:
    id: int
    run_id: int
    name: str
    kind: str
    size: int
    sha256: str
    created_at: datetime | None

    @classmethod
    def from_row(cls, row: Artifact) -> ArtifactView:
        return cls(row.id, row.run_id, row.name, row.kind, row.size, row.sha256, as_utc(row.created_at))

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "run_id": self.run_id, "name": self.name, "kind": self.kind, "size": self.size,
                "sha256": self.sha256, "created_at": self.created_at.isoformat() if self.created_at else None}


def store(session: Session, data_dir: Path, runner_id: int, city_id: str, run_id: int, name: str,
          stream: IO[bytes], max_bytes: int = MAX_ARTIFACT_BYTES) -> ArtifactView:
    """Store an artifact the runner holding ``run_id`` uploads; a second upload of a name replaces the first."""
    run = held_run(session, runner_id, city_id, run_id)
    name = check_name(name)
    folder = Path(data_dir) / "artifacts" / run.city_id / str(run.id)
    target = folder.joinpath(*name.split("/"))
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".teil")
    digest, size = hashlib.sha256(), 0
    try:
        with partial.open("wb") as out:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise Invalid(f"Artefakt '{name}' ist größer als {max_bytes // (1024 * 1024)} MB und wurde "
                                  "nicht gespeichert.")
                digest.update(chunk)
                out.write(chunk)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    row = session.scalar(select(Artifact).where(Artifact.run_id == run.id, Artifact.name == name))
    if row is None:
        row = Artifact(city_id=run.city_id, run_id=run.id, name=name, kind=kind_of(name), path=str(target),
                       size=size, sha256=digest.hexdigest())
        session.add(row)
    else:
        row.path, row.size, row.sha256, row.kind = str(target), size, digest.hexdigest(), kind_of(name)
    session.flush()
    log.info("action=store_artifact city=%s run=%s kind=%s size=%d", run.city_id, run.id, row.kind, size)
    return ArtifactView.from_row(row)


def _case_run(session: Session, principal: Principal, run_id: int) -> Run:
    run = session.get(Run, run_id)
    if run is None or not may_see_case_data(principal, run.city_id):
        raise NotFound(f"Lauf {run_id} gibt es nicht oder er gehört zu einer anderen Stadt.")
    return run


def list_artifacts(session: Session, principal: Principal, run_id: int) -> list[ArtifactView]:
    """The artifacts of a run of the principal's own city."""
    run = _case_run(session, principal, run_id)
    rows = session.scalars(select(Artifact).where(Artifact.run_id == run.id).order_by(Artifact.name))
    return [ArtifactView.from_row(row) for row in rows]


def open_artifact(session: Session, principal: Principal, run_id: int, name: str) -> tuple[ArtifactView, Path]:
    """An artifact and its file, for download; checks that the file still has the size it was stored with."""
    run = _case_run(session, principal, run_id)
    row = session.scalar(select(Artifact).where(Artifact.run_id == run.id, Artifact.name == name))
    if row is None:
        raise NotFound(f"Artefakt '{name[:80]}' gibt es für Lauf {run_id} nicht.")
    path = Path(row.path)
    if not path.is_file() or path.stat().st_size != row.size:
        raise NotFound(f"Artefakt '{name[:80]}' von Lauf {run_id} fehlt im Datenordner oder wurde verändert.")
    return ArtifactView.from_row(row), path
