"""Runs of city robots: start with input work items, history with filters, details, progress and cancelling.

Who sees what (another city's run is :class:`NotFound`, never 403):

| =Role= | =Runs= | =Case data (input items, artifacts)= |
| clerk, admin | their city's | their city's |
| owner | their city's and those of robots of the processes their city owns (statistics) | their city's only |
| operator | all cities' (platform state) | none |

Clerks, admins and owners start robots of their own city; operators start none. Uploaded files of input
items live under ``<data_dir>/uploads/<city>/<item id>/``; the item's payload lists them under ``dateien``.

Uploads become cases as the robot's process declares (``intake:`` of its ``process.yaml``, see
:mod:`rathaus.core.cases`): a file type it does not take is refused; each uploaded ``.eml`` is one case, read as
the mail it is by the same code as a mailbox's mail (:func:`rathaus.mail.intake.mail_case`): its attachments are
the item's files, its Message-ID the item's reference, its variables (``message_id``, ``absender``, ``betreff``,
``eingang``) the item's payload; the other files of one upload form one case together or one case each. Every
uploaded case has ``quelle: upload`` and ``referenz`` (the item's reference) in its payload.
"""

from __future__ import annotations

import copy
import logging
import re
import shutil
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rathaus.core.cases import Intake
from rathaus.core.project import Project
from sqlalchemy import func, or_, select, true
from sqlalchemy.orm import Session

from rathaus_controlroom.models import ItemState, Robot, Role, Run, Runner, RunState, User, WorkItem
from rathaus_controlroom.services import audit
from rathaus_controlroom.services.errors import Conflict, Forbidden, Invalid, NotFound
from rathaus_controlroom.services.users import Principal

log = logging.getLogger(__name__)

#: key of an input item's payload that lists its uploaded files (names only)
FILES_KEY = "dateien"
#: runs per page of the history
PAGE_SIZE = 50
_FILE_NAME = re.compile(r"^[^/\\\x00-\x1f]{1,200}$")
FINISHED = (RunState.SUCCEEDED, RunState.FAILED, RunState.CANCELLED)


def as_utc(value: datetime | None) -> datetime | None:
    """A stored timestamp as aware UTC (SQLite returns naive UTC values, PostgreSQL aware ones)."""
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class InputFile:
    """One uploaded file of an input item."""

    name: str
    content: bytes


@dataclass(frozen=True)
class InputItem:
    """One input work item of a run: form fields (``payload``) and uploaded files."""

    payload: dict[str, Any] = field(default_factory=dict)
    files: tuple[InputFile, ...] = ()
    reference: str | None = None
    priority: int = 0
    #: made by :func:`build_inputs` from one uploaded file: :func:`start_run` arranges such items into cases
    uploaded: bool = False


@dataclass(frozen=True)
class RunView:
    """A run as the API and the UI show it; ``items`` only for those who may see the city's case data."""

    id: int
    city: str
    robot_id: int
    robot: str
    title: str
    state: str
    created_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    attempt: int
    cases_done: int
    cases_total: int
    cancel_requested: bool
    exit_code: int | None
    message: str | None
    schedule_id: int | None
    trigger_id: int | None
    runner: str | None
    requested_by: str | None
    case_data: bool
    items: tuple[dict[str, Any], ...] | None = None

    def as_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        for key in ("created_at", "started_at", "finished_at"):
            data[key] = data[key].isoformat() if data[key] else None
        data["items"] = list(self.items) if self.items is not None else None
        return data


# --- who may do what ---------------------------------------------------------------------------------------------

def may_see_case_data(principal: Principal, city_id: str) -> bool:
    """Input items and artifacts: only people of the run's own city, never operators."""
    return principal.role is not Role.OPERATOR and principal.city_id == city_id


def _visible(principal: Principal):
    """The SQL condition for runs ``principal`` may see (joined with Robot)."""
    if principal.role is Role.OPERATOR:
        return true()
    if principal.role is Role.OWNER:
        return or_(Run.city_id == principal.city_id, Robot.owner_city_id == principal.city_id)
    return Run.city_id == principal.city_id


