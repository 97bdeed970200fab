"""The German web UI, rendered on the server (Jinja2). HTTP only: every query and change goes through services/.

Pages work without JavaScript; forms carry the session's CSRF token in the hidden field ``csrf_token``. The
session cookie is httponly, ``SameSite=Strict`` and ``Secure`` on https; each page view moves its idle timeout.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as StarletteUpload

from rathaus_controlroom.models import ItemState, Robot, Role, RunState
from rathaus_controlroom.services import admin as admin_service
from rathaus_controlroom.services import artifacts as artifact_service
from rathaus_controlroom.services import audit
from rathaus_controlroom.services import credentials as credential_service
from rathaus_controlroom.services import items as item_service
from rathaus_controlroom.services import logins as login_service
from rathaus_controlroom.services import publishing as publishing_service
from rathaus_controlroom.services import robots as robot_service
from rathaus_controlroom.services import runners as runner_service
from rathaus_controlroom.services import runs as run_service
from rathaus_controlroom.services import schedules as schedule_service
from rathaus_controlroom.services import triggers as trigger_service
from rathaus_controlroom.services.errors import (
    Conflict,
    ControlRoomError,
    Forbidden,
    Invalid,
    NotFound,
    Unauthenticated,
)
from rathaus_controlroom.services.users import Principal
from rathaus_controlroom.settings import Settings
from rathaus_controlroom.web import caseform, sessions
from rathaus_controlroom.web.api_items import case_file_response
from rathaus_controlroom.web.api_processes import get_project
from rathaus_controlroom.web.api_runs import artifact_response, read_complete_body
from rathaus_controlroom.web.deps import Db, csrf_protect, current_principal

router = APIRouter(include_in_schema=False)
Who = Annotated[Principal, Depends(current_principal)]
Field = Annotated[str, Form()]
#: state-changing pages check the session's CSRF token before anything else
CSRF = [Depends(csrf_protect)]
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))

#: cookie of the login form's CSRF token (double submit: there is no session before logging in)
LOGIN_COOKIE = "rathaus_anmeldung"

ROLE_LABELS = {
    Role.CLERK: "Sachbearbeitung",
    Role.OWNER: "Prozessverantwortung",
    Role.ADMIN: "Administration der Stadt",
    Role.OPERATOR: "Betrieb",
}
RUN_STATE_LABELS = {
    RunState.QUEUED: "Wartet auf einen Runner",
    RunState.RUNNING: "Läuft",
    RunState.SUCCEEDED: "Beendet",
    RunState.FAILED: "Fehlgeschlagen",
    RunState.CANCELLED: "Abgebrochen",
}
ITEM_STATE_LABELS = {
    ItemState.NEW: "Neu",
    ItemState.IN_PROGRESS: "In Bearbeitung",
    ItemState.DONE: "Erledigt",
    ItemState.FAILED_BUSINESS: "Zur Klärung (Sachbearbeitung)",
    ItemState.FAILED_APPLICATION: "Technischer Fehler (wird wiederholt)",
}
#: notices a redirect may ask for (``?hinweis=…``); only these fixed texts are ever shown
NOTICES = {
    "abgemeldet": "Sie haben sich abgemeldet.",
    "gestartet": "Der Lauf wurde angelegt und wartet auf einen Runner.",
    "gestartet_teils": "Der Lauf wurde für die neuen Fälle angelegt. Mails, die schon Fälle sind, wurden nicht noch "
                       "einmal gestartet; sie stehen mit ihrem Aktenzeichen in der Arbeitsliste.",
    "abbruch": "Der Abbruch wurde angefordert.",
    "wiederholt": "Der Fall wurde korrigiert und wird erneut bearbeitet.",
    "geschlossen": "Der Fall wurde mit Begründung geschlossen.",
    "zeitplan": "Der Zeitplan wurde gespeichert.",
    "pausiert": "Der Zeitplan ist pausiert.",
    "fortgesetzt": "Der Zeitplan läuft wieder.",
    "zugangsdaten": "Die Zugangsdaten wurden verschlüsselt gespeichert. Der Wert wird nicht mehr angezeigt.",
    "zeitplan_geloescht": "Der Zeitplan wurde gelöscht.",
    "mailstart": "Der Roboter startet ab jetzt, sobald neue Mail in seinem Postfach eingeht.",
    "mailstart_pausiert": "Der Start bei neuer Mail ist pausiert.",
    "mailstart_fortgesetzt": "Der Start bei neuer Mail ist wieder aktiv.",
    "mailstart_geloescht": "Der Start bei neuer Mail wurde gelöscht.",
    "zugangsdaten_geloescht": "Die Zugangsdaten wurden gelöscht.",
    "benutzer": "Der Benutzer wurde angelegt.",
    "runner_gesperrt": "Der Runner ist gesperrt; sein Token gilt nicht mehr.",
    "veroeffentlicht": "Die Version ist veröffentlicht; die übernehmenden Städte sehen sie jetzt unter Prozesse.",
    "benutzer_gesperrt": "Der Benutzer ist gesperrt; seine Sitzungen und API-Tokens gelten nicht mehr.",
    "benutzer_entsperrt": "Der Benutzer ist wieder aktiv. Frühere API-Tokens bleiben ungültig.",
}
#: (address, label, roles that see it) of the main navigation
NAVIGATION = [
    ("/", "Roboter", set(Role)),
    ("/laeufe", "Läufe", set(Role)),
    ("/prozesse", "Prozesse", set(Role)),
    ("/arbeitsliste", "Arbeitsliste", {Role.CLERK, Role.ADMIN}),
    ("/statistik", "Statistik", {Role.OWNER, Role.OPERATOR}),
    ("/zeitplaene", "Zeitpläne", {Role.ADMIN}),
    ("/zugangsdaten", "Zugangsdaten", {Role.ADMIN}),
    ("/benutzer", "Benutzer", {Role.ADMIN, Role.OPERATOR}),
    ("/runner", "Runner", {Role.ADMIN, Role.OPERATOR}),
    ("/protokoll", "Protokoll", {Role.ADMIN, Role.OPERATOR}),
]
_ERROR_TITLES = {
    400: "Anfrage nicht möglich",
    401: "Anmeldung erforderlich",
    403: "Nicht erlaubt",
    404: "Nicht gefunden",
    409: "Nicht möglich",
    413: "Datei zu groß",
    422: "Eingabe ungültig",
}


def _settings(request: Request) -> Settings:
    return request.app.state.settings


_WEEKDAYS = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")


def _local_time(request: Request, moment: datetime | None, weekday: bool = False) -> str:
    """A stored time (UTC; SQLite gives it naive) in the control room's time zone, German style."""
    if moment is None:
        return "–"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    local = moment.astimezone(ZoneInfo(_settings(request).timezone))
    text = local.strftime("%d.%m.%Y, %H:%M Uhr")
    return f"{_WEEKDAYS[local.weekday()]} {text}" if weekday else text


