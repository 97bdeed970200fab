"""The scaffolding every sandbox web app shares.

:func:`create_sandbox_app` builds the Flask app with: the session cookie settings, the shared page frame
(``base.html``, ``anmelden.html``, ``fehler.html``) and styles (``/static/gemeinsam/``), the request guard
(slowness and 503 "Wartungsarbeiten" injection, session timeout, CSRF check of every POST), the routes
``/status``, ``/``, ``/anmelden``, ``/abmelden`` and the German 404 page. The app adds its own routes; views
that need a login use :func:`login_required`, the test API uses :func:`api_user` and :func:`api_denied`.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import random
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, Flask, current_app, jsonify, redirect, render_template, request, session, url_for
from markupsafe import Markup

from .settings import SandboxSettings

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


@dataclass(frozen=True)
class SandboxSite:
    """What the shared routes and pages show of one app (German texts except the endpoint names).

    - ``service``: ``dienst`` of ``/status``.
    - ``home``: endpoint of the start page (``/`` and the login lead there).
    - ``realm``: HTTP basic auth realm of the test API.
    - ``title``, ``product``, ``footer``: page title default, product name in the header, footer line.
    - ``stylesheet``: the app's own CSS file in its ``static`` folder (after the shared one).
    - ``navigation``: (endpoint, link text) pairs shown to logged-in users.
    - ``not_found``: message of the 404 page.
    - ``login_heading``: heading of the login page.
    - ``public``: further path prefixes that need no login after a session timeout.
    - ``keep_query``: after login, return to the path with (True) or without (False) its query string.
    """

    service: str
    home: str
    realm: str
    title: str
    product: str
    footer: str
    stylesheet: str
    navigation: tuple[tuple[str, str], ...]
    not_found: str
    login_heading: str = "Anmeldung"
    public: tuple[str, ...] = ()
    keep_query: bool = True


_shared = Blueprint("gemeinsam", __name__, template_folder="templates", static_folder="static",
                    static_url_path="/static/gemeinsam")


def create_sandbox_app(import_name: str, settings: SandboxSettings, site: SandboxSite) -> Flask:
    """A Flask app with the shared scaffolding; ``import_name`` locates the app's templates and static files."""
    app = Flask(import_name)
    app.config["SECRET_KEY"] = settings.secret_key or secrets.token_hex(32)
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["RATHAUS_SETTINGS"] = settings
    app.config["RATHAUS_SITE"] = site
    app.register_blueprint(_shared)
    rng = random.Random(settings.seed)  # failure injection, not cryptography
    rng_lock = threading.Lock()
    public = _PUBLIC + site.public

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {
            "mandant": settings.mandant,
            "benutzer": session.get("benutzer"),
            "csrf_token": _csrf_token(),
            "csrf_feld": Markup('<input type="hidden" name="csrf_token" value="{}">').format(_csrf_token()),
            "sandbox": site,
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
                if not path.startswith(public):
                    return redirect(url_for("anmelden", abgelaufen=1))
            else:
                session["zuletzt"] = now
        if request.method == "POST":
            sent = request.form.get("csrf_token", "")
            expected = session.get("csrf", "")
            if not expected or not hmac.compare_digest(sent, expected):
                return render_template("fehler.html", titel="Ungültige Anfrage", meldung=MSG_CSRF), 400
        return None

    _auth_routes(app, settings, site)

    @app.errorhandler(404)
    def _nicht_gefunden(_err: Exception) -> Any:
        return render_template("fehler.html", titel="Nicht gefunden", meldung=site.not_found), 404

    return app


def _auth_routes(app: Flask, settings: SandboxSettings, site: SandboxSite) -> None:
    """Start page, health check, login and logout."""

    @app.get("/status")
    def status() -> Any:
        return jsonify({"status": "ok", "dienst": site.service, "mandant": settings.mandant})

    @app.get("/")
    def start() -> Any:
        return redirect(url_for(site.home))

    @app.route("/anmelden", methods=["GET", "POST"])
    def anmelden() -> Any:
        meldung = MSG_SESSION_EXPIRED if request.args.get("abgelaufen") else None
        weiter = request.values.get("weiter", "")
        if not weiter.startswith("/") or weiter.startswith("//"):
            weiter = url_for(site.home)
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
                               weiter=url_for(site.home), benutzername="")


def login_required(view: F) -> F:
    """View decorator: without a logged-in user, go to the login page and come back afterwards."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not session.get("benutzer"):
            site: SandboxSite = current_app.config["RATHAUS_SITE"]
            weiter = request.full_path.rstrip("?") if site.keep_query else request.path
            return redirect(url_for("anmelden", weiter=weiter))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def api_user(settings: SandboxSettings) -> str | None:
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


def api_denied() -> Any:
    """401 answer of the test API, naming the app's basic auth realm."""
    site: SandboxSite = current_app.config["RATHAUS_SITE"]
    response = jsonify({"fehler": "Anmeldung erforderlich (Sitzung oder HTTP Basic Auth)."})
    response.status_code = 401
    response.headers["WWW-Authenticate"] = f'Basic realm="{site.realm}"'
    return response