def find_robot(session: Session, principal: Principal, robot: str | int) -> Robot:
    """A robot of the principal's city by id, ``<city>/<process>`` or process name; else :class:`NotFound`."""
    text = str(robot).strip()
    query = select(Robot).where(Robot.city_id == principal.city_id)
    if text.isdigit():
        row = session.scalar(query.where(Robot.id == int(text)))
    else:
        city, _, process = text.rpartition("/")
        row = None if city and city != principal.city_id else session.scalar(query.where(Robot.process == process))
    if row is None or principal.city_id is None:
        raise NotFound(f"Roboter '{text}' gibt es nicht oder er gehört zu einer anderen Stadt.")
    return row


def _run_row(session: Session, principal: Principal, run_id: int, lock: bool = False) -> tuple[Run, Robot]:
    query = select(Run, Robot).join(Robot, Robot.id == Run.robot_id).where(Run.id == run_id, _visible(principal))
    if lock:
        query = query.with_for_update(of=Run)
    row = session.execute(query).first()
    if row is None:
        raise NotFound(f"Lauf {run_id} gibt es nicht oder er gehört zu einer anderen Stadt.")
    return row[0], row[1]


# --- files of input items ----------------------------------------------------------------------------------------

def upload_folder(data_dir: Path, item: WorkItem) -> Path:
    return Path(data_dir) / "uploads" / item.city_id / str(item.id)


def item_file(data_dir: Path, item: WorkItem, name: str) -> Path:
    """The stored upload ``name`` of ``item``; :class:`NotFound` when the item does not list it."""
    if name not in (item.payload or {}).get(FILES_KEY, []):
        raise NotFound(f"Datei '{name}' gehört nicht zu Vorgang {item.id}.")
    path = upload_folder(data_dir, item) / name
    if not path.is_file():
        raise NotFound(f"Datei '{name}' von Vorgang {item.id} fehlt im Datenordner.")
    return path


def check_file_name(name: str) -> str:
    """A plain file name (no folders, no control characters), else :class:`Invalid`."""
    name = (name or "").strip()
    if not _FILE_NAME.match(name) or name in (".", ".."):
        raise Invalid(f"Dateiname '{name[:60]}' ist ungültig: ohne Ordner, höchstens 200 Zeichen.")
    return name


class TooLarge(Invalid):
    """An upload is larger than ``settings.max_upload_bytes`` (413); nothing was stored."""

    code = "TOO_LARGE"
    status = 413


#: the answer to a multipart body that was cut off before its closing boundary
INCOMPLETE_UPLOAD = "Der Upload ist unvollständig angekommen – bitte erneut hochladen; es wurde nichts gestartet."
#: what people who may not see a run's case data read instead of its message
HIDDEN_MESSAGE = "Meldung nur für die Stadt des Laufs sichtbar."


def size_label(size: int) -> str:
    """A byte count for people: ``512 Bytes``, ``1,5 KB``, ``20,0 MB``."""
    if size < 1024:
        return f"{size} Bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB".replace(".", ",")
    return f"{size / (1024 * 1024):.1f} MB".replace(".", ",")


def too_large(max_upload_bytes: int) -> TooLarge:
    """The one refusal of an oversized upload (API and UI)."""
    return TooLarge(f"Die hochgeladenen Dateien sind zu groß: zusammen größer als {size_label(max_upload_bytes)}. "
                    "Bitte weniger oder kleinere Dateien hochladen; es wurde nichts gestartet.")


