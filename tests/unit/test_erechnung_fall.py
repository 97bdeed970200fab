"""The case data of an e-invoice (``fall``): recorded once, the clerk's routing corrections applied on retry.

The invoice file is the original and is read on every attempt; what a clerk corrects in ``fall`` is the routing
(Leitweg-ID, Buchungskreis, Kostenstelle). See ``processes/e-rechnung/fall.schema.yaml``.
"""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest
from erechnung.case import case_data, route_by_case, routing_of
from erechnung.checks import check_invoice
from erechnung.filing import items_of_mail
from erechnung.keywords import ERechnung
from erechnung.routing import LeitwegDirectory
from erechnung.samples import sample_generator
from rathaus.core.cases import case_problems, load_case_schema
from rathaus.errors import BusinessError

ROOT = Path(__file__).resolve().parents[2]
PROCESS = ROOT / "processes/e-rechnung"
SCHOOLS, TIEFBAU, EIGENBETRIEB = "06631009-40-50", "06631009-66-69", "06631009-EBF-30"


generator = sample_generator()
CITY = {"id": "fulda", **generator.load_city("fulda")}
SCHEMA = load_case_schema(PROCESS, "fall.schema.yaml")


@pytest.fixture(scope="module")
def fulda() -> LeitwegDirectory:
    return LeitwegDirectory.from_master_data(CITY)


def _invoice_file(folder: Path, leitweg_id: str | None, name: str = "rechnung.xml", **changes) -> Path:
    invoice = generator._invoice(generator.load_city("fulda"), generator.SUPPLIERS["buero"], "schulen", "BV-T-1", 2,
                                 random.Random(7))
    invoice = replace(invoice, leitweg_id=leitweg_id, **changes)
    path = folder / name
    path.write_bytes(generator.ubl_xml(invoice))
    return path


def _library(tmp_path: Path) -> ERechnung:
    library = ERechnung()
    library.configure_e_rechnung({
        "stadt_daten": CITY, "amt": "kaemmerei", "versand": {"absender": "rechnung@fulda.de"},
        "archiv": {"ordner": str(tmp_path / "archiv")}, "pruefung": {"waehrungen": ["EUR"]},
        "postfach": {"erledigt": "Erledigt", "abgelehnt": "Abgelehnt", "pruefung": "Pruefung"},
        "prozess": {"folder": str(PROCESS), "case_schema": SCHEMA},
    })
    return library


def test_the_case_data_read_from_an_invoice_match_the_schema(tmp_path, fulda):
    check = check_invoice(_invoice_file(tmp_path, SCHOOLS), fulda, ["EUR"], "Stadt Fulda")
    data = case_data(check)
    assert case_problems(data, SCHEMA) == []
    assert data["leitweg_id"] == SCHOOLS and (data["buchungskreis"], data["kostenstelle"]) == ("1000", "1040000")
    assert data["rechnungsnummer"] == "BV-T-1" and data["waehrung"] == "EUR"
    assert data["rechnungsdatum"].count(".") == 2 and "." in data["zahlbetrag"]


def test_an_unreadable_invoice_still_gives_case_data_a_clerk_can_send_back(tmp_path, fulda):
    broken = tmp_path / "kaputt.xml"
    broken.write_text("<Invoice", encoding="utf-8")
    data = case_data(check_invoice(broken, fulda))
    assert set(data.values()) == {None}
    assert case_problems(data, SCHEMA) == []


def test_without_a_correction_the_invoice_routes_itself(tmp_path, fulda):
    check = check_invoice(_invoice_file(tmp_path, SCHOOLS), fulda)
    routed = route_by_case(check, case_data(check), None, fulda)
    assert routed.check is check and routed.corrected == () and routed.ignored == ()
    assert routed.case == case_data(check)


@pytest.mark.parametrize("wrong", [None, "06631009-40-51", "06531005-6600-27"])
def test_a_corrected_leitweg_id_routes_an_invoice_whose_own_one_is_missing_wrong_or_unknown(tmp_path, fulda, wrong):
    check = check_invoice(_invoice_file(tmp_path, wrong), fulda, ["EUR"], "Stadt Fulda")
    assert not check.ok and check.routing_only
    case = case_data(check)
    recorded = routing_of(case)
    routed = route_by_case(check, {**case, "leitweg_id": "06631009-66-69 "}, recorded, fulda)
    assert routed.check.ok, routed.check.findings
    assert routed.check.office.leitweg_id == TIEFBAU and routed.check.corrected == ("leitweg_id",)
    assert (routed.case["buchungskreis"], routed.case["kostenstelle"]) == ("1000", "1066200")
    assert routing_of(routed.case) == {"leitweg_id": TIEFBAU, "buchungskreis": "1000", "kostenstelle": "1066200"}


