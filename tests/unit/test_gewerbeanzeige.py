"""The process 'gewerbeanzeige': reading and checking GewA forms, the register comparison, who is notified
with which data, the letters, the German keyword names, master data, city robots and the sample set."""

from __future__ import annotations

import email
import json
from datetime import date, timedelta
from email import policy
from pathlib import Path

import pytest
import yaml
from gewerbeanzeige.anzeige import (
    FIELDS,
    GEWA1,
    GEWA2,
    GEWA3,
    Falldaten,
    check_notice,
    compare_with_entry,
    fields_of,
    form_kind,
    notice_from_fields,
)
from gewerbeanzeige.keywords import Gewerbeanzeige
from gewerbeanzeige.mitteilungen import notification_text, receipt_data, recipients, sections, write_notification_pdf
from gewerbeanzeige.samples import generate
from jsonschema import Draft202012Validator, FormatChecker
from rathaus.core.config import load_robot_config
from rathaus.core.project import Project
from rathaus.errors import ApplicationError, BusinessError
from rathaus.pdf.reader import read_fields, read_text
from rathaus_sandbox.pdfforms import FieldSpec, build_form
from robot.api import get_resource_model

ROOT = Path(__file__).resolve().parents[2]
PROCESS = ROOT / "processes" / "gewerbeanzeige"
CITIES = ("fulda", "giessen", "limburg", "marburg", "offenbach", "wetzlar")
ADOPTERS = ("offenbach", "fulda", "limburg", "marburg", "wetzlar")
CASE = "<gewa-test.1@anzeige.example.org>"
TODAY = date(2026, 3, 2)


def _day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).strftime("%d.%m.%Y")


def gewa1(**overrides) -> dict:
    values = {
        "formular": "GewA1", "inhaber.name": "Öztürk", "inhaber.vorname": "Ayşe", "inhaber.geschlecht": "w",
        "inhaber.geburtsdatum": "17.06.1969", "inhaber.geburtsort": "Izmir", "inhaber.staatsangehoerigkeit": "türkisch",
        "inhaber.strasse": "Waldstraße 66", "inhaber.plz": "63065", "inhaber.ort": "Offenbach am Main",
        "inhaber.telefon": None, "inhaber.email": "kontakt@feinkost.example", "betrieb.name": "Feinkost am Markt",
        "betrieb.rechtsform": "Einzelunternehmen", "betrieb.strasse": "Frankfurter Straße 58", "betrieb.plz": "63065",
        "betrieb.ort": "Offenbach am Main", "betrieb.taetigkeit": "Einzelhandel", "betrieb.art": "handel",
        "betrieb.nebenerwerb": False, "betrieb.beschaeftigte": "2", "betrieb.beginn": _day(-14),
        "anmeldung.grund": "neugruendung",
    }
    values.update(overrides)
    return values


def notice(form=GEWA1, **overrides) -> Falldaten:
    values = gewa1(formular=form)
    if form == GEWA2:
        values.update({"ummeldung.art": "verlegung", "ummeldung.datum": _day(-3)})
    if form == GEWA3:
        values.update({"abmeldung.datum": _day(-2), "abmeldung.grund": "aufgabe", "betrieb.beginn": None})
    values.update(overrides)
    return notice_from_fields(values, CASE)


def entry(**overrides) -> dict:
    data = {"registernummer": "GEW-2026-00007", "status": "angemeldet", "betrieb_beginn": _day(-400),
            "betrieb_strasse": "Kaiserstraße 1", "betrieb_plz": "63065", "betrieb_ort": "Offenbach am Main",
            "betrieb_taetigkeit": "Einzelhandel", "betrieb_beschaeftigte": "3", "abmeldung_datum": "",
            "vorgaenge": "Anmeldung 01.01.2025 Neugründung Posteingang 2025/0815"}
    data.update(overrides)
    return data


# -- reading ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "kind"), [("GewA1", GEWA1), ("GewA 2", GEWA2), ("gewa3", GEWA3),
                                             ("GewA4", None), ("", None), (None, None)])