def _label(labels: dict[Any, str], value: Any) -> str:
    """The German label of an enum member or of its stored value (views carry plain strings)."""
    for member, text in labels.items():
        if value is member or value == member.value:
            return text
    return str(getattr(value, "value", value))


TEMPLATES.env.globals.update(
    role_label=lambda role: _label(ROLE_LABELS, role),
    run_state_label=lambda state: _label(RUN_STATE_LABELS, state),
    item_state_label=lambda state: _label(ITEM_STATE_LABELS, state),
)


def csrf_for(request: Request) -> str:
    """The CSRF token of the request's session ('' without a session)."""
    cookie = getattr(request.state, "session_cookie", None) or request.cookies.get(sessions.COOKIE)
    return sessions.csrf_token(_settings(request).session_key, cookie) if cookie else ""


def _set_session_cookie(request: Request, response: Response, value: str) -> None:
    response.set_cookie(sessions.COOKIE, value, httponly=True, samesite="strict", path="/",
                        secure=request.url.scheme == "https")


def render(request: Request, template: str, principal: Principal | None, *, title: str, status: int = 200,
           active: str | None = None, **context: Any) -> HTMLResponse:
    """A page of the layout; a logged-in user's session cookie is signed anew (idle timeout moves on)."""
    names: dict[str, str] = context.pop("city_names", None) or {}
    if principal is not None and not names:
        with request.app.state.database.session() as session:
            names = robot_service.city_names(session)
    notice = NOTICES.get(request.query_params.get("hinweis", ""))
    values = {
        "title": title,
        "principal": principal,
        "nav": [(href, label) for href, label, roles in NAVIGATION if principal and principal.role in roles],
        "active": active,
        "csrf": csrf_for(request),
        "city_names": names,
        "city_name": names.get(principal.city_id, principal.city_id) if principal and principal.city_id else "",
        "notice": notice,
        "when": lambda moment, weekday=False: _local_time(request, moment, weekday),
        **context,
    }
    response = TEMPLATES.TemplateResponse(request, template, values, status_code=status)
    cookie = getattr(request.state, "session_cookie", None)
    if principal is not None and cookie:
        settings = _settings(request)
        with contextlib.suppress(Unauthenticated):
            _set_session_cookie(request, response, sessions.refresh(settings.session_key, cookie,
                                                                    settings.session_timeout_s))
    return response


def _login_address(request: Request) -> str:
    target = request.url.path if request.method == "GET" else request.headers.get("referer", "/")
    if target.startswith(("http://", "https://")):
        target = "/" + target.split("://", 1)[1].partition("/")[2]
    return f"/anmelden?weiter={quote(target, safe='/')}"


def error_page(request: Request, error: ControlRoomError | Exception, status: int | None = None) -> Response:
    """The German page for a refused request, with the error's status; nothing was changed."""
    status = status or getattr(error, "status", 500)
    message = str(error)
    if isinstance(error, Unauthenticated):
        if request.method == "GET" and not request.cookies.get(sessions.COOKIE):
            return RedirectResponse(_login_address(request), status_code=303)
        title = "Sitzung abgelaufen" if "abgelaufen" in message else _ERROR_TITLES[401]
        response = render(request, "error.html", None, title=title, status=status, message=message,
                          login_link=_login_address(request))
        response.delete_cookie(sessions.COOKIE, path="/")
        return response
    principal = None
    try:
        principal = current_principal(request)
    except ControlRoomError:
        principal = None
    return render(request, "error.html", principal, title=_ERROR_TITLES.get(status, "Fehler"), status=status,
                  message=message)