def build_inputs(files: Sequence[tuple[str, bytes]], fields: dict[str, str], max_upload_bytes: int, *,
                 reference: str | None = None, priority: str | int = 0) -> list[InputItem]:
    """Input items of a start with uploads, the same rules for the API and the UI.

    Each file (``(name as sent, content)``; parts without a name are skipped, browsers send one when no file was
    chosen) becomes one item with ``fields`` as its payload; without files the fields (or a reference) make one
    item. ``reference`` gets ``-1``, ``-2``… when several files share it. Refused with :class:`Invalid`: an empty
    file (named), a bad file name, a priority that is no whole number; with :class:`TooLarge`: more than
    ``max_upload_bytes`` together.
    """
    text = str(priority).strip() or "0"
    if not text.lstrip("-").isdigit():
        raise Invalid("Die Priorität muss eine ganze Zahl sein. Es wurde nichts gestartet.")
    number = int(text)
    reference = (reference or "").strip() or None
    chosen, total = [], 0
    for sent_name, content in files:
        if not sent_name:
            continue
        total += len(content)
        if total > max_upload_bytes:
            raise too_large(max_upload_bytes)
        name = check_file_name(sent_name.replace("\\", "/").rsplit("/", 1)[-1])
        if not content:
            raise Invalid(f"Die Datei '{name}' ist leer. Bitte die richtige Datei wählen; es wurde nichts gestartet.")
        chosen.append(InputFile(name, content))
    if not chosen:
        return [InputItem(dict(fields), (), reference, number)] if fields or reference else []
    return [InputItem(dict(fields), (upload,), reference if len(chosen) == 1 or not reference
                      else f"{reference}-{position}", number, uploaded=True)
            for position, upload in enumerate(chosen, start=1)]


# --- uploads as cases --------------------------------------------------------------------------------------------

_KIND_TEXT = {"postfach": "aus dem Postfach", "ordner": "aus einem Ordner", "upload": "als Upload"}


def process_meta(project: Project | None, process: str) -> dict[str, Any] | None:
    """The robot's ``process.yaml`` (validated), ``None`` when the project has no such process."""
    from rathaus.core.config import load_process

    project = project or Project.locate()
    folder = project.processes / process
    if not (folder / "process.yaml").is_file():
        return None
    # read and validated once per version of its files (a start or a case page must not parse YAML each time)
    stamp = (str(folder), tuple((path.name, path.stat().st_mtime_ns) for path in sorted(folder.glob("*.yaml"))))
    with _META_LOCK:
        cached = _META_CACHE.get(stamp[0])
        if cached is None or cached[0] != stamp:
            cached = (stamp, load_process(project, process))
            _META_CACHE[stamp[0]] = cached
    return copy.deepcopy(cached[1])


_META_CACHE: dict[str, tuple[Any, dict[str, Any]]] = {}
_META_LOCK = threading.Lock()


def arrange_uploads(inputs: Sequence[InputItem], intake: Intake | None, title: str,
                    today: date | None = None) -> list[InputItem]:
    """The cases of a start's uploads as the process declares its intake; other inputs stay as they are.

    :class:`Invalid` (German, naming the file and what to do; nothing is started): the process takes no uploads,
    a file type it does not take, an ``.eml`` that is no mail, an ``.eml`` without an attachment of the types the
    process takes when it needs one (``mail_needs_attachment``).
    """
    uploaded = [item for item in inputs if item.uploaded]
    if intake is None or not uploaded:
        return list(inputs)
    if not intake.takes_uploads:
        ways = " und ".join(_KIND_TEXT[kind] for kind in intake.kinds)
        raise Invalid(f"Der Roboter '{title}' nimmt keine hochgeladenen Dateien an: seine Fälle kommen {ways}. "
                      "Bitte ohne Dateien starten; es wurde nichts gestartet.")
    for item in uploaded:
        for upload in item.files:
            if not intake.accepts(upload.name):
                raise Invalid(f"Die Datei '{upload.name}' hat einen Dateityp, den der Roboter '{title}' nicht "
                              f"annimmt; erlaubt sind: {intake.shown_types()}. Bitte die Datei umwandeln oder "
                              "weglassen; es wurde nichts gestartet.")
    first = uploaded[0]
    fields, priority = dict(first.payload), first.priority
    base = first.reference if len(uploaded) == 1 or not first.reference else first.reference.rsplit("-", 1)[0]
    day = (today or datetime.now(ZoneInfo("Europe/Berlin")).date()).strftime("%d.%m.%Y")
    mails: list[InputItem] = []
    loose: list[InputFile] = []
    for upload in (f for item in uploaded for f in item.files):
        if Path(upload.name).suffix.lower() == ".eml":
            mails.append(_mail_input(upload, fields, priority, intake, title))
        else:
            loose.append(upload)
    groups = [tuple(loose)] if loose and intake.loose_files == "together" else [(f,) for f in loose]
    cases = [InputItem({**fields, "quelle": "upload", "eingang": day}, group, None, priority) for group in groups]
    numbered = [replace(case, reference=base if len(cases) == 1 else f"{base}-{n}") if base else case
                for n, case in enumerate(cases, start=1)]
    return [*(item for item in inputs if not item.uploaded), *mails, *numbered]