def test_the_form_kind_is_read_from_the_field_formular(value, kind):
    assert form_kind(value) == kind


def test_each_form_has_its_own_fields_and_requirements():
    assert "anmeldung.grund" in {f.name for f in fields_of(GEWA1)}
    assert "ummeldung.datum" not in {f.name for f in fields_of(GEWA1)}
    assert {f.name for f in fields_of(GEWA3)} >= {"abmeldung.datum", "abmeldung.grund", "inhaber.name"}
    assert all(set(f.required) <= set(f.forms) for f in FIELDS)
    documented = (PROCESS / "FIELDS.md").read_text(encoding="utf-8")
    assert all(f"| {f.name} |" in documented for f in FIELDS)


def test_a_complete_gewa1_becomes_nested_case_data_that_hides_itself():
    data = notice()
    assert data.formular == GEWA1
    assert data.inhaber.vorname == "Ayşe" and data.betrieb.beschaeftigte == "2"
    assert data.inhaber.telefon is None and data.betrieb.nebenerwerb is False
    assert "Öztürk" not in repr(data) and "Öztürk" not in str(data.inhaber)
    assert "ummeldung" not in data


def test_missing_required_fields_are_listed_by_label_never_by_value():
    with pytest.raises(BusinessError) as caught:
        notice_from_fields(gewa1(**{"inhaber.geburtsdatum": "", "betrieb.plz": None, "inhaber.plz": "6306",
                                    "betrieb.beschaeftigte": "zwei", "betrieb.beginn": "31.02.2026"}), CASE)
    message = str(caught.value)
    assert caught.value.code == "PFLICHTANGABEN_FEHLEN"
    assert CASE in message and "(GewA1)" in message
    assert "Geburtsdatum fehlt" in message and "Postleitzahl (Betriebsstätte) fehlt" in message
    assert "Postleitzahl (Wohnung) hat nicht 5 Ziffern" in message
    assert "Beginn der Tätigkeit ist kein gültiges Datum" in message
    assert "Zahl der Beschäftigten ist keine ganze Zahl" in message
    assert "6306" not in message and "31.02.2026" not in message


def test_an_ummeldung_needs_its_date_and_kind_but_not_the_home_address():
    fields = gewa1(formular="GewA2", **{"inhaber.strasse": None, "inhaber.plz": None, "inhaber.ort": None})
    with pytest.raises(BusinessError, match="Art der Änderung fehlt; Änderung wirksam ab fehlt"):
        notice_from_fields(fields, CASE)
    fields.update({"ummeldung.art": "verlegung", "ummeldung.datum": _day(-1)})
    assert notice_from_fields(fields, CASE).ummeldung.art == "verlegung"


def test_fields_that_are_no_gewa_form_are_refused():
    with pytest.raises(BusinessError) as caught:
        notice_from_fields({"kind.name": "x", "antragsteller.name": "y"}, CASE)
    assert caught.value.code == "KEIN_GEWERBEFORMULAR"


# -- checks ------------------------------------------------------------------------------------------


def test_plausible_notices_pass_the_checks():
    for form in (GEWA1, GEWA2, GEWA3):
        check_notice(notice(form), CASE, {}, today=TODAY)


@pytest.mark.parametrize(("form", "overrides", "code", "text"), [
    (GEWA1, {"betrieb.beginn": _day(-400)}, "DATUM_UNPLAUSIBEL", "mehr als 365 Tage"),
    (GEWA1, {"betrieb.beginn": _day(120)}, "DATUM_UNPLAUSIBEL", "Beginn der Tätigkeit"),
    (GEWA1, {"inhaber.geburtsdatum": _day(-365 * 17)}, "MINDERJAEHRIG", "§ 112 BGB"),
    (GEWA1, {"inhaber.geburtsdatum": _day(10)}, "DATUM_UNPLAUSIBEL", "Geburtsdatum"),
    (GEWA2, {"ummeldung.datum": _day(100)}, "DATUM_UNPLAUSIBEL", "Änderung wirksam ab"),
    (GEWA3, {"betrieb.beginn": _day(-1)}, "ENDE_VOR_BEGINN", "vor dem Beginn"),
])
def test_implausible_dates_go_to_a_clerk(form, overrides, code, text):
    with pytest.raises(BusinessError) as caught:
        check_notice(notice(form, **overrides), CASE, {}, today=TODAY)
    assert caught.value.code == code
    assert text in str(caught.value) and CASE in str(caught.value)


