"""Flask application of the sandbox finance system: the Rechnungseingangsbuch of a city's Kämmerei."""

from __future__ import annotations

import base64
import binascii
import hmac
import random
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from datetime import date
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, abort, jsonify, redirect, render_template, request, session, url_for
from markupsafe import Markup

from .db import InvoiceStore
from .fields import FIELDS, FIELDS_BY_NAME, GROUPS, SEARCH_FIELDS, fields_of_group
from .settings import Settings
from .validation import format_amount, validate_entry

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
SERVICE = "Finanzverfahren – Rechnungseingangsbuch (Sandbox)"
# Paths that are never slowed down nor failed on purpose: health check, static files, the test API.
_UNDISTURBED = ("/status", "/static/", "/api/")
_PUBLIC = ("/anmelden", "/status", "/static/", "/api/")


def create_app(config: Settings | Mapping[str, Any] | None = None) -> Flask:
    """Build the sandbox finance system; ``config`` holds the :class:`Settings` attributes."""
    settings = Settings.from_mapping(config)
    app = Flask(__name__)
    app.config["SECRET_KEY"] = settings.secret_key or secrets.token_hex(32)
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["RATHAUS_SETTINGS"] = settings
    store = InvoiceStore(settings.database_path())
    app.extensions["rathaus_finanzen"] = store
    rng = random.Random(settings.seed)  # failure injection, not cryptography
    rng_lock = threading.Lock()

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {
            "mandant": settings.mandant,
            "benutzer": session.get("benutzer"),
            "csrf_feld": Markup('<input type="hidden" name="csrf_token" value="{}">').format(_csrf_token()),
            "betrag": format_amount,
            "datum": _german_date,
        }

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
                return redirect(url_for("anmelden", weiter=request.full_path.rstrip("?")))
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    _auth_routes(app, settings)
    _invoice_routes(app, settings, store, login_required)
    _error_pages(app)
    return app


def _auth_routes(app: Flask, settings: Settings) -> None:
    """Start page, health check, login and logout."""

    @app.get("/status")
    def status() -> Any:
        return jsonify({"status": "ok", "dienst": SERVICE, "mandant": settings.mandant})

    @app.get("/")
    def start() -> Any:
        return redirect(url_for("rechnungen"))

    @app.route("/anmelden", methods=["GET", "POST"])
    def anmelden() -> Any:
        meldung = MSG_SESSION_EXPIRED if request.args.get("abgelaufen") else None
        weiter = request.values.get("weiter", "")
        if not weiter.startswith("/") or weiter.startswith("//"):
            weiter = url_for("rechnungen")
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
                               weiter=url_for("rechnungen"), benutzername="")


def _invoice_routes(app: Flask, settings: Settings, store: InvoiceStore, login_required: Callable[[F], F]) -> None:
    """Search, entry form, entry detail and the sandbox-only JSON API."""

    @app.get("/rechnungen")
    @login_required
    def rechnungen() -> Any:
        kriterien = {name: request.args.get(name, "") for name, _ in SEARCH_FIELDS}
        gesucht = any(v.strip() for v in kriterien.values())
        treffer = store.search(kriterien) if gesucht else store.all()[-50:]
        return render_template("rechnungen.html", suchfelder=SEARCH_FIELDS, kriterien=kriterien,
                               treffer=treffer, gesucht=gesucht)

    @app.route("/rechnungen/neu", methods=["GET", "POST"])
    @login_required
    def neu() -> Any:
        werte: dict[str, str] = {"waehrung": "EUR"}
        fehler: dict[str, str] = {}
        if request.method == "POST":
            # Browsers send textarea line breaks as CRLF; store them as LF.
            werte = {f.name: request.form.get(f.name, "").replace("\r\n", "\n") for f in FIELDS}
            fehler = validate_entry(werte)
            duplikat = None if fehler else store.find_duplicate(werte["lieferant"], werte["rechnungsnummer"])
            if duplikat:
                fehler["duplikat"] = (
                    f"Die Rechnung {werte['rechnungsnummer'].strip()} dieses Lieferanten ist bereits als Beleg "
                    f"{duplikat} erfasst. Bitte prüfen Sie den vorhandenen Beleg, statt die Rechnung erneut "
                    "zu erfassen."
                )
            if not fehler:
                try:
                    belegnummer = store.add(werte, user=session["benutzer"])
                except sqlite3.IntegrityError:  # a parallel request entered the same invoice a moment ago
                    fehler["duplikat"] = "Die Rechnung wurde soeben erfasst. Bitte prüfen Sie den vorhandenen Beleg."
                else:
                    return redirect(url_for("rechnung", belegnummer=belegnummer, erfasst=1))
        return render_template("neu.html", gruppen=GROUPS, felder_von=fields_of_group, werte=werte, fehler=fehler,
                               beschriftung={f.name: f.label for f in FIELDS}, felder=FIELDS_BY_NAME)

    @app.get("/rechnungen/<belegnummer>")
    @login_required
    def rechnung(belegnummer: str) -> Any:
        daten = store.get(belegnummer)
        if daten is None:
            abort(404)
        return render_template("rechnung.html", beleg=daten, gruppen=GROUPS, felder_von=fields_of_group,
                               erfasst=bool(request.args.get("erfasst")))

    @app.get("/api/rechnungen")
    def api_rechnungen() -> Any:
        if not _api_user(settings):
            return _api_denied()
        kriterien = {name: request.args.get(name, "") for name, _ in SEARCH_FIELDS}
        eintraege = store.search(kriterien) if any(v.strip() for v in kriterien.values()) else store.all()
        return jsonify({"anzahl": len(eintraege), "rechnungen": eintraege})

    @app.get("/api/rechnungen/<belegnummer>")
    def api_rechnung(belegnummer: str) -> Any:
        if not _api_user(settings):
            return _api_denied()
        daten = store.get(belegnummer)
        if daten is None:
            return jsonify({"fehler": f"Beleg {belegnummer} nicht gefunden."}), 404
        return jsonify(daten)


def _error_pages(app: Flask) -> None:
    """German error pages."""

    @app.errorhandler(404)
    def _nicht_gefunden(_err: Exception) -> Any:
        return render_template("fehler.html", titel="Nicht gefunden",
                               meldung="Die angeforderte Seite oder der Beleg existiert nicht."), 404


def _csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def _german_date(iso: str) -> str:
    try:
        return date.fromisoformat(iso).strftime("%d.%m.%Y")
    except (TypeError, ValueError):
        return iso or "–"


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
    response.headers["WWW-Authenticate"] = 'Basic realm="Finanzverfahren Sandbox"'
    return response


def database_of(app: Flask) -> Path:
    """The SQLite file an app instance writes to."""
    return app.extensions["rathaus_finanzen"].path
