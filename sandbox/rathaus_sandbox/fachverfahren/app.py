"""Flask application of the sandbox UVG-Fachverfahren."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, abort, jsonify, redirect, render_template, request, session, url_for
from werkzeug.utils import secure_filename

from ..webapp.site import SandboxSite, api_denied, api_user, create_sandbox_app, login_required
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

SITE = SandboxSite(
    service="UVG-Fachverfahren (Sandbox)",
    home="faelle",
    realm="UVG-Fachverfahren Sandbox",
    title="UVG-Fachverfahren",
    product="UVG-Fachverfahren",
    footer="Fachbereich Jugend, Familie und Soziales · Unterhaltsvorschussstelle · Testsystem ohne echte Daten",
    stylesheet="fachverfahren.css",
    navigation=(("faelle", "Fallsuche"), ("neu", "Neuer Fall")),
    not_found="Die angeforderte Seite oder der Fall existiert nicht.",
    public=("/uebung/",),
)
BUNDESLAND_CODES = ("BW", "BY", "BE", "BB", "HB", "HH", "HE", "MV", "NI", "NW", "RP", "SL", "SN", "ST", "SH", "TH")
SEARCH_FIELDS = (
    ("antragsteller_name", "Name der antragstellenden Person"),
    ("antragsteller_vorname", "Vorname der antragstellenden Person"),
    ("kind_name", "Name des Kindes"),
    ("kind_vorname", "Vorname des Kindes"),
    ("kind_geburtsdatum", "Geburtsdatum des Kindes"),
    ("aktenzeichen", "Aktenzeichen"),
)


def create_app(config: Settings | Mapping[str, Any] | None = None) -> Flask:
    """Build the sandbox Fachverfahren; ``config`` holds the :class:`Settings` attributes."""
    settings = Settings.from_mapping(config)
    app = create_sandbox_app(__name__, settings, SITE)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_mb * 1024 * 1024
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 3600  # CSS/JS cached like in production
    db_path = settings.database_path()
    store = CaseStore(db_path)
    app.extensions["rathaus_store"] = store
    upload_dir = db_path.parent / f"{db_path.stem}-anlagen"

    _case_routes(app, settings, store, upload_dir)
    _exercise_routes(app)

    @app.errorhandler(413)
    def _zu_gross(_err: Exception) -> Any:
        return render_template("fehler.html", titel="Datei zu groß",
                               meldung=f"Anlagen dürfen höchstens {settings.max_upload_mb} MB groß sein."), 413

    return app


def _case_routes(app: Flask, settings: Settings, store: CaseStore, upload_dir: Path) -> None:
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
        if not api_user(settings):
            return api_denied()
        faelle = store.all()
        return jsonify({"anzahl": len(faelle), "faelle": faelle})

    @app.get("/api/faelle/<aktenzeichen>")
    def api_fall(aktenzeichen: str) -> Any:
        if not api_user(settings):
            return api_denied()
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



def _parse_events(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _labels() -> dict[str, str]:
    return {f.name: f.label for f in FIELDS}


def database_of(app: Flask) -> Path:
    """The SQLite file an app instance writes to."""
    return app.extensions["rathaus_store"].path