def test_the_limits_come_from_the_city_configuration():
    late = notice(GEWA1, **{"betrieb.beginn": _day(-400)})
    check_notice(late, CASE, {"tage_zurueck": 500}, today=TODAY)
    young = notice(GEWA1, **{"inhaber.geburtsdatum": _day(-365 * 17)})
    check_notice(young, CASE, {"mindestalter": 16}, today=TODAY)


# -- the register -------------------------------------------------------------------------------------


def test_an_anmeldung_is_entered_unless_the_register_has_it():
    assert compare_with_entry(notice(), None, CASE) == "eintragen"
    assert compare_with_entry(notice(), entry(), CASE) == "vorhanden"
    assert compare_with_entry(notice(), entry(vorgaenge=f"Anmeldung … {CASE} …"), CASE) == "eigener"


def test_an_ummeldung_needs_an_open_entry_and_is_not_repeated():
    with pytest.raises(BusinessError) as unknown:
        compare_with_entry(notice(GEWA2), None, CASE)
    assert unknown.value.code == "BETRIEB_UNBEKANNT"
    with pytest.raises(BusinessError) as closed:
        compare_with_entry(notice(GEWA2), entry(status="abgemeldet"), CASE)
    assert closed.value.code == "BETRIEB_ABGEMELDET"
    assert compare_with_entry(notice(GEWA2), entry(), CASE) == "eintragen"
    applied = entry(betrieb_strasse="FRANKFURTER STRASSE 58")
    assert compare_with_entry(notice(GEWA2), applied, CASE) == "vorhanden"


def test_an_abmeldung_must_not_precede_the_registered_start_and_is_not_repeated():
    with pytest.raises(BusinessError) as early:
        compare_with_entry(notice(GEWA3), entry(betrieb_beginn=_day(10)), CASE)
    assert early.value.code == "ENDE_VOR_BEGINN" and "GEW-2026-00007" in str(early.value)
    assert compare_with_entry(notice(GEWA3), entry(), CASE) == "eintragen"
    same = entry(status="abgemeldet", abmeldung_datum=_day(-2))
    assert compare_with_entry(notice(GEWA3), same, CASE) == "vorhanden"
    with pytest.raises(BusinessError) as other:
        compare_with_entry(notice(GEWA3), entry(status="abgemeldet", abmeldung_datum=_day(-50)), CASE)
    assert other.value.code == "BETRIEB_BEREITS_ABGEMELDET"


def test_register_form_data_fits_each_register_form():
    from rathaus_sandbox.gewerberegister.fields import ABMELDUNG, ANMELDUNG, UMMELDUNG

    library = Gewerbeanzeige()
    for form, register_form in ((GEWA1, ANMELDUNG), (GEWA2, UMMELDUNG), (GEWA3, ABMELDUNG)):
        data = library.run_keyword("register_form_data", [notice(form), "01.03.2026", CASE], {})
        assert set(data) <= {f.name for f in register_form}, form
        assert data["eingang_referenz"] == CASE and data["eingang_kanal"] == "email"
    first = library.run_keyword("register_form_data", [notice(GEWA1, **{"inhaber.telefon": ""}), "x", CASE], {})
    assert first["inhaber_telefon"] is None  # Fill Form leaves the field alone
    assert first["betrieb_nebenerwerb"] is False and first["anmeldung_grund"] == "neugruendung"
    change = library.run_keyword("register_form_data", [notice(GEWA2), "x", CASE], {})
    assert change["ummeldung_datum"] == _day(-3) and change["betrieb_strasse"] == "Frankfurter Straße 58"


