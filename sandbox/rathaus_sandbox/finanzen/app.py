"""Flask application of the sandbox finance system: the Rechnungseingangsbuch of a city's Kämmerei."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from flask import Flask, abort, jsonify, redirect, render_template, request, session, url_for

from ..webapp.site import SandboxSite, api_denied, api_user, create_sandbox_app, login_required
from .db import InvoiceStore
from .fields import FIELDS, FIELDS_BY_NAME, GROUPS, SEARCH_FIELDS, fields_of_group
from .settings import Settings
from .validation import format_amount, validate_entry

SERVICE = "Finanzverfahren – Rechnungseingangsbuch (Sandbox)"
SITE = SandboxSite(
    service=SERVICE,
    home="rechnungen",
    realm="Finanzverfahren Sandbox",
    title="Rechnungseingangsbuch",
    product="Finanzverfahren · Rechnungseingangsbuch",
    footer="Kämmerei · Zentraler Rechnungseingang · Testsystem ohne echte Daten",
    stylesheet="finanzen.css",
    navigation=(("rechnungen", "Belegsuche"), ("neu", "Rechnung erfassen")),
    not_found="Die angeforderte Seite oder der Beleg existiert nicht.",
)


def create_app(config: Settings | Mapping[str, Any] | None = None) -> Flask:
    """Build the sandbox finance system; ``config`` holds the :class:`Settings` attributes."""
    settings = Settings.from_mapping(config)
    app = create_sandbox_app(__name__, settings, SITE)
    store = InvoiceStore(settings.database_path())
    app.extensions["rathaus_finanzen"] = store

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {"betrag": format_amount, "datum": _german_date}

    _invoice_routes(app, settings, store)
    return app


def _invoice_routes(app: Flask, settings: Settings, store: InvoiceStore) -> None:
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
        if not api_user(settings):
            return api_denied()
        kriterien = {name: request.args.get(name, "") for name, _ in SEARCH_FIELDS}
        eintraege = store.search(kriterien) if any(v.strip() for v in kriterien.values()) else store.all()
        return jsonify({"anzahl": len(eintraege), "rechnungen": eintraege})

    @app.get("/api/rechnungen/<belegnummer>")
    def api_rechnung(belegnummer: str) -> Any:
        if not api_user(settings):
            return api_denied()
        daten = store.get(belegnummer)
        if daten is None:
            return jsonify({"fehler": f"Beleg {belegnummer} nicht gefunden."}), 404
        return jsonify(daten)




def _german_date(iso: str) -> str:
    try:
        return date.fromisoformat(iso).strftime("%d.%m.%Y")
    except (TypeError, ValueError):
        return iso or "–"



def database_of(app: Flask) -> Path:
    """The SQLite file an app instance writes to."""
    return app.extensions["rathaus_finanzen"].path