# --- login and logout ---------------------------------------------------------------------------------------


def _safe_target(target: str | None) -> str:
    """Only addresses of this site (``/…``, not ``//host``) are followed after logging in."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/anmelden", response_class=HTMLResponse)
def login_form(request: Request, weiter: str = "/") -> Response:
    token = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
    response = render(request, "login.html", None, title="Anmelden", login_csrf=token,
                      weiter=_safe_target(weiter), name="")
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", path="/anmelden",
                        secure=request.url.scheme == "https")
    return response


@router.post("/anmelden", response_class=HTMLResponse)
def login(request: Request, name: Field = "", passwort: Field = "", weiter: Field = "/",
          csrf_token: Field = "") -> Response:
    expected = request.cookies.get(LOGIN_COOKIE)
    if not expected or not secrets.compare_digest(expected.encode(), csrf_token.encode()):
        return render(request, "login.html", None, title="Anmelden", status=403, login_csrf=expected or "",
                      weiter=_safe_target(weiter), name=name,
                      error="Das Anmeldeformular ist abgelaufen oder kam von einer anderen Seite. "
                            "Bitte melden Sie sich erneut an.")
    try:
        principal = login_service.sign_in(request.app.state.database, login_service.Throttle.of(_settings(request)),
                                          name.strip(), passwort, request.client.host if request.client else "-")
    except (Unauthenticated, login_service.TooManyAttempts) as failure:
        response = render(request, "login.html", None, title="Anmelden", status=failure.status, login_csrf=expected,
                          weiter=_safe_target(weiter), name=name, error=str(failure))
        if isinstance(failure, login_service.TooManyAttempts):
            response.headers["Retry-After"] = str(failure.retry_after_s)
        return response
    response = RedirectResponse(_safe_target(weiter), status_code=303)
    _set_session_cookie(request, response, sessions.issue(_settings(request).session_key, principal.user_id))
    response.delete_cookie(LOGIN_COOKIE, path="/anmelden")
    return response


@router.post("/abmelden", dependencies=CSRF)
def logout(request: Request) -> Response:
    response = RedirectResponse("/anmelden?hinweis=abgemeldet", status_code=303)
    response.delete_cookie(sessions.COOKIE, path="/")
    return response


# --- robots -------------------------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def start_page(request: Request, principal: Who, session: Db) -> Response:
    robots = robot_service.visible_robots(session, principal)
    return render(request, "start.html", principal, title="Roboter", active="/", robots=robots,
                  can_start=principal.role in (Role.CLERK, Role.ADMIN),
                  city_names=robot_service.city_names(session))


# --- worklist -------------------------------------------------------------------------------------------------


WORKLIST_VIEWS = {"offen": "Zur Klärung", "abgeschlossen": "Von Hand abgeschlossen", "erledigt": "Vom Roboter erledigt"}


@router.get("/arbeitsliste", response_class=HTMLResponse)
def worklist_page(request: Request, principal: Who, session: Db, ansicht: str = "offen", roboter: str = "",
                  code: str = "", lauf: str = "", von: str = "", bis: str = "", suche: str = "") -> Response:
    filters = {"ansicht": ansicht, "roboter": roboter, "code": code, "lauf": lauf, "von": von, "bis": bis,
               "suche": suche}
    items, error, status = [], None, 200
    try:
        since, until = _day(von, "Von"), _day(bis, "Bis")
        if since and until and since > until:
            raise Invalid("Das Datum 'Von' liegt nach 'Bis'; bitte tauschen.")
        chosen = item_service.WorklistFilter(ansicht if ansicht in WORKLIST_VIEWS else "offen", roboter or None,
                                             code or None, int(lauf) if lauf.isdigit() else None, since, until,
                                             suche[:100] or None)
        items = item_service.find_cases(session, principal, chosen, timezone_name=_settings(request).timezone)
    except Invalid as failure:
        error, status = str(failure), failure.status
    exhausted = item_service.exhausted_items(session, principal) if principal.role is Role.ADMIN else None
    robots = robot_service.visible_robots(session, principal)
    view = ansicht if ansicht in WORKLIST_VIEWS else "offen"
    return render(request, "worklist.html", principal, title="Arbeitsliste", active="/arbeitsliste", items=items,
                  exhausted=exhausted if view == "offen" else None, status=status, error=error, filters=filters,
                  view=view, views=WORKLIST_VIEWS, codes=item_service.error_codes(session, principal),
                  robot_choices=[(r.process, r.title) for r in robots if r.city_id == principal.city_id],
                  view_link=lambda name: "/arbeitsliste?" + urlencode(
                      {**{k: v for k, v in filters.items() if v and k != "ansicht"}, "ansicht": name}))


def _editable_fields(payload: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """Top-level values a clerk can edit in a plain form (texts, numbers, yes/no); the rest stays as it is."""
    fields, fixed = [], []
    for key, value in payload.items():
        if isinstance(value, bool):
            fields.append({"key": key, "kind": "bool", "value": value, "text": ""})
        elif isinstance(value, int | float):
            fields.append({"key": key, "kind": "number", "value": value, "text": str(value)})
        elif value is None or isinstance(value, str):
            fields.append({"key": key, "kind": "text", "value": value, "text": value or ""})
        else:
            fixed.append(key)
    return fields, fixed


def _edited_payload(item: item_service.ItemView, form: Any) -> dict[str, Any]:
    payload = dict(item.payload)
    fields, _ = _editable_fields(item.payload)
    for field in fields:
        key, raw = field["key"], form.get(f"feld__{field['key']}")
        if field["kind"] == "bool":
            payload[key] = raw == "ja"
        elif field["kind"] == "number":
            text = str(raw or "").strip().replace(",", ".")
            try:
                payload[key] = int(text) if isinstance(field["value"], int) and text.lstrip("-").isdigit() \
                    else float(text)
            except ValueError:
                raise Invalid(f"Vorgang {item.id}: das Feld '{key}' braucht eine Zahl, nicht '{raw}'. "
                              "Es wurde nichts geändert.") from None
        else:
            text = str(raw if raw is not None else "")
            payload[key] = None if field["value"] is None and text == "" else text
    return payload


def _item_page(request: Request, principal: Principal, session: Session, item_id: int, *, status: int = 200,
               error: str | None = None, reason: str = "", typed: Any = None,
               problems: list[Any] | None = None) -> Response:
    """A case of the worklist; after a refused change the form shows the message and what was typed."""
    case = item_service.get_case(session, principal, item_id, get_project(request))
    item = case.item
    form = caseform.build_form(case.schema, case.case_data, typed, problems or ()) if case.schema else None
    fields, fixed = _editable_fields(item.payload)
    if typed is not None:
        for field in fields:
            raw = typed.get(f"feld__{field['key']}")
            if field["kind"] == "bool":
                field["value"] = raw == "ja"
            else:
                field["text"] = str(raw or "")
    robot = session.get(Robot, item.robot_id)
    return render(request, "item.html", principal, title=f"Fall {item.reference}", active="/arbeitsliste",
                  status=status, error=error, item=item, robot_title=robot.title if robot else item.process,
                  fields=fields, fixed=fixed, reason=reason,
                  handled=ItemState(item.state) in item_service.HANDLED_STATES, case=case, form=form,
                  problems=problems or [])


@router.get("/arbeitsliste/{item_id}/dateien/{name}")
def case_file(request: Request, item_id: int, name: str, principal: Who, session: Db) -> Response:
    """A document or letter of a case of the clerk's city: PDFs shown in the page, everything else downloads."""
    path = item_service.case_file(session, principal, item_id, name, _settings(request).data_dir)
    return case_file_response(path, name)


