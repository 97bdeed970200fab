"""Flask application of the sandbox Gewerberegister."""

from __future__ import annotations

import base64
import binascii
import hmac
import random
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort, jsonify, redirect, render_template, request, session, url_for
from markupsafe import Markup

from .db import RegisterStore
from .fields import (
    ABMELDUNG,
    ANMELDUNG,
    CHOICE_LABELS,
    SEARCH_FIELDS,
    STATUS,
    SUCHARTEN,
    TABS,
    UMMELDUNG,
    Field,
    fields_of_tab,
)
from .settings import Settings
from .validation import validate_abmeldung, validate_anmeldung, validate_ummeldung

F = TypeVar("F", bound=Callable[..., Any])

MSG_LOGIN_FAILED = "Anmeldung fehlgeschlagen: Benutzername oder Passwort falsch."
MSG_SESSION_EXPIRED = "Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an."
MSG_CSRF = (
    "Die Anfrage wurde abgelehnt: Sicherheitsmerkmal (CSRF-Token) fehlt oder ist ungültig. "
    "Bitte laden Sie die Seite neu und versuchen Sie es erneut."
)
MSG_MAINTENANCE = (
    "Wartungsarbeiten: Der Dienst ist vorübergehend nicht verfügbar. Bitte versuchen Sie es später erneut."
)
# Paths that are never slowed down nor failed on purpose: health check, static files, the test API.
_UNDISTURBED = ("/status", "/static/", "/api/")
_PUBLIC = ("/anmelden", "/status", "/static/", "/api/")