def test_search_criteria_are_exact_and_include_the_start_only_for_an_anmeldung():
    library = Gewerbeanzeige()
    first = library.run_keyword("register_search_criteria", [notice()], {})
    assert first["suchart"] == "genau" and first["betrieb_beginn"] == _day(-14) and first["status"] == ""
    change = library.run_keyword("register_search_criteria", [notice(GEWA2)], {"status": "angemeldet"})
    assert change["betrieb_beginn"] == "" and change["status"] == "angemeldet"


# -- who is informed with what -----------------------------------------------------------------------


def _bodies(city: str = "offenbach") -> dict:
    return yaml.safe_load((ROOT / "resources" / "cities" / city / "gewerbe.yaml").read_text(encoding="utf-8"))


def test_crafts_go_to_the_handwerkskammer_everything_else_to_the_ihk():
    bodies = _bodies()["empfaenger"]
    trade = [b.schluessel for b in recipients(notice(), bodies)]
    craft = [b.schluessel for b in recipients(notice(**{"betrieb.art": "handwerk"}), bodies)]
    assert "ihk" in trade and "hwk" not in trade
    assert "hwk" in craft and "ihk" not in craft
    assert trade[0] == "finanzamt" and "statistik" in trade


def test_employers_only_bodies_hear_of_businesses_with_employees():
    bodies = _bodies()["empfaenger"]
    alone = {b.schluessel for b in recipients(notice(**{"betrieb.beschaeftigte": "0"}), bodies)}
    assert alone == {"finanzamt", "ihk", "statistik"}
    closing = notice(GEWA3, **{"betrieb.beschaeftigte": None})
    assert "agentur_fuer_arbeit" in {b.schluessel for b in recipients(closing, bodies, entry())}
    library = Gewerbeanzeige(language="de")
    chosen = library.run_keyword("Zu Beteiligende Stellen Ermitteln", [notice(), bodies], {"excluded": ["statistik"]})
    assert "statistik" not in {b.schluessel for b in chosen}


def test_bodies_can_be_limited_to_forms_and_unknown_conditions_fail():
    bodies = {"registergericht": {"name": "Amtsgericht", "email": "a@b.example", "bedingung": "immer",
                                  "daten": ["betrieb"], "formulare": ["GewA1"]}}
    assert len(recipients(notice(), bodies)) == 1
    assert recipients(notice(GEWA3), bodies) == []
    with pytest.raises(ApplicationError, match="Bedingung 'manchmal'"):
        odd = {"x": {"name": "X", "email": "x@y.example", "bedingung": "manchmal"}}
        Gewerbeanzeige().run_keyword("notification_recipients", [notice(), odd], {})


def test_each_body_gets_only_its_data_groups():
    statistics = sections(notice(), ["vorgang", "merkmale", "betrieb", "taetigkeit"], "GEW-2026-00001", "01.03.2026")
    text = json.dumps(statistics, ensure_ascii=False)
    assert "Öztürk" not in text and "17.06.1969" not in text and "türkisch" in text
    full = json.dumps(sections(notice(), ["inhaber"], "GEW-2026-00001", "01.03.2026"), ensure_ascii=False)
    assert "Öztürk, Ayşe" in full and "Waldstraße 66, 63065 Offenbach am Main" in full


def test_the_notification_text_and_pdf_say_what_happened(tmp_path):
    city = {"name": "Stadt Offenbach am Main", **yaml.safe_load(
        (ROOT / "resources" / "cities" / "offenbach" / "stadt.yaml").read_text(encoding="utf-8"))}
    office = _bodies()["gewerbeamt"]
    body = {**_bodies()["empfaenger"]["statistik"], "schluessel": "statistik"}
    subject, text, parts = notification_text(PROCESS / "templates" / "mitteilung.txt", notice(GEWA2), body,
                                             "GEW-2026-00004", "01.03.2026", city, office)
    assert subject == ("Gewerbeanzeige: Ummeldung GEW-2026-00004 – Mitteilung nach § 14 GewO "
                       "(Stadt Offenbach am Main)")
    assert "Gewerbe-Ummeldung (GewA 2), eingegangen am 01.03.2026" in text
    assert "Art der Änderung: Verlegung der Betriebsstätte" in text
    assert "Rechtsgrundlage der Übermittlung: § 14 GewO (Gewerbeanzeigenstatistik)." in text
    assert "Öztürk" not in text
    pdf = write_notification_pdf(tmp_path / "m.pdf", subject, parts, body, city, office)
    content = read_text(pdf)[1]
    assert "Hessisches Statistisches Landesamt" in content and "Verlegung der Betriebsstätte" in content


