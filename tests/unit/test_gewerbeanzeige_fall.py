"""The case data (work item variable ``fall``) of the process 'gewerbeanzeige': read once from the GewA form,
kept as JSON in the work item, checked and entered from what it holds, a clerk's correction included; and its
schema ``fall.schema.yaml``, which the control room checks a correction against."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from gewerbeanzeige.anzeige import (
    FIELDS,
    FORMS,
    GEWA1,
    GEWA2,
    Falldaten,
    case_from_fields,
    fields_of,
    notice_from_case,
    notice_from_fields,
)
from gewerbeanzeige.keywords import Gewerbeanzeige
from gewerbeanzeige.samples import generate
from rathaus.core.cases import case_problems, describe_problems
from rathaus.core.config import load_robot_config
from rathaus.errors import BusinessError
from rathaus_sandbox.pdfforms import FieldSpec, build_form

ROOT = Path(__file__).resolve().parents[2]
PROCESS = ROOT / "processes" / "gewerbeanzeige"
SCHEMA = yaml.safe_load((PROCESS / "fall.schema.yaml").read_text(encoding="utf-8"))
CASE = "<gewa-fall.1@anzeige.example.org>"
TODAY = date.today()


def _day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).strftime("%d.%m.%Y")


def gewa1(**overrides) -> dict:
    values = {
        "formular": "GewA 1", "inhaber.name": "Krämer", "inhaber.vorname": "Thomas", "inhaber.geschlecht": "m",
        "inhaber.geburtsdatum": "03.04.1980", "inhaber.geburtsort": "Fulda", "inhaber.staatsangehoerigkeit": "deutsch",
        "inhaber.strasse": " Kaiserstraße 12 ", "inhaber.plz": "63065", "inhaber.ort": "Offenbach am Main",
        "inhaber.telefon": "", "inhaber.email": None, "betrieb.name": "Imbiss am Bahnhof",
        "betrieb.rechtsform": "Einzelunternehmen", "betrieb.strasse": "Bahnhofstraße 1", "betrieb.plz": "63065",
        "betrieb.ort": "Offenbach am Main", "betrieb.taetigkeit": "Imbiss ohne Alkoholausschank",
        "betrieb.art": "sonstiges", "betrieb.nebenerwerb": None, "betrieb.beschaeftigte": "2",
        "betrieb.beginn": _day(-7), "anmeldung.grund": "neugruendung",
        "erklaerung.ort": "Offenbach am Main", "erklaerung.datum": _day(-1),
    }
    values.update(overrides)
    return values


def kept(data: Falldaten) -> dict:
    """The case data as the work item keeps it (JSON) and as the control room hands a correction back."""
    return json.loads(json.dumps(data, ensure_ascii=False))


# -- reading once -------------------------------------------------------------------------------------------


def test_the_case_data_holds_every_field_of_the_form_and_checks_nothing():
    data = case_from_fields(gewa1(**{"inhaber.geburtsdatum": "", "betrieb.plz": None}), CASE)
    assert data.formular == GEWA1
    assert data.inhaber.geburtsdatum is None and data.betrieb.plz is None
    assert data.inhaber.strasse == "Kaiserstraße 12" and data.inhaber.telefon is None
    assert data.betrieb.nebenerwerb is False
    assert set(data) == {"formular", "inhaber", "betrieb", "anmeldung", "erklaerung"}
    assert {f"{group}.{key}" for group in data if group != "formular" for key in data[group]} == {
        f.name for f in fields_of(GEWA1) if f.name != "formular"}
    assert "Krämer" not in repr(data) and "Krämer" not in str(data.inhaber)


def test_only_the_fields_of_the_named_form_are_kept():
    data = case_from_fields(gewa1(formular="GewA3", **{"abmeldung.datum": _day(-1), "abmeldung.grund": "aufgabe"}),
                            CASE)
    assert "anmeldung" not in data and data.abmeldung.grund == "aufgabe"


def test_fields_that_are_no_gewa_form_are_no_case_data():
    with pytest.raises(BusinessError) as caught:
        case_from_fields({"kind.name": "x", "antragsteller.name": "y"}, CASE)
    assert caught.value.code == "KEIN_GEWERBEFORMULAR"


def test_kept_case_data_gives_the_same_notice_as_reading_the_form_directly():
    fields = gewa1()
    assert notice_from_case(kept(case_from_fields(fields, CASE)), CASE) == notice_from_fields(fields, CASE)


# -- the notice from the kept data --------------------------------------------------------------------------


def test_missing_entries_of_the_kept_data_go_to_a_clerk_who_can_correct_them():
    data = kept(case_from_fields(gewa1(**{"inhaber.geburtsdatum": None, "betrieb.plz": None}), CASE))
    with pytest.raises(BusinessError) as caught:
        notice_from_case(data, CASE)
    message = str(caught.value)
    assert caught.value.code == "PFLICHTANGABEN_FEHLEN"
    assert "Geburtsdatum fehlt" in message and "Postleitzahl (Betriebsstätte) fehlt" in message
    assert "im Kontrollraum korrigieren und erneut versuchen" in message
    data["inhaber"]["geburtsdatum"] = "01.02.1990"
    data["betrieb"]["plz"] = "63067"
    data["betrieb"]["taetigkeit"] = "Imbiss mit Getränkeverkauf"
    notice = notice_from_case(data, CASE)
    assert notice.inhaber.geburtsdatum == "01.02.1990" and notice.betrieb.plz == "63067"
    assert notice.betrieb.taetigkeit == "Imbiss mit Getränkeverkauf"


def test_a_clerk_may_write_entries_loosely_and_the_notice_normalises_them():
    data = kept(case_from_fields(gewa1(), CASE))
    data["betrieb"]["beschaeftigte"] = 4
    data["betrieb"]["name"] = "  Imbiss am Bahnhof  "
    data["inhaber"]["telefon"] = ""
    notice = notice_from_case(data, CASE)
    assert notice.betrieb.beschaeftigte == "4" and notice.betrieb.name == "Imbiss am Bahnhof"
    assert notice.inhaber.telefon is None


def test_wrong_entries_are_named_by_label_never_by_value():
    data = kept(case_from_fields(gewa1(), CASE))
    data["betrieb"]["art"] = "Gastronomie"
    data["inhaber"]["plz"] = "6306"
    with pytest.raises(BusinessError) as caught:
        notice_from_case(data, CASE)
    message = str(caught.value)
    assert "Art des Betriebs hat keinen zulässigen Wert" in message
    assert "Postleitzahl (Wohnung) hat nicht 5 Ziffern" in message
    assert "Gastronomie" not in message and "6306" not in message


@pytest.mark.parametrize("broken", [{"formular": None}, {"formular": "GewA4"}, {}])
def test_case_data_without_a_known_form_goes_to_a_clerk(broken):
    data = {**kept(case_from_fields(gewa1(), CASE)), **broken}
    if not broken:
        data.pop("formular")
    with pytest.raises(BusinessError) as caught:
        notice_from_case(data, CASE)
    assert caught.value.code == "KEIN_GEWERBEFORMULAR" and "Kontrollraum" in str(caught.value)


def test_a_group_that_is_no_object_counts_as_empty():
    data = kept(case_from_fields(gewa1(), CASE))
    data["inhaber"] = ["Krämer"]
    with pytest.raises(BusinessError, match="Name fehlt; Vorname fehlt"):
        notice_from_case(data, CASE)


def test_a_corrected_form_kind_takes_the_fields_of_that_form():
    data = kept(case_from_fields(gewa1(), CASE))
    data["formular"] = "GewA2"
    with pytest.raises(BusinessError, match="Art der Änderung fehlt; Änderung wirksam ab fehlt"):
        notice_from_case(data, CASE)
    data["ummeldung"] = {"art": "verlegung", "datum": _day(-2)}
    notice = notice_from_case(data, CASE)
    assert notice.formular == GEWA2 and "anmeldung" not in notice and notice.ummeldung.art == "verlegung"


# -- the keywords the robot uses ----------------------------------------------------------------------------


def _form(tmp_path: Path, values: dict) -> Path:
    specs = tuple(FieldSpec(f.name, f.label, f.kind, f.options) for f in fields_of(GEWA1))
    return build_form(tmp_path / "GewA1.pdf", "GewA 1", specs, values)


def test_the_robot_reads_an_incomplete_form_into_case_data_and_enters_the_corrected_data(tmp_path):
    library = Gewerbeanzeige()
    pdf = _form(tmp_path, gewa1(formular="GewA1", **{"inhaber.geburtsdatum": None, "betrieb.plz": None}))
    data = library.run_keyword("read_notice", [pdf, CASE], {})
    assert data.inhaber.geburtsdatum is None and data.betrieb.name == "Imbiss am Bahnhof"
    with pytest.raises(BusinessError) as caught:
        library.run_keyword("check_notice", [kept(data), CASE, {}], {})
    assert caught.value.code == "PFLICHTANGABEN_FEHLEN"
    corrected = kept(data)
    corrected["inhaber"]["geburtsdatum"] = "01.02.1990"
    corrected["betrieb"]["plz"] = "63067"
    notice = library.run_keyword("check_notice", [corrected, CASE, {}], {})
    form = library.run_keyword("register_form_data", [notice, _day(0), "UP-2026-0007"], {"channel": "post"})
    assert form.inhaber_geburtsdatum == "01.02.1990" and form.betrieb_plz == "63067"
    assert (form.eingang_referenz, form.eingang_kanal, form.eingang_datum) == ("UP-2026-0007", "post", _day(0))
    city = {"gewerbe": yaml.safe_load((ROOT / "resources/cities/offenbach/gewerbe.yaml").read_text(encoding="utf-8"))}
    receipt = library.run_keyword("receipt_data", [notice, "GEW-2026-00042", _day(0), city], {})
    assert "63067" in json.dumps(receipt, ensure_ascii=False)


def test_the_check_keyword_still_checks_the_dates():
    library = Gewerbeanzeige()
    data = kept(case_from_fields(gewa1(**{"betrieb.beginn": _day(-800)}), CASE))
    with pytest.raises(BusinessError) as caught:
        library.run_keyword("check_notice", [data, CASE, {}], {})
    assert caught.value.code == "DATUM_UNPLAUSIBEL"


# -- the schema the control room checks a correction against ------------------------------------------------


def _groups() -> dict[str, set[str]]:
    groups: dict[str, set[str]] = {}
    for field in FIELDS:
        if field.name != "formular":
            group, _, key = field.name.partition(".")
            groups.setdefault(group, set()).add(key)
    return groups


def test_the_schema_has_exactly_the_fields_of_the_forms_with_german_titles():
    properties = SCHEMA["properties"]
    assert set(properties) == {"formular", *_groups()}
    assert properties["formular"]["enum"] == list(FORMS)
    for group, keys in _groups().items():
        assert set(properties[group]["properties"]) == keys, group
        assert properties[group]["title"]
        assert all(sub["title"] for sub in properties[group]["properties"].values()), group


@pytest.mark.parametrize("form", FORMS)
def test_the_schema_requires_per_form_what_the_robot_requires(form):
    (rule,) = [rule for rule in SCHEMA["allOf"] if rule["if"]["properties"]["formular"]["const"] == form]
    required = {f"{group}.{key}" for group, sub in rule["then"]["properties"].items() for key in sub["required"]}
    assert required == {f.name for f in fields_of(form) if form in f.required and f.name != "formular"}


@pytest.mark.parametrize("sample", [s for s in generate.samples("offenbach", today=TODAY) if s.values],
                         ids=lambda s: s.key)
def test_the_case_data_of_each_sample_fits_the_schema_or_names_what_the_clerk_must_fix(sample):
    problems = case_problems(kept(case_from_fields(sample.values, CASE)), SCHEMA)
    if sample.key == "pflichtangaben-fehlen":
        assert [problem.path for problem in problems] == [("inhaber", "geburtsdatum"), ("betrieb", "plz")]
        assert "Geburtsdatum" in describe_problems(problems)
    else:
        assert problems == [], describe_problems(problems)


def test_a_correction_that_fits_the_schema_is_a_notice_the_robot_enters():
    incomplete = next(s for s in generate.samples("offenbach", today=TODAY) if s.key == "pflichtangaben-fehlen")
    data = kept(case_from_fields(incomplete.values, CASE))
    data["inhaber"]["geburtsdatum"] = "01.02.1990"
    data["betrieb"]["plz"] = "63065"
    assert case_problems(data, SCHEMA) == []
    assert notice_from_case(data, CASE).inhaber.geburtsdatum == "01.02.1990"
    data["inhaber"]["email"] = "kein-adresse"
    assert [p.path for p in case_problems(data, SCHEMA)] == [("inhaber", "email")]


def test_the_failure_limit_defaults_to_three_and_can_be_configured(tmp_path):
    config = load_robot_config(ROOT / "robots" / "offenbach" / "gewerbeanzeige" / "config.yaml")
    assert config["pruefung"]["max_fehlversuche"] == 3
    override = tmp_path / "override.yaml"
    override.write_text("pruefung:\n  max_fehlversuche: 2\n", encoding="utf-8")
    config = load_robot_config(ROOT / "robots" / "offenbach" / "gewerbeanzeige" / "config.yaml", [override])
    assert config["pruefung"]["max_fehlversuche"] == 2 and config["pruefung"]["mindestalter"] == 18