@router.get("/arbeitsliste/{item_id}", response_class=HTMLResponse)
def item_page(request: Request, item_id: int, principal: Who, session: Db) -> Response:
    return _item_page(request, principal, session, item_id)


@router.post("/arbeitsliste/{item_id}/wiederholen", dependencies=CSRF)
async def retry_item(request: Request, item_id: int, principal: Who) -> Response:
    form = await request.form()  # read without blocking; the database work in a worker thread
    return await run_in_threadpool(_retry_item, request, item_id, principal, form)


def _retry_item(request: Request, item_id: int, principal: Principal, form: Any) -> Response:
    database = request.app.state.database
    project = get_project(request)
    try:
        with database.session() as session:
            case = item_service.get_case(session, principal, item_id, project)
            payload = (caseform.case_from_form(case.schema, form, case.case_data) if case.schema
                       else _edited_payload(case.item, form))
            item_service.retry_item(session, principal, item_id, payload, project=project)
    except Invalid as error:
        with database.session() as session:
            return _item_page(request, principal, session, item_id, status=error.status, error=str(error),
                              typed=form, problems=getattr(error, "problems", None))
    return RedirectResponse("/arbeitsliste?hinweis=wiederholt", status_code=303)


@router.post("/arbeitsliste/{item_id}/abschliessen", dependencies=CSRF)
def close_item(request: Request, item_id: int, principal: Who, session: Db, grund: Field = "",
               bestaetigt: Field = "") -> Response:
    try:
        with session.begin_nested():
            if bestaetigt != "ja":  # the confirm step, without JavaScript: check the reason, then ask
                item = item_service.check_close(session, principal, item_id, grund)
                return render(request, "item_close.html", principal, title=f"Fall {item.reference} abschließen",
                              active="/arbeitsliste", item=item, reason=grund.strip())
            item_service.close_item(session, principal, item_id, grund)
    except Invalid as error:
        return _item_page(request, principal, session, item_id, status=error.status, error=str(error), reason=grund)
    return RedirectResponse("/arbeitsliste?hinweis=geschlossen", status_code=303)


# --- schedules ------------------------------------------------------------------------------------------------


def _schedules_page(request: Request, principal: Principal, session: Session, *, status: int = 200,
                    error: str | None = None, preview: list[datetime] | None = None,
                    form: dict[str, Any] | None = None, mail_error: str | None = None,
                    mail_form: dict[str, Any] | None = None) -> Response:
    calendar = schedule_service.Calendar.of(_settings(request))
    entries = [{"view": view, "upcoming": [] if view.paused else schedule_service.preview(view, 3, calendar=calendar)}
               for view in schedule_service.list_schedules(session, principal, calendar)]
    return render(request, "schedules.html", principal, title="Zeitpläne", active="/zeitplaene", status=status,
                  schedules=entries, robots=robot_service.visible_robots(session, principal), error=error,
                  triggers=trigger_service.list_triggers(session, principal, _settings(request)),
                  mail_error=mail_error, mail_form=mail_form or {"abruf": "5"},
                  preview=preview, form=form or {"cron": "30 7 * * 1-5", "feiertage": True},
                  cron_help=schedule_service.CRON_HELP[0].upper() + schedule_service.CRON_HELP[1:],
                  timezone=calendar.timezone)