def test_the_notification_keyword_writes_text_and_pdf(tmp_path):
    config = load_robot_config(ROOT / "robots" / "offenbach" / "gewerbeanzeige" / "config.yaml", project=Project(ROOT))
    body = recipients(notice(**{"betrieb.art": "handwerk"}), config["stadt_daten"]["gewerbe"]["empfaenger"])[1]
    result = Gewerbeanzeige(language="de").run_keyword(
        "Mitteilung An Stelle Erstellen", [notice(**{"betrieb.art": "handwerk"}), body, "GEW-2026-00002",
                                           "01.03.2026", config["stadt_daten"], tmp_path], {})
    assert result.an == "gewerbemeldungen@hwk-frm.example"
    assert result.pdf.name == "GEW-2026-00002-GewA1-hwk.pdf" and result.pdf.is_file()
    assert "Öztürk, Ayşe" in result.text and "<Falldaten" in repr(result)


def test_the_receipt_goes_home_or_to_the_premises_and_names_the_bodies():
    office = _bodies()["gewerbeamt"]
    informed = [{"name": "Finanzamt Offenbach am Main"}, {"name": "Handwerkskammer Frankfurt-Rhein-Main"}]
    data = receipt_data(notice(), "GEW-2026-00001", "01.03.2026", office, informed)
    assert data.empfaenger.zeilen == ["Waldstraße 66", "63065 Offenbach am Main"]
    assert data.stellen == ["Finanzamt Offenbach am Main", "Handwerkskammer Frankfurt-Rhein-Main"]
    assert data.amt.email == "gewerbe@offenbach.de" and data.formular_titel == "Gewerbe-Anmeldung (GewA 1)"
    closing = notice(GEWA3, **{"inhaber.strasse": None})
    data = receipt_data(closing, "GEW-2026-00001", "01.03.2026", office)
    assert data.empfaenger.zeilen == ["Feinkost am Markt", "Frankfurter Straße 58", "63065 Offenbach am Main"]


def test_the_receipt_template_renders_with_the_city_letterhead(tmp_path):
    from rathaus import Documents

    config = load_robot_config(ROOT / "robots" / "offenbach" / "gewerbeanzeige" / "config.yaml", project=Project(ROOT))
    library = Gewerbeanzeige()
    data = library.run_keyword("receipt_data", [notice(**{"betrieb.art": "handwerk"}), "GEW-2026-00005",
                                                "01.03.2026", config["stadt_daten"], []], {})
    documents = Documents()
    letter = documents.create_letter(PROCESS / "templates" / "empfangsbescheinigung.docx", tmp_path / "e.docx",
                                     dict(data), config["stadt_daten"])
    text = documents.get_letter_text(letter)
    assert "Empfangsbescheinigung nach § 15 Abs. 1 Gewerbeordnung" in text
    assert "Registernummer: GEW-2026-00005" in text and "Guten Tag Ayşe Öztürk," in text
    assert "Handwerksrolle bei der Handwerkskammer" in text
    assert "weitergegeben" not in text  # no bodies informed, no sentence about them
    assert "Stadt Offenbach am Main · Berliner Straße 100" in text


# -- the library in English and German -------------------------------------------------------------------