def _mail_input(upload: InputFile, fields: dict[str, Any], priority: int, intake: Intake, title: str) -> InputItem:
    from rathaus.mail.errors import UnreadableMailError
    from rathaus.mail.intake import attachments_of_types, mail_case, read_mail_file

    try:
        case = mail_case(read_mail_file(upload.name, upload.content), source="upload", max_text=intake.mail_text)
    except UnreadableMailError as error:
        raise Invalid(f"{error} Es wurde nichts gestartet.") from None
    wanted = [t for t in intake.file_types if t != ".eml"]
    if intake.mail_needs_attachment and not attachments_of_types(case, wanted):
        raise Invalid(f"Die Mail '{upload.name}' hat keinen Anhang, den der Roboter '{title}' bearbeiten kann "
                      f"({', '.join(wanted)}). Bitte die Mail mit dem Antrag als Anhang hochladen oder die Dateien "
                      "selbst hochladen; es wurde nichts gestartet.")
    names = [check_file_name(name) for name in case.file_names]
    files = tuple(InputFile(name, content) for name, (_, content) in zip(names, case.files, strict=True))
    return InputItem({**fields, **case.variables}, files, case.key, priority)


def _cases_of_uploads(session: Session, robot: Robot, inputs: Sequence[InputItem],
                      project: Project | None) -> tuple[Sequence[InputItem], list[KnownCase]]:
    if not any(item.uploaded for item in inputs):
        return inputs, []
    meta = process_meta(project, robot.process)
    arranged = arrange_uploads(inputs, Intake.of(meta) if meta else None, robot.title)
    return _new_mails(session, robot, arranged)


@dataclass(frozen=True)
class KnownCase:
    """An uploaded mail that is already a case of the robot: it is reported, not started again."""

    reference: str
    item_id: int
    state: str
    aktenzeichen: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"reference": self.reference, "item_id": self.item_id, "state": self.state,
                "aktenzeichen": self.aktenzeichen}

    def text(self) -> str:
        known = f", Aktenzeichen {self.aktenzeichen}" if self.aktenzeichen else ""
        return f"Die Mail {self.reference} ist schon Fall {self.item_id} ({_KNOWN_STATE[self.state]}{known})"


_KNOWN_STATE = {"new": "wartet auf den Roboter", "in_progress": "in Bearbeitung", "done": "erledigt",
                "failed_business": "wartet auf die Sachbearbeitung", "failed_application": "wird erneut versucht"}


class AlreadyThere(Conflict):
    """Every uploaded mail is already a case (409): each is named with its case and Aktenzeichen."""

    code = "BEREITS_VORHANDEN"


def _new_mails(session: Session, robot: Robot,
               inputs: Sequence[InputItem]) -> tuple[list[InputItem], list[KnownCase]]:
    """Split uploads into new cases and mails that are already cases of the robot (the same Message-ID): those are
    not entered, answered or started again but reported with their case; when nothing new is left,
    :class:`AlreadyThere`."""
    mails = {item.reference for item in inputs if item.payload.get("quelle") == "upload"
             and item.payload.get("message_id") == item.reference}
    if not mails:
        return list(inputs), []
    rows = session.scalars(select(WorkItem).where(WorkItem.robot_id == robot.id, WorkItem.reference.in_(mails))
                           .order_by(WorkItem.id)).all()
    known = [KnownCase(row.reference, row.id, row.state.value, (row.payload or {}).get("aktenzeichen")) for row in rows]
    taken = {case.reference for case in known}
    fresh = [item for item in inputs if item.reference not in taken]
    if known and not fresh:
        listed = "; ".join(case.text() for case in known)
        error = AlreadyThere(f"{listed}. Nichts wurde neu eingetragen oder gestartet; die Fälle stehen in der "
                             "Arbeitsliste.")
        error.details = {"bereits_vorhanden": [case.as_dict() for case in known]}
        raise error
    return fresh, known