@router.get("/zeitplaene", response_class=HTMLResponse)
def schedules_page(request: Request, principal: Who, session: Db) -> Response:
    schedule_service.require_admin(principal)
    return _schedules_page(request, principal, session)


@router.post("/zeitplaene", dependencies=CSRF)
def create_schedule(request: Request, principal: Who, session: Db, roboter: Field = "", cron: Field = "",
                    feiertage: Field = "", pausiert: Field = "", aktion: Field = "speichern") -> Response:
    calendar = schedule_service.Calendar.of(_settings(request))
    form = {"roboter": roboter, "cron": cron, "feiertage": feiertage == "ja", "pausiert": pausiert == "ja"}
    try:
        if aktion == "vorschau":
            schedule_service.require_admin(principal)
            moments = schedule_service.preview_cron(cron, form["feiertage"], 5, calendar=calendar)
            return _schedules_page(request, principal, session, preview=moments, form=form)
        schedule_service.create_schedule(session, principal, roboter, cron, form["feiertage"], form["pausiert"],
                                         calendar=calendar)
    except Invalid as error:
        return _schedules_page(request, principal, session, status=error.status, error=str(error), form=form)
    return RedirectResponse("/zeitplaene?hinweis=zeitplan", status_code=303)


@router.post("/zeitplaene/{schedule_id}/pausieren", dependencies=CSRF)
def pause_schedule(request: Request, schedule_id: int, principal: Who, session: Db) -> Response:
    schedule_service.pause_schedule(session, principal, schedule_id, schedule_service.Calendar.of(_settings(request)))
    return RedirectResponse("/zeitplaene?hinweis=pausiert", status_code=303)


@router.post("/zeitplaene/{schedule_id}/fortsetzen", dependencies=CSRF)
def resume_schedule(request: Request, schedule_id: int, principal: Who, session: Db) -> Response:
    schedule_service.resume_schedule(session, principal, schedule_id,
                                     calendar=schedule_service.Calendar.of(_settings(request)))
    return RedirectResponse("/zeitplaene?hinweis=fortgesetzt", status_code=303)


@router.post("/zeitplaene/{schedule_id}/loeschen", dependencies=CSRF)
def delete_schedule(schedule_id: int, principal: Who, session: Db) -> Response:
    schedule_service.delete_schedule(session, principal, schedule_id)
    return RedirectResponse("/zeitplaene?hinweis=zeitplan_geloescht", status_code=303)


@router.post("/zeitplaene/mail", dependencies=CSRF)
def create_trigger(request: Request, principal: Who, session: Db, roboter: Field = "", abruf: Field = "5",
                   pausiert: Field = "") -> Response:
    form = {"roboter": roboter, "abruf": abruf, "pausiert": pausiert == "ja"}
    try:
        poll: object = int(abruf) if abruf.strip().isdigit() and len(abruf.strip()) <= 6 else abruf
        trigger_service.create_trigger(session, principal, roboter, _settings(request), poll, form["pausiert"])
    except (Invalid, Conflict) as error:
        return _schedules_page(request, principal, session, status=error.status, mail_error=str(error),
                               mail_form=form)
    return RedirectResponse("/zeitplaene?hinweis=mailstart", status_code=303)


@router.post("/zeitplaene/mail/{trigger_id}/{aktion}", dependencies=CSRF)
def change_trigger(request: Request, trigger_id: int, aktion: str, principal: Who, session: Db) -> Response:
    if aktion == "loeschen":
        trigger_service.delete_trigger(session, principal, trigger_id)
        return RedirectResponse("/zeitplaene?hinweis=mailstart_geloescht", status_code=303)
    if aktion not in ("pausieren", "fortsetzen"):
        raise NotFound("Diese Aktion gibt es nicht.")
    trigger_service.set_paused(session, principal, trigger_id, aktion == "pausieren", _settings(request))
    return RedirectResponse(f"/zeitplaene?hinweis=mailstart_{'pausiert' if aktion == 'pausieren' else 'fortgesetzt'}",
                            status_code=303)


# --- credentials ----------------------------------------------------------------------------------------------


def _credentials_page(request: Request, principal: Principal, session: Session, *, status: int = 200,
                      error: str | None = None, name: str = "") -> Response:
    return render(request, "credentials.html", principal, title="Zugangsdaten", active="/zugangsdaten",
                  status=status, error=error, form_name=name,
                  credentials=credential_service.list_credentials(session, principal))


@router.get("/zugangsdaten", response_class=HTMLResponse)
def credentials_page(request: Request, principal: Who, session: Db) -> Response:
    return _credentials_page(request, principal, session)