def test_keywords_exist_in_english_and_german_with_documentation_and_examples():
    english = Gewerbeanzeige()
    german = Gewerbeanzeige(language="de")
    assert len(english.get_keyword_names()) == len(german.get_keyword_names()) == 9
    assert "Gewerbeanzeige Lesen" in german.get_keyword_names()
    assert "read_notice" in english.get_keyword_names()
    for library, example in ((english, "Example"), (german, "Beispiel")):
        for name in library.get_keyword_names():
            doc = library.get_keyword_documentation(name)
            assert len(doc) > 40 and example in doc, name
            if library.get_keyword_arguments(name):
                assert "=Arguments=" in doc or "=Argumente=" in doc, name
    translation = json.loads((PROCESS / "translation_de.json").read_text(encoding="utf-8"))
    assert set(translation) - {"__intro__", "__init__"} == set(english.get_keyword_names())
    with pytest.raises(ValueError, match="Sprache 'fr'"):
        Gewerbeanzeige(language="fr")


def test_find_notice_pdf_picks_the_gewa_form_and_names_attachments_by_number(tmp_path):
    library = Gewerbeanzeige()
    other = build_form(tmp_path / "other.pdf", "Antrag", [FieldSpec("kind.name", "Name")], {"kind.name": "x"})
    specs = tuple(FieldSpec(f.name, f.label, f.kind, f.options) for f in fields_of(GEWA1))
    form = build_form(tmp_path / "Öztürk.pdf", "GewA 1", specs, gewa1())
    assert library.run_keyword("find_notice_pdf", [[tmp_path / "x.txt", other, form], CASE], {}) == form
    with pytest.raises(BusinessError) as none:
        library.run_keyword("find_notice_pdf", [[other], CASE], {})
    assert none.value.code == "KEIN_GEWERBEFORMULAR"
    with pytest.raises(BusinessError) as empty:
        library.run_keyword("find_notice_pdf", [[], CASE], {})
    assert empty.value.code == "KEIN_ANHANG"
    broken = tmp_path / "Öztürk-kaputt.pdf"
    broken.write_bytes(form.read_bytes()[:500])
    with pytest.raises(BusinessError) as unreadable:
        library.run_keyword("find_notice_pdf", [[broken], CASE], {})
    assert unreadable.value.code == "PDF_UNLESBAR" and "Öztürk" not in str(unreadable.value)
    read = library.run_keyword("read_notice", [form, CASE], {})
    assert read.betrieb.name == "Feinkost am Markt"


# -- master data, city robots, steps -------------------------------------------------------------------


@pytest.mark.parametrize("city", CITIES)
def test_every_city_has_valid_trade_master_data(city):
    schema = yaml.safe_load((ROOT / "resources" / "cities" / "schemas" / "gewerbe.yaml").read_text(encoding="utf-8"))
    data = _bodies(city)
    errors = list(Draft202012Validator(schema, format_checker=FormatChecker()).iter_errors(data))
    assert not errors, [e.message for e in errors]
    conditions = {body["bedingung"] for body in data["empfaenger"].values()}
    assert {"handwerk", "kein_handwerk", "immer"} <= conditions
    names = {body["name"] for body in data["empfaenger"].values()}
    assert "Hessisches Statistisches Landesamt" in names
    assert all(body["email"].endswith(".example") for body in data["empfaenger"].values())


@pytest.mark.parametrize("city", ADOPTERS)
def test_every_adopting_city_robot_is_valid_and_written_in_german(city):
    folder = ROOT / "robots" / city / "gewerbeanzeige"
    config = load_robot_config(folder / "config.yaml", project=Project(ROOT))
    assert config["stadt_daten"]["gewerbe"]["gewerbeamt"]["email"] == f"gewerbe@{city}.de"
    assert config["gewerberegister"]["url"] == "sandbox"
    tasks = (folder / "tasks.robot").read_text(encoding="utf-8")
    assert tasks.startswith("Language: German\n") and "*** Aufgaben ***" in tasks
    process = yaml.safe_load((PROCESS / "process.yaml").read_text(encoding="utf-8"))
    for step in process["steps"]:
        assert f"\n{step['task']}\n" in tasks


@pytest.mark.parametrize("resource", sorted((PROCESS / "steps").glob("*.resource")), ids=lambda p: p.name)
def test_steps_use_german_syntax_and_german_library_names(resource):
    text = resource.read_text(encoding="utf-8")
    assert text.startswith("Language: German\n")
    assert "*** Settings ***" not in text and "*** Keywords ***" not in text
    model = get_resource_model(resource, lang="de")
    assert not [error for error in model.errors], model.errors
    for line in text.splitlines():
        if line.startswith("Bibliothek") and ("rathaus." in line or "gewerbeanzeige.keywords" in line):
            assert "language=de" in line, line