# --- starting ----------------------------------------------------------------------------------------------------

def start_run(session: Session, principal: Principal, robot: str | int, inputs: Sequence[InputItem] = (),
              data_dir: Path | None = None, now: datetime | None = None, project: Project | None = None) -> Run:
    """Queue a run of ``robot`` (a robot of the principal's city) with its input items; returns the run (QUEUED).

    Uploads (items from :func:`build_inputs`) become cases as the robot's process declares
    (:func:`arrange_uploads`). Uploaded files are written under ``data_dir`` only after every check passed;
    nothing is left behind when one fails.
    """
    if principal.role is Role.OPERATOR or principal.city_id is None:
        raise Forbidden("Der Betrieb startet keine Roboter: das tun Sachbearbeitung, Administration oder "
                        "Prozessverantwortliche der Stadt.")
    row = find_robot(session, principal, robot)
    inputs, known = _cases_of_uploads(session, row, inputs, project)
    if any(item.files for item in inputs) and data_dir is None:
        raise Invalid("Für hochgeladene Dateien fehlt der Datenordner des Kontrollraums.")
    for item in inputs:
        _check_input(item)
    run = Run(city_id=row.city_id, robot_id=row.id, state=RunState.QUEUED, requested_by=principal.user_id,
              created_at=now or utcnow(), attempt=0, cases_done=0, cases_total=0, cancel_requested=False)
    run.known_cases = tuple(known)
    session.add(run)
    session.flush()
    raw = []
    for item in inputs:
        payload = dict(item.payload)
        if item.files:
            payload[FILES_KEY] = [f.name for f in item.files]
        raw.append({"reference": item.reference, "payload": payload, "priority": item.priority})
    rows = _add_items(session, run, raw)
    for row_item in rows:
        if row_item.payload.get("quelle") == "upload":
            row_item.payload = {**row_item.payload, "referenz": row_item.reference}
    written: list[Path] = []
    try:
        for row_item, item in zip(rows, inputs, strict=True):
            if item.files:
                folder = upload_folder(data_dir, row_item)
                folder.mkdir(parents=True, exist_ok=True)
                written.append(folder)
                for upload in item.files:
                    (folder / upload.name).write_bytes(upload.content)
    except OSError as error:
        for folder in written:
            shutil.rmtree(folder, ignore_errors=True)
        raise Invalid(f"Hochgeladene Dateien konnten nicht gespeichert werden ({error.strerror}); es wurde "
                      "nichts gestartet.") from None
    audit.record(session, principal, "start_run", "run", run.id, run.city_id, robot=f"{row.city_id}/{row.process}",
                 inputs=len(rows), files=sum(len(i.files) for i in inputs))
    log.info("action=start_run city=%s run=%s robot=%s inputs=%d", run.city_id, run.id, row.process, len(rows))
    return run


def _check_input(item: InputItem) -> None:
    if not isinstance(item.payload, dict):
        raise Invalid("Die Daten einer Eingabe (payload) müssen ein JSON-Objekt sein.")
    if FILES_KEY in item.payload:
        raise Invalid(f"Das Feld '{FILES_KEY}' ist für hochgeladene Dateien reserviert; bitte umbenennen.")
    names = [check_file_name(f.name) for f in item.files]
    if len(set(names)) != len(names):
        raise Invalid("Zwei hochgeladene Dateien einer Eingabe haben denselben Namen; bitte umbenennen.")


def _add_items(session: Session, run: Run, raw: list[dict[str, Any]]) -> list[WorkItem]:
    if not raw:
        return []
    from rathaus_controlroom.services.items import add_input_items

    return add_input_items(session, run, raw)