@router.post("/zugangsdaten", dependencies=CSRF)
def save_credential(request: Request, principal: Who, session: Db, name: Field = "", wert: Field = "") -> Response:
    try:
        credential_service.save_credential(session, _settings(request), principal, name.strip(), wert)
    except Invalid as error:
        return _credentials_page(request, principal, session, status=error.status, error=str(error), name=name)
    return RedirectResponse("/zugangsdaten?hinweis=zugangsdaten", status_code=303)


@router.post("/zugangsdaten/{name}/loeschen", dependencies=CSRF)
def delete_credential(name: str, principal: Who, session: Db) -> Response:
    credential_service.delete_credential(session, principal, name)
    return RedirectResponse("/zugangsdaten?hinweis=zugangsdaten_geloescht", status_code=303)


# --- audit log ------------------------------------------------------------------------------------------------

ACTION_LABELS = {
    "start_run": "Lauf gestartet",
    "cancel_run": "Lauf abgebrochen",
    "retry_item": "Fall erneut versucht",
    "close_item": "Fall abgeschlossen",
    "create_schedule": "Zeitplan angelegt",
    "pause_schedule": "Zeitplan pausiert",
    "resume_schedule": "Zeitplan fortgesetzt",
    "delete_schedule": "Zeitplan gelöscht",
    "create_trigger": "Start bei neuer Mail eingerichtet",
    "pause_trigger": "Start bei neuer Mail pausiert",
    "resume_trigger": "Start bei neuer Mail fortgesetzt",
    "delete_trigger": "Start bei neuer Mail gelöscht",
    "create_credential": "Zugangsdaten gespeichert",
    "update_credential": "Zugangsdaten ersetzt",
    "delete_credential": "Zugangsdaten gelöscht",
    "add_user": "Benutzer angelegt",
    "deactivate_user": "Benutzer gesperrt",
    "activate_user": "Benutzer entsperrt",
    "login_failed": "Anmeldung fehlgeschlagen",
    "create_token": "API-Token ausgegeben",
    "register_runner": "Runner registriert",
}
TEMPLATES.env.globals["action_label"] = lambda action: ACTION_LABELS.get(action, action)


@router.get("/protokoll", response_class=HTMLResponse)
def audit_page(request: Request, principal: Who, session: Db) -> Response:
    entries = audit.entries(session, principal)
    return render(request, "audit.html", principal, title="Protokoll", active="/protokoll", entries=entries)


# --- starting runs --------------------------------------------------------------------------------------------

START_ROLES = (Role.CLERK, Role.ADMIN, Role.OWNER)


async def release_upload(request: Request) -> AsyncIterator[None]:
    """Close the parsed form's temporary files whatever happens after (also when CSRF refuses the request)."""
    try:
        yield
    finally:
        await request.close()


async def upload_limit(request: Request) -> None:
    """Refuse an oversized (413) or cut-off (422) upload before anything (the CSRF check) parses it."""
    await read_complete_body(request, _settings(request))


def _fields(text: str) -> dict[str, str]:
    """``Name = Wert`` lines of the start form as the input item's payload."""
    payload: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, separator, value = line.partition("=")
        name = name.strip()
        if not separator or not name:
            raise Invalid(f"Angaben, Zeile {number}: erwartet wird 'Name = Wert', zum Beispiel "
                          "'aktenzeichen = UVG-2025-0142'. Es wurde nichts gestartet.")
        if name in payload:
            raise Invalid(f"Angaben, Zeile {number}: '{name}' steht doppelt. Es wurde nichts gestartet.")
        payload[name] = value.strip()
    return payload


def _inputs(request: Request, form: Any) -> list[run_service.InputItem]:
    files = [(upload.filename or "", upload.file.read()) for upload in form.getlist("dateien")
             if isinstance(upload, StarletteUpload)]
    return run_service.build_inputs(files, _fields(str(form.get("angaben") or "")),
                                    _settings(request).max_upload_bytes, reference=str(form.get("referenz") or ""),
                                    priority=str(form.get("prioritaet") or "0"))


def _start_form(request: Request, principal: Principal, session: Session, robot_id: int, *, status: int = 200,
                error: str | None = None, form: dict[str, str] | None = None) -> Response:
    if principal.role not in START_ROLES:
        raise Forbidden("Roboter starten Sachbearbeitung, Administration und Prozessverantwortliche der Stadt.")
    robot = robot_service.city_robot(session, principal, robot_id)
    return render(request, "run_start.html", principal, title=f"Lauf starten: {robot.title}", active="/",
                  status=status, error=error, robot=robot,
                  form=form or {"angaben": "", "referenz": "", "prioritaet": "0"},
                  max_upload=_size(_settings(request).max_upload_bytes))


@router.get("/roboter/{robot_id}/starten", response_class=HTMLResponse)
def start_form(request: Request, robot_id: int, principal: Who, session: Db) -> Response:
    return _start_form(request, principal, session, robot_id)


@router.post("/roboter/{robot_id}/starten", dependencies=[Depends(release_upload), Depends(upload_limit), *CSRF])
async def start_run(request: Request, robot_id: int, principal: Who) -> Response:
    form = await request.form()  # read without blocking; the uploads' files and the database in a worker thread
    return await run_in_threadpool(_start_run, request, robot_id, principal, form)


