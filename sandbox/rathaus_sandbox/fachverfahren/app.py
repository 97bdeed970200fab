"""Flask application of the sandbox UVG-Fachverfahren."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import random
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, abort, jsonify, redirect, render_template, request, session, url_for
from markupsafe import Markup
from werkzeug.utils import secure_filename

from .db import CaseStore
from .fields import (
    BUNDESLAENDER,
    FIELDS,
    FIELDS_BY_NAME,
    TABS,
    exercise_fields,
    fields_of_tab,
)
from .settings import Settings
from .validation import normalize_iban, validate_case

F = TypeVar("F", bound=Callable[..., Any])

BUNDESLAND_CODES = ("BW", "BY", "BE", "BB", "HB", "HH", "HE", "MV", "NI", "NW", "RP", "SL", "SN", "ST", "SH", "TH")
SEARCH_FIELDS = (
    ("antragsteller_name", "Name der antragstellenden Person"),
    ("antragsteller_vorname", "Vorname der antragstellenden Person"),
    ("kind_name", "Name des Kindes"),
    ("kind_vorname", "Vorname des Kindes"),
    ("kind_geburtsdatum", "Geburtsdatum des Kindes"),
    ("aktenzeichen", "Aktenzeichen"),
)
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
_PUBLIC = ("/anmelden", "/status", "/static/", "/uebung/", "/api/")


def create_app(config: Settings | Mapping[str, Any] | None = None) -> Flask:
    """Build the sandbox Fachverfahren; ``config`` holds the :class:`Settings` attributes."""
    settings = Settings.from_mapping(config)
    app = Flask(__name__)
    app.config["SECRET_KEY"] = settings.secret_key or secrets.token_hex(32)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_mb * 1024 * 1024
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 3600  # CSS/JS cached like in production
    app.config["RATHAUS_SETTINGS"] = settings
    db_path = settings.database_path()
    store = CaseStore(db_path)
    app.extensions["rathaus_store"] = store
    upload_dir = db_path.parent / f"{db_path.stem}-anlagen"
    rng = random.Random(settings.seed)  # failure injection, not cryptography
    rng_lock = threading.Lock()

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {
            "mandant": settings.mandant,
            "benutzer": session.get("benutzer"),
            "csrf_token": _csrf_token(),
            "csrf_feld": Markup('<input type="hidden" name="csrf_token" value="{}">').format(_csrf_token()),
        }

    @app.before_request
    def _before() -> Any:
        path = request.path
        undisturbed = path.startswith(_UNDISTURBED)
        if not undisturbed:
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
                return redirect(url_for("anmelden", weiter=request.full_path.rstrip("?")))
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    _auth_routes(app, settings)
    _case_routes(app, settings, store, upload_dir, login_required)
    _exercise_routes(app)

    _error_pages(app, settings)
    return app


def _auth_routes(app: Flask, settings: Settings) -> None:
    """Start page, health check, login and logout."""

    @app.get("/status")
    def status() -> Any:
        return jsonify({"status": "ok", "dienst": "UVG-Fachverfahren (Sandbox)", "mandant": settings.mandant})

    @app.get("/")
    def start() -> Any:
        return redirect(url_for("faelle"))

    @app.route("/anmelden", methods=["GET", "POST"])
    def anmelden() -> Any:
        meldung = MSG_SESSION_EXPIRED if request.args.get("abgelaufen") else None
        weiter = request.values.get("weiter", "")
        if not weiter.startswith("/") or weiter.startswith("//"):
            weiter = url_for("faelle")
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
                               weiter=url_for("faelle"), benutzername="")


def _error_pages(app: Flask, settings: Settings) -> None:
    """German error pages."""

    @app.errorhandler(404)
    def _nicht_gefunden(_err: Exception) -> Any:
        return render_template("fehler.html", titel="Nicht gefunden",
                               meldung="Die angeforderte Seite oder der Fall existiert nicht."), 404

    @app.errorhandler(413)
    def _zu_gross(_err: Exception) -> Any:
        return render_template("fehler.html", titel="Datei zu groß",
                               meldung=f"Anlagen dürfen höchstens {settings.max_upload_mb} MB groß sein."), 413


def _case_routes(
    app: Flask, settings: Settings, store: CaseStore, upload_dir: Path,
    login_required: Callable[[F], F],
) -> None:
    """Case search, new case, case detail and the sandbox-only JSON API."""

    @app.get("/faelle")
    @login_required
    def faelle() -> Any:
        kriterien = {name: request.args.get(name, "") for name, _ in SEARCH_FIELDS}
        gesucht = any(v.strip() for v in kriterien.values())
        treffer = store.search(kriterien) if gesucht else store.all()[-50:]
        return render_template("faelle.html", suchfelder=SEARCH_FIELDS, kriterien=kriterien,
                               treffer=treffer, gesucht=gesucht)

    @app.route("/faelle/neu", methods=["GET", "POST"])
    @login_required
    def neu() -> Any:
        werte: dict[str, str] = {}
        fehler: dict[str, str] = {}
        duplikat = None
        if request.method == "POST":
            # Browsers send textarea line breaks as CRLF; store them as LF.
            werte = {f.name: request.form.get(f.name, "").replace("\r\n", "\n") for f in FIELDS if f.kind != "file"}
            fehler = validate_case(werte)
            duplikat = None if fehler else store.find_duplicate(werte)
            if duplikat:
                fehler["duplikat"] = (
                    f"Für diese antragstellende Person und dieses Kind gibt es bereits den Fall {duplikat}. "
                    "Bitte prüfen Sie den vorhandenen Fall, statt einen neuen anzulegen."
                )
            if not fehler:
                werte["antragsteller_iban"] = normalize_iban(werte["antragsteller_iban"])
                datei = request.files.get("anlage_datei")
                name, groesse, inhalt = "", 0, b""
                if datei is not None and datei.filename:
                    inhalt = datei.read()
                    name, groesse = secure_filename(datei.filename) or "anlage", len(inhalt)
                aktenzeichen = store.add(werte, user=session["benutzer"], attachment_name=name,
                                         attachment_bytes=groesse)
                if name:
                    ziel = upload_dir / aktenzeichen
                    ziel.mkdir(parents=True, exist_ok=True)
                    (ziel / name).write_bytes(inhalt)
                return redirect(url_for("fall", aktenzeichen=aktenzeichen, angelegt=1))
        reiter_mit_fehler = {FIELDS_BY_NAME[n].tab for n in fehler if n in FIELDS_BY_NAME}
        aktiv = next((t for t, _ in TABS if t in reiter_mit_fehler), TABS[0][0])
        return render_template(
            "neu.html", reiter=TABS, felder_von=fields_of_tab, werte=werte, fehler=fehler,
            aktiv=aktiv, reiter_mit_fehler=reiter_mit_fehler, beschriftung=_labels(),
        )

    @app.get("/faelle/<aktenzeichen>")
    @login_required
    def fall(aktenzeichen: str) -> Any:
        daten = store.get(aktenzeichen)
        if daten is None:
            abort(404)
        return render_template("fall.html", fall=daten, reiter=TABS, felder_von=fields_of_tab,
                               angelegt=bool(request.args.get("angelegt")))

    @app.get("/api/faelle")
    def api_faelle() -> Any:
        if not _api_user(settings):
            return _api_denied()
        faelle = store.all()
        return jsonify({"anzahl": len(faelle), "faelle": faelle})

    @app.get("/api/faelle/<aktenzeichen>")
    def api_fall(aktenzeichen: str) -> Any:
        if not _api_user(settings):
            return _api_denied()
        daten = store.get(aktenzeichen)
        if daten is None:
            return jsonify({"fehler": f"Fall {aktenzeichen} nicht gefunden."}), 404
        return jsonify(daten)


def _exercise_routes(app: Flask) -> None:
    """Exercise pages without login: the 40-field benchmark form and the React-style page."""

    @app.route("/uebung/formular-40", methods=["GET", "POST"])
    def uebung_formular() -> Any:
        felder = exercise_fields()
        if request.method == "POST":
            werte = {f.name: request.form.get(f.name) for f in felder}
            ereignisse = _parse_events(request.form.get("_ereignisse", ""))
            return render_template("uebung_ergebnis.html", felder=felder, werte=werte, ereignisse=ereignisse)
        return render_template("uebung.html", felder=felder,
                               bundeslaender=list(zip(BUNDESLAND_CODES, BUNDESLAENDER, strict=True)))

    @app.get("/uebung/reaktiv")
    def uebung_reaktiv() -> Any:
        return render_template("reaktiv.html", familienstaende=FIELDS_BY_NAME["antragsteller_familienstand"].choices)


def _csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def _parse_events(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _labels() -> dict[str, str]:
    return {f.name: f.label for f in FIELDS}


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
    response.headers["WWW-Authenticate"] = 'Basic realm="UVG-Fachverfahren Sandbox"'
    return response


def database_of(app: Flask) -> Path:
    """The SQLite file an app instance writes to."""
    return app.extensions["rathaus_store"].path