def test_a_new_leitweg_id_brings_its_offices_buchungskreis_unless_the_clerk_changed_that_too(tmp_path, fulda):
    check = check_invoice(_invoice_file(tmp_path, SCHOOLS), fulda)
    case = case_data(check)
    moved = route_by_case(check, {**case, "leitweg_id": EIGENBETRIEB}, routing_of(case), fulda)
    assert (moved.check.office.buchungskreis, moved.check.office.kostenstelle) == ("2000", "2100000")
    own = route_by_case(check, {**case, "leitweg_id": EIGENBETRIEB, "kostenstelle": "2100999"}, routing_of(case),
                        fulda)
    assert (own.check.office.buchungskreis, own.check.office.kostenstelle) == ("2000", "2100999")
    assert own.corrected == ("leitweg_id", "kostenstelle")
    # the next retry compares with what the robot kept: the clerk's routing stays
    again = route_by_case(check, own.case, routing_of(own.case), fulda)
    assert (again.check.office.leitweg_id, again.check.office.kostenstelle) == (EIGENBETRIEB, "2100999")
    assert again.corrected == ("leitweg_id", "kostenstelle") and again.case == own.case


def test_changes_to_what_the_invoice_says_are_not_taken(tmp_path, fulda):
    check = check_invoice(_invoice_file(tmp_path, SCHOOLS), fulda)
    case = case_data(check)
    routed = route_by_case(check, {**case, "zahlbetrag": "1.00", "rechnungsnummer": "X"}, routing_of(case), fulda)
    assert routed.ignored == ("rechnungsnummer", "zahlbetrag")
    assert routed.case == case and routed.check is check


@pytest.mark.parametrize(("wrong", "text"), [
    ("06631009-40-51", "ist ungültig"), ("06531005-6600-27", "gehört zu keinem Rechnungsempfänger"), ("", "ist leer"),
])
def test_a_wrong_correction_goes_back_to_the_clerk_naming_it(tmp_path, fulda, wrong, text):
    check = check_invoice(_invoice_file(tmp_path, SCHOOLS), fulda, ["EUR"], "Stadt Fulda")
    case = case_data(check)
    with pytest.raises(BusinessError, match=text) as raised:
        route_by_case(check, {**case, "leitweg_id": wrong}, routing_of(case), fulda, "Stadt Fulda")
    assert raised.value.code == "LEITWEG_KORREKTUR" and "Rechnung BV-T-1" in str(raised.value)


def test_other_faults_still_reject_a_rerouted_invoice(tmp_path, fulda):
    check = check_invoice(_invoice_file(tmp_path, None, currency="CHF"), fulda, ["EUR"], "Stadt Fulda")
    assert not check.routing_only
    routed = route_by_case(check, {**case_data(check), "leitweg_id": TIEFBAU}, None, fulda)
    assert not routed.check.ok and "WAEHRUNG" in routed.check.rules and "BR-DE-15" not in routed.check.rules


def test_the_keyword_books_and_archives_the_corrected_routing_and_says_so(tmp_path):
    library = _library(tmp_path)
    check = library.check_invoice(_invoice_file(tmp_path, "06531005-6600-27"))
    case = library.case_data_from_invoice(check)
    routed = library.route_invoice_by_case_data(check, {**case, "leitweg_id": TIEFBAU}, routing_of(case))
    assert routed.korrigiert == ["leitweg_id"] and routed.zuordnung["leitweg_id"] == TIEFBAU
    reference = library.archive_invoice(routed.check, tmp_path / "rechnung.xml", None, "03.12.2026",
                                        source="upload", reference="FU-2026-17")
    assert reference.startswith(f"2026/{TIEFBAU}/")
    data = library.finance_form_data(routed.check, reference, "03.12.2026", by_mail=False)
    assert (data.leitweg_id, data.buchungskreis, data.kostenstelle) == (TIEFBAU, "1000", "1066200")
    assert "als Upload im Kontrollraum am 03.12.2026" in data.bemerkung
    assert "Zuordnung von der Sachbearbeitung korrigiert (Leitweg-ID)" in data.bemerkung
    assert library.invoice_variables(routed.check).leitweg_id == TIEFBAU


def test_case_data_against_the_schema_go_back_to_the_clerk(tmp_path):
    library = _library(tmp_path)
    check = library.check_invoice(_invoice_file(tmp_path, SCHOOLS))
    with pytest.raises(BusinessError, match="unbekannte Angabe") as raised:
        library.route_invoice_by_case_data(check, {**library.case_data_from_invoice(check), "iban": "DE00"})
    assert raised.value.code == "FALLDATEN_UNGUELTIG"


def test_the_rejection_of_a_loose_upload_does_not_say_it_came_by_mail(tmp_path):
    library = _library(tmp_path)
    check = library.check_invoice(_invoice_file(tmp_path, None, currency="CHF"))
    by_mail = library.rejection_mail(check, "03.12.2026")
    uploaded = library.rejection_mail(check, "03.12.2026", by_mail=False)
    assert "per E-Mail an rechnung@fulda.de eingegangen" in by_mail.body
    assert "am 03.12.2026 bei der Stadt Fulda eingegangen" in uploaded.body and "per E-Mail an" not in uploaded.body
    path = Path(library.write_rejection_file(check, uploaded, tmp_path / "post"))
    assert path.name == "Rueckweisung_BV-T-1.txt"
    assert path.read_text(encoding="utf-8").startswith(f"Betreff: {uploaded.subject}\n\n")


def test_an_uploaded_copy_of_a_mail_never_files_the_mailbox_mail():
    items = [{"payload": {"message_id": "<m@x>", "quelle": "upload"}}, {"payload": {"message_id": "<m@x>"}},
             {"payload": {"referenz": "FU-1", "quelle": "upload"}}]
    assert items_of_mail(items, "<m@x>") == [items[1]]