def _start_run(request: Request, robot_id: int, principal: Principal, form: Any) -> Response:
    database = request.app.state.database
    kept = {key: str(form.get(key) or "") for key in ("angaben", "referenz", "prioritaet")}
    try:
        inputs = _inputs(request, form)
        with database.session() as session:
            robot_service.city_robot(session, principal, robot_id)
            run = run_service.start_run(session, principal, robot_id, inputs, data_dir=_settings(request).data_dir)
            run_id, notice = run.id, "gestartet_teils" if run.known_cases else "gestartet"
    except (Invalid, Conflict) as error:
        with database.session() as session:
            return _start_form(request, principal, session, robot_id, status=error.status, error=str(error),
                               form=kept)
    return RedirectResponse(f"/laeufe/{run_id}?hinweis={notice}", status_code=303)


# --- runs -----------------------------------------------------------------------------------------------------


def _day(value: str, label: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid(f"'{value[:20]}' ist kein Datum für '{label}': erwartet wird JJJJ-MM-TT, "
                      "zum Beispiel 2025-03-31.") from None


@router.get("/laeufe", response_class=HTMLResponse)
def runs_page(request: Request, principal: Who, session: Db, roboter: str = "", status: str = "", von: str = "",
              bis: str = "", seite: str = "1") -> Response:
    filters = {"roboter": roboter, "status": status, "von": von, "bis": bis}
    robots = robot_service.visible_robots(session, principal)
    names = robot_service.city_names(session)
    several_cities = len({robot.city_id for robot in robots}) > 1
    robot_choices = [(f"{robot.city_id}/{robot.process}",
                      f"{robot.title} ({names.get(robot.city_id, robot.city_id)})" if several_cities else robot.title)
                     for robot in robots]
    page, error, code = None, None, 200
    try:
        if status and status not in {state.value for state in RunState}:
            raise Invalid(f"Status '{status[:30]}' ist unbekannt.")
        since, until = _day(von, "Von"), _day(bis, "Bis")
        if since and until and since > until:
            raise Invalid("Das Datum 'Von' liegt nach 'Bis'; bitte tauschen.")
        number = int(seite) if seite.isdigit() and int(seite) > 0 else 1
        page = run_service.list_runs(session, principal, roboter or None, status or None, since, until, number,
                                     timezone_name=_settings(request).timezone)
    except Invalid as failure:
        error, code = str(failure), failure.status

    def page_link(number: int) -> str:
        return "/laeufe?" + urlencode({**{k: v for k, v in filters.items() if v}, "seite": number})

    pages = max(1, -(-page.total // page.per_page)) if page else 1
    return render(request, "runs.html", principal, title="Läufe", active="/laeufe", status=code, error=error,
                  page=page, pages=pages, filters=filters, robot_choices=robot_choices, city_names=names,
                  state_choices=[(state.value, RUN_STATE_LABELS[state]) for state in RunState],
                  show_city=principal.city_id is None or several_cities, page_link=page_link)


KIND_LABELS = {"log": "Robot-Protokoll", "report": "Robot-Bericht", "output": "Robot-Ergebnis (XML)",
               "summary": "Zusammenfassung", "letter": "Brief", "screenshot": "Bildschirmfoto", "file": "Datei",
               "ergebnis": "Ergebnis"}


_size = run_service.size_label


TEMPLATES.env.globals.update(kind_label=lambda kind: KIND_LABELS.get(kind, kind), size_label=_size)


@router.get("/laeufe/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, run_id: int, principal: Who, session: Db) -> Response:
    run = run_service.get_run(session, principal, run_id)
    finished = RunState(run.state) in run_service.FINISHED
    artifacts = artifact_service.list_artifacts(session, principal, run_id) if run.case_data else []
    can_cancel = (not finished and not run.cancel_requested
                  and (principal.role is Role.OPERATOR or principal.city_id == run.city))
    robot = session.get(Robot, run.robot_id)
    meta = run_service.process_meta(get_project(request), robot.process) if robot else None
    outcome = item_service.run_outcome(session, run.id, (meta or {}).get("outcomes"))
    return render(request, "run.html", principal, title=f"Lauf {run.id}", active="/laeufe", run=run,
                  finished=finished, artifacts=artifacts, can_cancel=can_cancel, outcome=outcome)


@router.get("/laeufe/{run_id}/fortschritt")
def run_progress(run_id: int, principal: Who, session: Db) -> JSONResponse:
    """State and cases done of total for the page's live update (does not move the session's idle timeout)."""
    return JSONResponse(run_service.progress(session, principal, run_id))


@router.post("/laeufe/{run_id}/abbrechen", dependencies=CSRF)
def cancel_run(run_id: int, principal: Who, session: Db) -> Response:
    run_service.cancel_run(session, principal, run_id)
    return RedirectResponse(f"/laeufe/{run_id}?hinweis=abbruch", status_code=303)


@router.get("/laeufe/{run_id}/artefakte/{name:path}")
def artifact(run_id: int, name: str, principal: Who, session: Db) -> Response:
    """An artifact; the Robot log and report are shown in a sandbox so that their scripts cannot act for the user,
    everything else downloads."""
    view, path = artifact_service.open_artifact(session, principal, run_id, name)
    return artifact_response(view, path)


# --- runners --------------------------------------------------------------------------------------------------


def _runners_page(request: Request, principal: Principal, session: Session, *, status: int = 200,
                  error: str | None = None, new_runner: str = "", new_token: str = "") -> Response:
    return render(request, "runners.html", principal, title="Runner", active="/runner", status=status, error=error,
                  runners=runner_service.list_runners(session, principal), new_runner=new_runner,
                  new_token=new_token, base_url=str(request.base_url).rstrip("/"))


@router.get("/runner", response_class=HTMLResponse)
def runners_page(request: Request, principal: Who, session: Db) -> Response:
    return _runners_page(request, principal, session)


@router.post("/runner", dependencies=CSRF)
def register_runner(request: Request, principal: Who, session: Db, name: Field = "", stadt: Field = "") -> Response:
    try:
        runner, token = runner_service.register_runner(session, principal, name.strip(), stadt or None)
    except (Invalid, Conflict) as error:
        return _runners_page(request, principal, session, status=error.status, error=str(error))
    response = _runners_page(request, principal, session, status=201, new_runner=runner.name, new_token=token)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/runner/{runner_id}/sperren", dependencies=CSRF)
def deactivate_runner(runner_id: int, principal: Who, session: Db) -> Response:
    runner_service.deactivate_runner(session, principal, runner_id)
    return RedirectResponse("/runner?hinweis=runner_gesperrt", status_code=303)


# --- users ----------------------------------------------------------------------------------------------------


def _users_page(request: Request, principal: Principal, session: Session, *, status: int = 200,
                error: str | None = None, form: dict[str, str] | None = None) -> Response:
    roles = [role for role in Role if principal.role is Role.OPERATOR or role is not Role.OPERATOR]
    return render(request, "users.html", principal, title="Benutzer", active="/benutzer", status=status, error=error,
                  users=admin_service.list_users(session, principal),
                  roles=[(role.value, ROLE_LABELS[role]) for role in roles],
                  form=form or {"name": "", "rolle": Role.CLERK.value, "stadt": ""})


@router.get("/benutzer", response_class=HTMLResponse)
def users_page(request: Request, principal: Who, session: Db) -> Response:
    return _users_page(request, principal, session)


@router.post("/benutzer", dependencies=CSRF)
def create_user(request: Request, principal: Who, session: Db, name: Field = "", rolle: Field = "",
                stadt: Field = "", passwort: Field = "") -> Response:
    form = {"name": name, "rolle": rolle, "stadt": stadt}
    try:
        with session.begin_nested():
            admin_service.create_user(session, principal, name.strip(), rolle, passwort, stadt or None)
    except (Invalid, Conflict) as error:
        return _users_page(request, principal, session, status=error.status, error=str(error), form=form)
    return RedirectResponse("/benutzer?hinweis=benutzer", status_code=303)


@router.post("/benutzer/{user_id}/sperren", dependencies=CSRF)
def deactivate_user(user_id: int, principal: Who, session: Db) -> Response:
    admin_service.set_active(session, principal, user_id, active=False)
    return RedirectResponse("/benutzer?hinweis=benutzer_gesperrt", status_code=303)


@router.post("/benutzer/{user_id}/entsperren", dependencies=CSRF)
def activate_user(user_id: int, principal: Who, session: Db) -> Response:
    admin_service.set_active(session, principal, user_id, active=True)
    return RedirectResponse("/benutzer?hinweis=benutzer_entsperrt", status_code=303)


# --- processes: published versions ---------------------------------------------------------------------------


def _processes_page(request: Request, principal: Principal, session: Session, *, status: int = 200,
                    error: str | None = None) -> Response:
    entries = publishing_service.process_catalogue(session, principal, get_project(request),
                                                   timezone_name=_settings(request).timezone)
    return render(request, "processes.html", principal, title="Prozesse", active="/prozesse", status=status,
                  error=error, entries=entries)


@router.get("/prozesse", response_class=HTMLResponse)
def processes_page(request: Request, principal: Who, session: Db) -> Response:
    """Published versions of every process; the city's robots against the newest; owners publish here."""
    return _processes_page(request, principal, session)


@router.post("/prozesse/{name}/veroeffentlichen", dependencies=CSRF)
def publish_process(request: Request, name: str, principal: Who, session: Db, version: Field = "",
                    bestaetigt: Field = "") -> Response:
    try:
        if bestaetigt != "ja":
            raise Invalid("Bitte bestätigen Sie, dass Sie die Änderungen geprüft haben; es wurde nichts "
                          "veröffentlicht.")
        publishing_service.publish_version(session, principal, get_project(request), name, version or None,
                                           timezone_name=_settings(request).timezone)
    except (Invalid, Conflict, Forbidden) as error:
        return _processes_page(request, principal, session, status=error.status, error=str(error))
    return RedirectResponse("/prozesse?hinweis=veroeffentlicht", status_code=303)


# --- statistics -----------------------------------------------------------------------------------------------


@router.get("/statistik", response_class=HTMLResponse)
def statistics_page(request: Request, principal: Who, session: Db) -> Response:
    """Counts by state, without case data: for process owners across adopting cities, operators for all."""
    return render(request, "statistics.html", principal, title="Statistik", active="/statistik",
                  run_counts=run_service.run_counts(session, principal),
                  item_counts=item_service.item_counts(session, principal))