# --- reading -----------------------------------------------------------------------------------------------------

def _berlin_day(day: date, tz: str) -> datetime:
    return datetime.combine(day, time.min, ZoneInfo(tz)).astimezone(timezone.utc)


def _state(value: RunState | str) -> RunState:
    try:
        return value if isinstance(value, RunState) else RunState(str(value).lower())
    except ValueError:
        allowed = ", ".join(s.value for s in RunState)
        raise Invalid(f"Status '{value}' ist unbekannt; erlaubt sind: {allowed}.") from None


@dataclass(frozen=True)
class RunPage:
    runs: list[RunView]
    total: int
    page: int
    per_page: int


def list_runs(session: Session, principal: Principal, robot: str | int | None = None,
              state: RunState | str | None = None, since: date | None = None, until: date | None = None,
              page: int = 1, per_page: int = PAGE_SIZE, timezone_name: str = "Europe/Berlin") -> RunPage:
    """The run history the principal may see, newest first; ``since``/``until`` are days in Berlin time."""
    if page < 1 or not 1 <= per_page <= 500:
        raise Invalid("Seite muss ab 1 zählen, höchstens 500 Läufe je Seite.")
    query = select(Run, Robot).join(Robot, Robot.id == Run.robot_id).where(_visible(principal))
    if robot not in (None, ""):
        text = str(robot).strip()
        if text.isdigit():
            query = query.where(Robot.id == int(text))
        elif "/" in text:
            city, _, process = text.partition("/")
            query = query.where(Robot.city_id == city, Robot.process == process)
        else:
            query = query.where(Robot.process == text)
    if state not in (None, ""):
        query = query.where(Run.state == _state(state))
    if since is not None:
        query = query.where(Run.created_at >= _berlin_day(since, timezone_name))
    if until is not None:
        query = query.where(Run.created_at < _berlin_day(until + timedelta(days=1), timezone_name))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(query.order_by(Run.created_at.desc(), Run.id.desc())
                           .offset((page - 1) * per_page).limit(per_page)).all()
    return RunPage([_view(session, principal, run, robot_row) for run, robot_row in rows], total, page, per_page)


def _view(session: Session, principal: Principal, run: Run, robot: Robot, items: bool = False) -> RunView:
    case_data = may_see_case_data(principal, run.city_id)
    runner = session.get(Runner, run.runner_id) if run.runner_id else None
    user = session.get(User, run.requested_by) if case_data and run.requested_by else None
    item_rows = None
    if items and case_data:
        item_rows = tuple(
            {"id": i.id, "reference": i.reference, "state": i.state.value, "attempts": i.attempts,
             "files": list((i.payload or {}).get(FILES_KEY, [])), "error_message": i.error_message}
            for i in session.scalars(select(WorkItem).where(WorkItem.run_id == run.id).order_by(WorkItem.id)))
    return RunView(
        id=run.id, city=run.city_id, robot_id=robot.id, robot=f"{robot.city_id}/{robot.process}", title=robot.title,
        state=run.state.value, created_at=as_utc(run.created_at), started_at=as_utc(run.started_at),
        finished_at=as_utc(run.finished_at), attempt=run.attempt or 0, cases_done=run.cases_done or 0,
        cases_total=run.cases_total or 0, cancel_requested=bool(run.cancel_requested), exit_code=run.exit_code,
        message=run.message if case_data or not run.message else HIDDEN_MESSAGE,
        schedule_id=run.schedule_id, trigger_id=run.trigger_id, runner=runner.name if runner else None,
        requested_by=user.name if user else None, case_data=case_data, items=item_rows)


def get_run(session: Session, principal: Principal, run_id: int) -> RunView:
    """One run the principal may see, with its input items when they may see case data."""
    run, robot = _run_row(session, principal, run_id)
    return _view(session, principal, run, robot, items=True)


