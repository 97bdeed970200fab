"""Flask application of the sandbox Gewerberegister."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, abort, jsonify, redirect, render_template, request, session, url_for

from ..webapp.site import SandboxSite, api_denied, api_user, create_sandbox_app, login_required
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

SITE = SandboxSite(
    service="Gewerberegister (Sandbox)",
    home="betriebe",
    realm="Gewerberegister Sandbox",
    title="Gewerberegister",
    product="Gewerberegister",
    footer="Ordnungsamt · Gewerbeangelegenheiten · Gewerbeanzeigen nach §§ 14, 15 GewO · Testsystem ohne echte Daten",
    stylesheet="gewerberegister.css",
    navigation=(("betriebe", "Betriebssuche"), ("neu", "Gewerbeanmeldung erfassen")),
    not_found="Die angeforderte Seite oder der Eintrag existiert nicht.",
    login_heading="Anmeldung am Gewerberegister",
    keep_query=False,
)


def create_app(config: Settings | Mapping[str, Any] | None = None) -> Flask:
    """Build the sandbox Gewerberegister; ``config`` holds the :class:`Settings` attributes."""
    settings = Settings.from_mapping(config)
    app = create_sandbox_app(__name__, settings, SITE)
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 3600
    store = RegisterStore(settings.database_path())
    app.extensions["rathaus_register"] = store

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {"auswahltext": lambda name, value: CHOICE_LABELS.get(name, {}).get(value, value)}

    @app.template_filter("zeitpunkt")
    def _zeitpunkt(iso: str) -> str:
        """ISO timestamp -> ``21.11.2026, 11:14 Uhr``."""
        return f"{_german_date(iso)}, {iso[11:16]} Uhr" if len(iso) >= 16 else iso

    _register_routes(app, store)
    _api_routes(app, settings, store)
    return app


def _register_routes(app: Flask, store: RegisterStore) -> None:
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
        if not api_user(settings):
            return api_denied()
        eintraege = store.all()
        return jsonify({"anzahl": len(eintraege), "betriebe": eintraege})

    @app.get("/api/betriebe/<registernummer>")
    def api_betrieb(registernummer: str) -> Any:
        if not api_user(settings):
            return api_denied()
        eintrag = store.get(registernummer)
        if eintrag is None:
            return jsonify({"fehler": f"Eintrag {registernummer} nicht gefunden."}), 404
        return jsonify(eintrag)



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




def store_of(app: Flask) -> RegisterStore:
    """The register storage an app instance writes to."""
    return app.extensions["rathaus_register"]