def test_process_metadata_names_the_outcomes_and_the_sandbox():
    process = yaml.safe_load((PROCESS / "process.yaml").read_text(encoding="utf-8"))
    assert process["owner"] == "offenbach" and process["version"] == "0.1.0"
    assert set(process["outcomes"]) == {"eingetragen", "geaendert", "abgemeldet", "vorhanden"}
    assert process["sandboxes"] == {"gewerberegister": "gewerberegister"}
    assert [bool(s.get("produces")) for s in process["steps"]] == [True, False]


# -- samples ----------------------------------------------------------------------------------------------


def test_the_sample_set_is_deterministic_and_covers_good_and_bad_notices(tmp_path):
    first = generate.generate(tmp_path / "a", "offenbach", today=TODAY)
    second = generate.generate(tmp_path / "b", "offenbach", today=TODAY)
    assert [p.name for p in first] == [p.name for p in second]
    for a, b in zip(first, second, strict=True):
        mail_a, mail_b = (email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in (a, b))
        assert (mail_a["Message-ID"], mail_a["Date"], mail_a["From"]) == (mail_b["Message-ID"], mail_b["Date"],
                                                                          mail_b["From"])
    keys = [p.stem.split("-", 1)[1] for p in first]
    assert keys == ["anmeldung-handel", "anmeldung-handwerk", "anmeldung-nebenerwerb", "ummeldung", "abmeldung",
                    "anmeldung-doppelt", "pflichtangaben-fehlen", "ummeldung-unbekannt", "abmeldung-vor-beginn",
                    "kein-formular", "ohne-anhang"]
    mail = email.message_from_bytes(first[3].read_bytes(), policy=policy.default)
    attachment = next(mail.iter_attachments())
    assert attachment.get_filename() == "GewA2_Gewerbeummeldung.pdf"
    pdf = tmp_path / "gewa2.pdf"
    pdf.write_bytes(attachment.get_content())
    fields = read_fields(pdf)
    assert fields["formular"] == "GewA2" and fields["inhaber.name"] == "Großmann"
    check_notice(notice_from_fields(fields, mail["Message-ID"]), mail["Message-ID"], {}, today=TODAY)


def test_the_register_bestand_is_seeded_once(tmp_path):
    from rathaus_sandbox.gewerberegister.db import RegisterStore

    database = tmp_path / "register.sqlite"
    numbers = generate.seed_register(database, "fulda", today=TODAY)
    assert generate.seed_register(database, "fulda", today=TODAY) == numbers
    names = [e["betrieb_name"] for e in RegisterStore(database).all()]
    assert names == ["Getränkehandel Großmann", "Blumen Weiß", "Nähstube Kowalczyk"]
    assert RegisterStore(database).all()[0]["betrieb_ort"] == "Fulda"


def test_devdata_holds_one_work_item_per_mail(tmp_path):
    paths = generate.generate(tmp_path / "mails", "offenbach", today=TODAY)
    generate.write_devdata(paths, tmp_path / "devdata", "offenbach")
    env = json.loads((tmp_path / "devdata" / "env.json").read_text(encoding="utf-8"))
    assert "OFFENBACH_GEWERBEREGISTER_PASSWORT" in env
    items = json.loads((tmp_path / "devdata" / "work-items-in" / "01-anmeldung-handel" / "work-items.json")
                       .read_text(encoding="utf-8"))
    assert items[0]["payload"]["message_id"] == "<gewa-anmeldung-handel.1@anzeige.example.org>"
    assert items[0]["files"] == {"GewA1_Gewerbeanmeldung.pdf": "GewA1_Gewerbeanmeldung.pdf"}
    assert (PROCESS / "devdata" / "env.json").is_file()
    assert len(list((PROCESS / "devdata" / "work-items-in").glob("*/work-items.json"))) == 11