def progress(session: Session, principal: Principal, run_id: int) -> dict[str, Any]:
    """State and cases done of total, for live updates."""
    run, _ = _run_row(session, principal, run_id)
    return {"id": run.id, "state": run.state.value, "cases_done": run.cases_done or 0,
            "cases_total": run.cases_total or 0, "cancel_requested": bool(run.cancel_requested)}


def input_file(session: Session, principal: Principal, run_id: int, item_id: int, name: str,
               data_dir: Path) -> Path:
    """An uploaded file of an input item of a run of the principal's own city."""
    run, _ = _run_row(session, principal, run_id)
    item = session.scalar(select(WorkItem).where(WorkItem.id == item_id, WorkItem.run_id == run.id))
    if item is None or not may_see_case_data(principal, run.city_id):
        raise NotFound(f"Vorgang {item_id} gibt es in Lauf {run_id} nicht oder er gehört zu einer anderen Stadt.")
    return item_file(data_dir, item, name)


def view(session: Session, principal: Principal, run: Run) -> RunView:
    """The view of a run object the caller already holds (e.g. after :func:`start_run`)."""
    return _view(session, principal, run, session.get(Robot, run.robot_id), items=True)


# --- cancelling --------------------------------------------------------------------------------------------------

def cancel_run(session: Session, principal: Principal, run_id: int, now: datetime | None = None) -> Run:
    """Ask to stop a run: a queued run is cancelled at once, a running one by its runner at its next heartbeat.

    People of the run's city and operators may cancel; process owners of another city may not.
    """
    now = now or utcnow()
    run, robot = _run_row(session, principal, run_id, lock=True)
    if principal.role is not Role.OPERATOR and principal.city_id != run.city_id:
        raise Forbidden(f"Lauf {run.id} gehört zu einer anderen Stadt; abbrechen kann ihn nur diese Stadt.")
    if run.state in FINISHED:
        raise Conflict(f"Lauf {run.id} ist schon beendet ({run.state.value}); es gibt nichts abzubrechen.")
    if run.cancel_requested:
        return run
    run.cancel_requested = True
    if run.state is RunState.QUEUED:
        run.state, run.finished_at = RunState.CANCELLED, now
        run.message = "Abgebrochen, bevor ein Runner den Lauf übernommen hat."
        hand_back_items(session, run, now)
    audit.record(session, principal, "cancel_run", "run", run.id, run.city_id, robot=f"{robot.city_id}/{robot.process}",
                 state=run.state.value)
    log.info("action=cancel_run city=%s run=%s state=%s", run.city_id, run.id, run.state.value)
    session.flush()
    return run


def hand_back_items(session: Session, run: Run, now: datetime) -> int:
    """A cancelled run's unfinished input items go to the clerk's worklist (retry or close there)."""
    count = 0
    for item in open_items(session, run):
        item.state, item.updated_at, item.next_attempt_at = ItemState.FAILED_BUSINESS, now, None
        item.error_code = "LAUF_ABGEBROCHEN"
        item.error_message = (f"Lauf {run.id} wurde abgebrochen, bevor der Vorgang '{item.reference}' bearbeitet "
                              "war: bitte erneut versuchen oder mit Grund abschließen.")
        count += 1
    return count


def open_items(session: Session, run: Run) -> list[WorkItem]:
    return list(session.scalars(select(WorkItem).where(
        WorkItem.run_id == run.id, WorkItem.state.in_((ItemState.NEW, ItemState.IN_PROGRESS)))
        .order_by(WorkItem.priority.desc(), WorkItem.id)))


def run_counts(session: Session, principal: Principal, since: datetime | None = None) -> list[dict[str, Any]]:
    """Runs per city, robot and state (statistics for owners and operators, no case data)."""
    query = (select(Run.city_id, Robot.process, Run.state, func.count(Run.id))
             .join(Robot, Robot.id == Run.robot_id).where(_visible(principal))
             .group_by(Run.city_id, Robot.process, Run.state).order_by(Run.city_id, Robot.process, Run.state))
    if since is not None:
        query = query.where(Run.created_at >= since)
    return [{"city": c, "process": p, "state": s.value, "count": n} for c, p, s, n in session.execute(query)]