def create_app(config: Settings | Mapping[str, Any] | None = None) -> Flask:
    """Build the sandbox Gewerberegister; ``config`` holds the :class:`Settings` attributes."""
    settings = Settings.from_mapping(config)
    app = Flask(__name__)
    app.config["SECRET_KEY"] = settings.secret_key or secrets.token_hex(32)
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 3600
    app.config["RATHAUS_SETTINGS"] = settings
    store = RegisterStore(settings.database_path())
    app.extensions["rathaus_register"] = store
    rng = random.Random(settings.seed)  # failure injection, not cryptography
    rng_lock = threading.Lock()

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {
            "mandant": settings.mandant,
            "benutzer": session.get("benutzer"),
            "csrf_feld": Markup('<input type="hidden" name="csrf_token" value="{}">').format(_csrf_token()),
            "auswahltext": lambda name, value: CHOICE_LABELS.get(name, {}).get(value, value),
        }

    @app.template_filter("zeitpunkt")
    def _zeitpunkt(iso: str) -> str:
        """ISO timestamp -> ``21.11.2026, 11:14 Uhr``."""
        return f"{_german_date(iso)}, {iso[11:16]} Uhr" if len(iso) >= 16 else iso

    @app.before_request
    def _before() -> Any:
        path = request.path
        if not path.startswith(_UNDISTURBED):
            if settings.delay_ms:
                time.sleep(settings.delay_ms / 1000)
            if settings.error_rate:
                with rng_lock:
                    draw = rng.random()
                if draw < settings.error_rate:
                    return render_template("fehler.html", titel="Wartungsarbeiten", meldung=MSG_MAINTENANCE), 503
        if session.get("benutzer"):
            now = time.time()
            if now - float(session.get("zuletzt", 0)) > settings.session_timeout_s:
                session.clear()
                if path.startswith("/api/"):
                    return jsonify({"fehler": MSG_SESSION_EXPIRED}), 401
                if not path.startswith(_PUBLIC):
                    return redirect(url_for("anmelden", abgelaufen=1))
            else:
                session["zuletzt"] = now
        if request.method == "POST":
            sent = request.form.get("csrf_token", "")
            expected = session.get("csrf", "")
            if not expected or not hmac.compare_digest(sent, expected):
                return render_template("fehler.html", titel="Ungültige Anfrage", meldung=MSG_CSRF), 400
        return None

    def login_required(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not session.get("benutzer"):
                return redirect(url_for("anmelden", weiter=request.path))
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    _auth_routes(app, settings)
    _register_routes(app, store, login_required)
    _api_routes(app, settings, store)
    _error_pages(app)
    return app


def _auth_routes(app: Flask, settings: Settings) -> None:
    """Start page, health check, login and logout."""

    @app.get("/status")
    def status() -> Any:
        return jsonify({"status": "ok", "dienst": "Gewerberegister (Sandbox)", "mandant": settings.mandant})

    @app.get("/")
    def start() -> Any:
        return redirect(url_for("betriebe"))

    @app.route("/anmelden", methods=["GET", "POST"])
    def anmelden() -> Any:
        meldung = MSG_SESSION_EXPIRED if request.args.get("abgelaufen") else None
        weiter = request.values.get("weiter", "")
        if not weiter.startswith("/") or weiter.startswith("//"):
            weiter = url_for("betriebe")
        benutzername = ""
        if request.method == "POST":
            benutzername = request.form.get("benutzername", "").strip()
            passwort = request.form.get("passwort", "")
            expected = settings.users.get(benutzername)
            if expected is not None and hmac.compare_digest(passwort.encode(), expected.encode()):
                session.clear()
                session["benutzer"] = benutzername
                session["zuletzt"] = time.time()
                session["csrf"] = secrets.token_urlsafe(32)
                return redirect(weiter)
            meldung = MSG_LOGIN_FAILED
        return render_template("anmelden.html", meldung=meldung, weiter=weiter, benutzername=benutzername)

    @app.route("/abmelden", methods=["GET", "POST"])
    def abmelden() -> Any:
        session.clear()
        return render_template("anmelden.html", meldung=None, hinweis="Sie wurden abgemeldet.",
                               weiter=url_for("betriebe"), benutzername="")


def _register_routes(app: Flask, store: RegisterStore, login_required: Callable[[F], F]) -> None:
    """Search, new entry, entry detail, Ummeldung and Abmeldung."""

    @app.route("/betriebe", methods=["GET", "POST"])
    @login_required
    def betriebe() -> Any:
        # The search is a POST: names and birth dates stay out of URLs, browser history and access logs.
        kriterien = {name: request.form.get(name, "") for name, _ in SEARCH_FIELDS}
        kriterien["status"] = request.form.get("status", "")
        suchart = request.form.get("suchart", "beginnt")
        gesucht = request.method == "POST"
        treffer = store.search(kriterien, exact=suchart == "genau") if gesucht else store.all()[-50:][::-1]
        return render_template("betriebe.html", suchfelder=SEARCH_FIELDS, kriterien=kriterien, treffer=treffer,
                               gesucht=gesucht, suchart=suchart, sucharten=SUCHARTEN, status_werte=STATUS)

    @app.route("/betriebe/neu", methods=["GET", "POST"])
    @login_required
    def neu() -> Any:
        werte: dict[str, str] = {}
        fehler: dict[str, str] = {}
        if request.method == "POST":
            werte = _submitted(ANMELDUNG)
            fehler = validate_anmeldung(werte)
            vorhanden = None if fehler else store.find_duplicate(werte)
            if vorhanden:
                fehler["duplikat"] = (
                    f"Für diese Person und diesen Betrieb mit Beginn am {werte['betrieb_beginn']} gibt es bereits "
                    f"den Eintrag {vorhanden}. Bitte prüfen Sie den vorhandenen Eintrag, statt einen neuen anzulegen."
                )
            if not fehler:
                registernummer = store.anmelden(werte, user=session["benutzer"])
                return redirect(url_for("betrieb", registernummer=registernummer, erfolg="angelegt"))
        return _form_page("Gewerbeanmeldung erfassen", "betrieb-neu", url_for("neu"), ANMELDUNG, TABS,
                          werte, fehler, "Eintrag anlegen")

    @app.get("/betriebe/<registernummer>")
    @login_required
    def betrieb(registernummer: str) -> Any:
        eintrag = store.get(registernummer)
        if eintrag is None:
            abort(404)
        return render_template("betrieb.html", eintrag=eintrag, reiter=TABS, felder_von=_entry_fields_of,
                               erfolg=request.args.get("erfolg"))

    @app.route("/betriebe/<registernummer>/ummeldung", methods=["GET", "POST"])
    @login_required
    def ummeldung(registernummer: str) -> Any:
        eintrag = store.get(registernummer)
        if eintrag is None:
            abort(404)
        werte = {f.name: str(eintrag.get(f.name) or "") for f in UMMELDUNG}
        fehler: dict[str, str] = {}
        if request.method == "POST":
            werte = _submitted(UMMELDUNG)
            fehler = _already_recorded(store, registernummer, werte) or validate_ummeldung(werte, eintrag)
            if not fehler:
                store.ummelden(registernummer, werte, user=session["benutzer"])
                return redirect(url_for("betrieb", registernummer=registernummer, erfolg="umgemeldet"))
        return _form_page(f"Ummeldung zu {registernummer} erfassen", "ummeldung",
                          url_for("ummeldung", registernummer=registernummer), UMMELDUNG,
                          (("aenderung", "Änderung"), ("eingang", "Eingang & Bemerkungen")), werte, fehler,
                          "Ummeldung speichern", eintrag)

    @app.route("/betriebe/<registernummer>/abmeldung", methods=["GET", "POST"])
    @login_required
    def abmeldung(registernummer: str) -> Any:
        eintrag = store.get(registernummer)
        if eintrag is None:
            abort(404)
        werte: dict[str, str] = {}
        fehler: dict[str, str] = {}
        if request.method == "POST":
            werte = _submitted(ABMELDUNG)
            fehler = _already_recorded(store, registernummer, werte) or validate_abmeldung(werte, eintrag)
            if not fehler:
                store.abmelden(registernummer, werte, user=session["benutzer"])
                return redirect(url_for("betrieb", registernummer=registernummer, erfolg="abgemeldet"))
        return _form_page(f"Abmeldung zu {registernummer} erfassen", "abmeldung",
                          url_for("abmeldung", registernummer=registernummer), ABMELDUNG,
                          (("abmeldung", "Abmeldung"), ("eingang", "Eingang & Bemerkungen")), werte, fehler,
                          "Abmeldung speichern", eintrag)


def _api_routes(app: Flask, settings: Settings, store: RegisterStore) -> None:
    """The sandbox-only JSON API for tests: every entry with its Vorgänge."""

    @app.get("/api/betriebe")
    def api_betriebe() -> Any:
        if not _api_user(settings):
            return _api_denied()
        eintraege = store.all()
        return jsonify({"anzahl": len(eintraege), "betriebe": eintraege})

    @app.get("/api/betriebe/<registernummer>")
    def api_betrieb(registernummer: str) -> Any:
        if not _api_user(settings):
            return _api_denied()
        eintrag = store.get(registernummer)
        if eintrag is None:
            return jsonify({"fehler": f"Eintrag {registernummer} nicht gefunden."}), 404
        return jsonify(eintrag)


def _error_pages(app: Flask) -> None:
    @app.errorhandler(404)
    def _nicht_gefunden(_err: Exception) -> Any:
        return render_template("fehler.html", titel="Nicht gefunden",
                               meldung="Die angeforderte Seite oder der Eintrag existiert nicht."), 404


def _submitted(fields: tuple[Field, ...]) -> dict[str, str]:
    # Browsers send textarea line breaks as CRLF; store them as LF.
    return {f.name: request.form.get(f.name, "").replace("\r\n", "\n") for f in fields}


def _already_recorded(store: RegisterStore, registernummer: str, werte: Mapping[str, str]) -> dict[str, str]:
    vorgang = store.find_vorgang(registernummer, werte.get("eingang_referenz", ""))
    if vorgang is None:
        return {}
    return {"duplikat": (
        f"Die Anzeige mit der Eingangsreferenz {vorgang['eingang_referenz']} ist bereits als {vorgang['art']} "
        f"vom {_german_date(vorgang['erfasst_am'])} erfasst. Bitte nicht ein zweites Mal erfassen."
    )}


def _german_date(iso: str) -> str:
    year, month, day = iso[:10].split("-")
    return f"{day}.{month}.{year}"


def _form_page(
    titel: str, form_id: str, action: str, fields: tuple[Field, ...], tabs: tuple[tuple[str, str], ...],
    werte: Mapping[str, str], fehler: Mapping[str, str], knopf: str, eintrag: Mapping[str, Any] | None = None,
) -> Any:
    by_name = {f.name: f for f in fields}
    reiter_mit_fehler = {by_name[n].tab for n in fehler if n in by_name}
    aktiv = next((t for t, _ in tabs if t in reiter_mit_fehler), tabs[0][0])
    return render_template(
        "formular.html", titel=titel, form_id=form_id, action=action, reiter=tabs,
        felder_von=lambda tab: fields_of_tab(fields, tab), werte=werte, fehler=fehler, aktiv=aktiv,
        reiter_mit_fehler=reiter_mit_fehler, beschriftung={f.name: f.label for f in fields}, knopf=knopf,
        eintrag=eintrag,
    )


def _entry_fields_of(tab: str) -> list[Field]:
    return [f for f in fields_of_tab(ANMELDUNG, tab) if f.tab != "eingang"]


def _csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def _api_user(settings: Settings) -> str | None:
    """User of an API call: the logged-in session, or HTTP basic auth with a configured user."""
    if session.get("benutzer"):
        return session["benutzer"]
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    expected = settings.users.get(user)
    if expected is not None and hmac.compare_digest(password.encode(), expected.encode()):
        return user
    return None


def _api_denied() -> Any:
    response = jsonify({"fehler": "Anmeldung erforderlich (Sitzung oder HTTP Basic Auth)."})
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Basic realm="Gewerberegister Sandbox"'
    return response


def store_of(app: Flask) -> RegisterStore:
    """The register storage an app instance writes to."""
    return app.extensions["rathaus_register"]
