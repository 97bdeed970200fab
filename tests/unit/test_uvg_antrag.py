"""The UVG application rules: required fields, age, enclosures, form mapping."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from rathaus.errors import BusinessError
from unterhaltsvorschuss.antrag import FIELDS, Falldaten, age_on, application_from_fields, check_application
from unterhaltsvorschuss.keywords import Unterhaltsvorschuss

CASE = "<antrag-1@example.org>"


def _fields(**changes):
    start = date.today().replace(day=1)
    values = {f.name: None for f in FIELDS}
    values.update({
        "antragsteller.name": "Müller", "antragsteller.vorname": "Jürgen",
        "antragsteller.geburtsdatum": "03.04.1985", "antragsteller.strasse": "Schloßgasse 7",
        "antragsteller.plz": "35390", "antragsteller.ort": "Gießen", "antragsteller.iban": "DE89370400440532013000",
        "antragsteller.lebt_mit_kind": True, "kind.name": "Müller", "kind.vorname": "Zoë",
        "kind.geburtsdatum": (start - timedelta(days=365 * 6)).strftime("%d.%m.%Y"),
        "leistung.beginn": start.strftime("%m.%Y"), "anlagen.geburtsurkunde": True,
    })
    values.update(changes)
    return values


def test_application_is_nested_and_hides_personal_data_in_its_text_form():
    app = application_from_fields(_fields(), CASE)
    assert app.antragsteller.vorname == "Jürgen"
    assert app.kind.vorname == "Zoë"
    assert "Müller" not in repr(app) and "Müller" not in str(app.antragsteller)


def test_missing_required_fields_are_listed_by_label():
    with pytest.raises(BusinessError) as caught:
        application_from_fields(_fields(**{"kind.geburtsdatum": None, "antragsteller.iban": "  "}), CASE)
    assert caught.value.code == "PFLICHTANGABEN_FEHLEN"
    assert CASE in str(caught.value)
    assert "Geburtsdatum des Kindes" in str(caught.value) and "IBAN fehlt" in str(caught.value)


def test_malformed_date_is_named():
    with pytest.raises(BusinessError, match=r"'31\.02\.2020' ist kein gültiges Datum"):
        application_from_fields(_fields(**{"kind.geburtsdatum": "31.02.2020"}), CASE)


def test_a_pdf_that_is_not_the_form():
    with pytest.raises(BusinessError) as caught:
        application_from_fields({"name": "x"}, CASE)
    assert caught.value.code == "KEIN_ANTRAGSFORMULAR"


def test_age_on_counts_birthdays():
    assert age_on(date(2008, 5, 2), date(2026, 5, 1)) == 17
    assert age_on(date(2008, 5, 1), date(2026, 5, 1)) == 18


def test_complete_application_has_no_missing_enclosures():
    app = application_from_fields(_fields(), CASE)
    assert check_application(app, ["Antrag.pdf", "Geburtsurkunde.pdf"], CASE) == []


@pytest.mark.parametrize(("ticked", "files"), [(False, ["Geburtsurkunde.pdf"]), (True, ["Antrag.pdf"])])
def test_enclosure_needs_tick_and_file(ticked, files):
    app = application_from_fields(_fields(**{"anlagen.geburtsurkunde": ticked}), CASE)
    assert check_application(app, files, CASE) == ["Geburtsurkunde des Kindes"]


def test_child_of_18_at_benefit_start_goes_to_a_clerk():
    start = date.today().replace(day=1)
    birth = date(start.year - 18, start.month, 1) - timedelta(days=3)
    app = application_from_fields(_fields(**{"kind.geburtsdatum": birth.strftime("%d.%m.%Y")}), CASE)
    with pytest.raises(BusinessError) as caught:
        check_application(app, ["Geburtsurkunde.pdf"], CASE)
    assert caught.value.code == "KIND_ZU_ALT"


def test_child_not_living_with_applicant_goes_to_a_clerk():
    app = application_from_fields(_fields(**{"antragsteller.lebt_mit_kind": False}), CASE)
    with pytest.raises(BusinessError, match="lebt das Kind nicht"):
        check_application(app, ["Geburtsurkunde.pdf"], CASE)


def test_form_data_uses_fachverfahren_names_and_skips_empty_entries():
    app = application_from_fields(_fields(), CASE)
    data = Unterhaltsvorschuss().fachverfahren_form_data(app)
    assert data["antragsteller_name"] == "Müller"
    assert data["anlagen_geburtsurkunde"] is True
    assert "elternteil_name" not in data
    assert data["kontoinhaber"] == "Jürgen Müller"
    assert isinstance(data, Falldaten)
