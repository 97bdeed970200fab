"""The rules of the process 'e-rechnung': master data, checks, archive, rejection, filing, sample invoices."""

from __future__ import annotations

import email
import json
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from email import policy
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from erechnung.archive import SIDECAR, archive_invoice, read_record, record_entry
from erechnung.attachments import sort_attachments
from erechnung.checks import check_invoice, supplier_text
from erechnung.filing import ItemState, items_of_mail, run_summary_lines, target_folder
from erechnung.keywords import ERechnung
from erechnung.rejection import rejection_data, render_rejection
from erechnung.routing import LeitwegDirectory
from erechnung.samples import sample_generator
from jsonschema import Draft202012Validator, FormatChecker
from rathaus.core.config import ConfigError
from rathaus.einvoice.leitweg import check_leitweg_id

ROOT = Path(__file__).resolve().parents[2]
CITIES = ("fulda", "giessen", "limburg", "marburg", "offenbach", "wetzlar")
#: Amtlicher Gemeindeschlüssel of each city, the Grobadressierung of its Leitweg-IDs
AGS = {"fulda": "06631009", "giessen": "06531005", "limburg": "06533009", "marburg": "06534014",
       "offenbach": "06413000", "wetzlar": "06532023"}
FOLDERS = {"erledigt": "Erledigt", "abgelehnt": "Abgelehnt", "pruefung": "Pruefung"}


generator = sample_generator()


def _city(city: str = "fulda") -> dict:
    return {"id": city, **generator.load_city(city)}


@pytest.fixture(scope="module")
def fulda() -> LeitwegDirectory:
    return LeitwegDirectory.from_master_data(_city("fulda"))


@pytest.fixture(scope="module")
def sample_files(tmp_path_factory) -> dict[str, list[Path]]:
    """The attachments of each Fulda sample mail, saved as the producer saves them, by sample key."""
    out = tmp_path_factory.mktemp("beispiele")
    paths = generator.generate(out / "mails", "fulda")
    files: dict[str, list[Path]] = {}
    for path in paths:
        mail = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        folder = out / path.stem
        folder.mkdir()
        saved = []
        for part in mail.iter_attachments():
            target = folder / part.get_filename()
            target.write_bytes(part.get_content())
            saved.append(target)
        files[path.stem.split("-", 1)[1]] = saved
    return files


# -- master data ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("city", CITIES)
def test_every_city_has_valid_leitweg_ids_under_its_gemeindeschluessel(city):
    schema = yaml.safe_load((ROOT / "resources/cities/schemas/leitweg.yaml").read_text(encoding="utf-8"))
    data = yaml.safe_load((ROOT / f"resources/cities/{city}/leitweg.yaml").read_text(encoding="utf-8"))
    assert not list(Draft202012Validator(schema, format_checker=FormatChecker()).iter_errors(data))
    assert data["grobadressierung"] == AGS[city]
    directory = LeitwegDirectory.from_master_data(_city(city))
    assert len(directory) >= 4
    assert directory.central.bereich == "zentral"
    for office in directory:
        assert check_leitweg_id(office.leitweg_id) == office.leitweg_id
        assert office.leitweg_id.startswith(AGS[city] + "-")
        assert office.kontakt_email.endswith(f"@{city}.de")


def test_leitweg_ids_are_unique_across_the_cooperation():
    ids = [o.leitweg_id for city in CITIES for o in LeitwegDirectory.from_master_data(_city(city))]
    assert len(ids) == len(set(ids))


def test_a_wrong_check_digit_in_the_master_data_names_file_and_entry():
    data = _city("fulda")
    data["leitweg"] = {**data["leitweg"], "empfaenger": [dict(e) for e in data["leitweg"]["empfaenger"]]}
    data["leitweg"]["empfaenger"][2]["leitweg_id"] = "06631009-40-51"
    with pytest.raises(ConfigError) as caught:
        LeitwegDirectory.from_master_data(data)
    message = str(caught.value)
    assert "resources/cities/fulda/leitweg.yaml, Empfänger Nr. 3" in message
    assert "erwartet '50'" in message


def test_a_leitweg_id_of_another_city_or_twice_the_same_is_refused():
    data = _city("fulda")
    offices = [dict(e) for e in data["leitweg"]["empfaenger"]]
    with pytest.raises(ConfigError, match="Grobadressierung '06631009'"):
        LeitwegDirectory.from_master_data({**data, "leitweg": {**data["leitweg"],
                                           "empfaenger": [*offices, {**offices[0], "leitweg_id": "06531005-16"}]}})
    with pytest.raises(ConfigError, match="zweimal"):
        LeitwegDirectory.from_master_data({**data, "leitweg": {**data["leitweg"],
                                           "empfaenger": [*offices, offices[1]]}})


def test_missing_leitweg_master_data_says_which_file_to_write():
    data = {k: v for k, v in _city("giessen").items() if k != "leitweg"}
    with pytest.raises(ConfigError, match=r"resources/cities/giessen/leitweg\.yaml"):
        LeitwegDirectory.from_master_data(data)


def test_offices_are_found_regardless_of_case_and_blanks(fulda):
    assert fulda.find(" 06631009-ebf-30 ").buchungskreis == "2000"
    assert fulda.find("06631009-66-69").bezeichnung.startswith("Tiefbauamt")
    assert fulda.find("06531005-16") is None
    assert fulda.find(None) is None


# -- attachments ---------------------------------------------------------------------------------------


def test_xml_and_zugferd_pdfs_are_invoices_other_files_are_enclosures(sample_files, tmp_path):
    picture = tmp_path / "foto.jpg"
    picture.write_bytes(b"\xff\xd8\xff\xe0 not really a photo")
    broken = tmp_path / "kaputt.pdf"
    broken.write_bytes(b"%PDF-1.7\n1 0 obj")
    files = [*sample_files["zwei-rechnungen"], *sample_files["zugferd-strassenbeleuchtung"],
             *sample_files["pdf-ohne-rechnung"], picture, broken]
    result = sort_attachments(files)
    assert [Path(p).name for p in result.invoices] == [
        "GGD-FU-2026-1104.xml", "GGD-FU-2026-1105.xml", "Rechnung_LWO-FU-2026-3302.pdf", "kaputt.pdf"]
    assert [Path(p).name for p in result.enclosures] == [
        "Leistungsnachweis_Oktober_2026.pdf", "Rechnung_KRV-FU-26-2290.pdf", "foto.jpg"]


# -- checks --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "syntax", "buchungskreis", "kostenstelle"), [
    ("ubl-bueromaterial", "UBL", "1000", "1040000"),
    ("cii-it-dienstleistung", "CII", "1000", "1010100"),
    ("zugferd-strassenbeleuchtung", "CII", "1000", "1066200"),
])
def test_good_invoices_pass_and_are_routed_by_their_leitweg_id(sample_files, fulda, key, syntax, buchungskreis,
                                                              kostenstelle):
    result = check_invoice(sample_files[key][0], fulda, ["EUR"], "Stadt Fulda")
    assert result.ok, result.findings
    assert result.invoice.syntax == syntax
    assert (result.office.buchungskreis, result.office.kostenstelle) == (buchungskreis, kostenstelle)
    assert "in Ordnung" in repr(result)


def test_two_invoices_of_one_mail_go_to_different_buchungskreise(sample_files, fulda):
    results = [check_invoice(path, fulda) for path in sort_attachments(sample_files["zwei-rechnungen"]).invoices]
    assert [r.office.buchungskreis for r in results] == ["1000", "2000"]
    assert all(r.ok for r in results)


@pytest.mark.parametrize(("key", "rule"), [
    ("rechenfehler", "BR-CO-15"),
    ("ohne-leitweg-id", "BR-DE-15"),
    ("pruefziffer-falsch", "LEITWEG-ID"),
    ("leitweg-unbekannt", "LEITWEG-UNBEKANNT"),
    ("xml-kaputt", "SYNTAX-XML"),
])
def test_each_bad_sample_is_refused_with_its_rule(sample_files, fulda, key, rule):
    result = check_invoice(sample_files[key][0], fulda, ["EUR"], "Stadt Fulda")
    assert not result.ok
    assert result.rules == [rule]
    assert result.reasons()[0]["rule"] == rule


def test_an_unknown_leitweg_id_is_named_and_a_wrong_check_digit_explained(sample_files, fulda):
    unknown = check_invoice(sample_files["leitweg-unbekannt"][0], fulda, ["EUR"], "Stadt Fulda")
    assert unknown.unknown_leitweg_id == "06531005-6600-27"
    assert "gehört zu keinem Rechnungsempfänger der Stadt Fulda" in unknown.findings[0].text
    typo = check_invoice(sample_files["pruefziffer-falsch"][0], fulda, ["EUR"], "Stadt Fulda")
    assert typo.unknown_leitweg_id is None
    assert "Prüfziffer '54' passt nicht" in typo.findings[0].text


def test_a_currency_the_city_does_not_pay_in_is_a_finding(tmp_path, fulda):
    invoice = replace(_sample_invoice(), currency="CHF")
    path = tmp_path / "chf.xml"
    path.write_bytes(generator.ubl_xml(invoice))
    result = check_invoice(path, fulda, ["EUR"], "Stadt Fulda")
    assert result.rules == ["WAEHRUNG"]
    assert "lautet auf CHF" in result.findings[0].text
    assert check_invoice(path, fulda, ["EUR", "CHF"], "Stadt Fulda").ok


def test_several_faults_are_all_listed(tmp_path, fulda):
    invoice = replace(_sample_invoice(), gross_error=Decimal("1.00"), leitweg_id="06631009-66-68", currency="USD")
    path = tmp_path / "mehrfach.xml"
    path.write_bytes(generator.cii_xml(invoice))
    assert check_invoice(path, fulda, ["EUR"], "Stadt Fulda").rules == ["BR-CO-15", "LEITWEG-ID", "WAEHRUNG"]


def test_the_suppliers_text_drops_advice_meant_for_clerks(sample_files, fulda):
    result = check_invoice(sample_files["xml-kaputt"][0], fulda)
    assert "Rechnungssteller" in result.findings[0].text
    assert "Rechnungssteller" not in result.reasons()[0]["text"]
    assert supplier_text("  A.\n B.  ") == "A. B."


def test_a_check_result_logs_no_supplier_names(sample_files, fulda):
    result = check_invoice(sample_files["ubl-bueromaterial"][0], fulda)
    assert "Bürobedarf" not in repr(result) and "Bürobedarf" not in str(result)


# -- finance form --------------------------------------------------------------------------------------


def _library(tmp_path: Path, city: str = "fulda") -> ERechnung:
    library = ERechnung()
    library.configure_e_rechnung({
        "stadt_daten": _city(city), "amt": "kaemmerei", "versand": {"absender": f"rechnung@{city}.de"},
        "archiv": {"ordner": str(tmp_path / "archiv")}, "pruefung": {"waehrungen": ["EUR"]},
        "postfach": FOLDERS, "prozess": {"folder": str(ROOT / "processes/e-rechnung")},
    })
    return library


def test_finance_form_data_is_typed_as_a_clerk_would(sample_files, tmp_path):
    library = _library(tmp_path)
    result = library.check_invoice(sample_files["zugferd-strassenbeleuchtung"][0])
    data = library.finance_form_data(result, "2026/06631009-66-69/x", "16.11.2026")
    invoice = result.invoice
    assert data.buchungskreis == "1000" and data.kostenstelle == "1066200"
    assert data.leitweg_id == "06631009-66-69"
    assert data.rechnungsdatum == "04.11.2026" and data.faelligkeit == "18.11.2026"
    assert data.waehrung == "EUR"
    assert data.positionen == "3"
    assert data.brutto == generator._german(invoice.gross_total)
    assert data.netto.count(",") == 1 and "." in data.brutto  # 1.234,56
    assert "ZUGFeRD/Factur-X" in data.bemerkung and "16.11.2026" in data.bemerkung


def test_finance_form_data_refuses_an_invoice_with_findings(sample_files, tmp_path):
    library = _library(tmp_path)
    result = library.check_invoice(sample_files["rechenfehler"][0])
    with pytest.raises(Exception, match="nicht erfasst"):
        library.finance_form_data(result, "ref", "16.11.2026")


def test_invoice_variables_hold_routing_and_amount(sample_files, tmp_path):
    library = _library(tmp_path)
    variables = library.invoice_variables(library.check_invoice(sample_files["zwei-rechnungen"][1]))
    assert variables.buchungskreis == "2000" and variables.leitweg_id == "06631009-EBF-30"
    assert Decimal(variables.zahlbetrag) > 0 and variables.regeln == []


# -- archive -------------------------------------------------------------------------------------------


def test_archive_keeps_original_enclosures_and_a_sidecar(sample_files, tmp_path):
    invoice_file, enclosure = sample_files["zwei-rechnungen"][0], sample_files["zwei-rechnungen"][2]
    archived = archive_invoice(tmp_path, invoice_file, leitweg_id="06631009-40-50", supplier="Glanzvoll KG",
                               number="GGD-1104", received=date(2026, 11, 16), message_id="<m@x>",
                               enclosures=[enclosure])
    assert archived.new
    assert archived.reference == "2026/06631009-40-50/Glanzvoll_KG_GGD-1104"
    assert archived.original.read_bytes() == invoice_file.read_bytes()
    assert (archived.folder / "anlage-Leistungsnachweis_Oktober_2026.pdf").is_file()
    record = read_record(tmp_path, archived.reference)
    assert record["message_id"] == "<m@x>" and record["eingang"] == "2026-11-16"
    assert len(record["datei"]["sha256"]) == 64 and record["beleg"] is None
    record_entry(tmp_path, archived.reference, "ER-2026-000001")
    assert read_record(tmp_path, archived.reference)["beleg"] == "ER-2026-000001"


def test_archiving_again_reuses_the_folder_and_never_overwrites_another_file(sample_files, tmp_path):
    first, other = sample_files["ubl-bueromaterial"][0], sample_files["cii-it-dienstleistung"][0]
    args = {"leitweg_id": "06631009-25", "supplier": "A/B", "number": "1", "received": date(2026, 1, 2),
            "message_id": "<m@x>"}
    one = archive_invoice(tmp_path, first, **args)
    again = archive_invoice(tmp_path, first, **args)
    assert (again.reference, again.new) == (one.reference, False)
    different = archive_invoice(tmp_path, other, **args)
    assert different.reference == one.reference + "-2"
    assert one.original.read_bytes() == first.read_bytes()
    assert sorted(p.name for p in one.folder.iterdir()) == sorted([first.name, SIDECAR])
    assert "/" not in one.reference.split("/")[-1]


# -- rejection -----------------------------------------------------------------------------------------


def _rejection(sample_files, key: str, tmp_path: Path):
    library = _library(tmp_path)
    return library.rejection_mail(library.check_invoice(sample_files[key][0]), "16.11.2026")


def test_the_rejection_names_invoice_file_reasons_and_what_to_do(sample_files, tmp_path):
    mail = _rejection(sample_files, "rechenfehler", tmp_path)
    assert mail.subject == "Rückweisung Ihrer Rechnung GLD-FU-2026-0555 – Stadt Fulda"
    assert "Ihre Rechnung GLD-FU-2026-0555 vom 06.11.2026 (Datei „GLD-FU-2026-0555.xml“)" in mail.body
    assert "am 16.11.2026 per E-Mail an rechnung@fulda.de" in mail.body
    assert "  - Gesamtbetrag mit Steuer" in mail.body and "[BR-CO-15]" in mail.body
    assert "korrigierte Rechnung" in mail.body
    assert "tiefbauamt@fulda.de" in mail.body  # the receiving office answers queries
    assert "Stadtkämmerei – Rechnungseingang\nStadt Fulda\nSchloßstraße 1, 36037 Fulda" in mail.body
    assert "Rechnungsempfänger der Stadt Fulda:" not in mail.body


def test_the_rejection_of_an_unknown_leitweg_id_lists_the_citys_offices(sample_files, tmp_path):
    mail = _rejection(sample_files, "leitweg-unbekannt", tmp_path)
    assert "'06531005-6600-27'" in mail.body and "[LEITWEG-UNBEKANNT]" in mail.body
    assert "Die Rechnungsempfänger der Stadt Fulda:" in mail.body
    for leitweg_id in ("06631009-25", "06631009-10-43", "06631009-66-69", "06631009-EBF-30"):
        assert f"  {leitweg_id} " in mail.body
    assert "rechnung@fulda.de oder telefonisch unter 0661 102-1210" in mail.body


def test_the_rejection_of_an_unreadable_file_names_the_file(sample_files, tmp_path):
    mail = _rejection(sample_files, "xml-kaputt", tmp_path)
    assert mail.subject == "Rückweisung Ihrer Rechnung Rechnung_LWO-FU-2026-3317.xml – Stadt Fulda"
    assert "Ihre Rechnungsdatei „Rechnung_LWO-FU-2026-3317.xml“" in mail.body
    assert "[SYNTAX-XML]" in mail.body
    assert "Bitte fordern Sie" not in mail.body


@pytest.mark.parametrize("city", CITIES)
def test_every_city_can_send_a_rejection(sample_files, tmp_path, city):
    library = _library(tmp_path, city)
    result = library.check_invoice(sample_files["ubl-bueromaterial"][0])  # Fulda's ID: unknown elsewhere
    expected = ["LEITWEG-UNBEKANNT"] if city != "fulda" else []
    assert result.rules == expected
    if city == "fulda":
        return
    mail = library.rejection_mail(result, "16.11.2026")
    name = _city(city)["name"]
    assert mail.subject.endswith(f"– {name}") and f"Die Rechnungsempfänger der {name}:" in mail.body


def test_rejection_data_without_office_points_to_the_department(sample_files, tmp_path):
    library = _library(tmp_path)
    result = library.check_invoice(sample_files["ohne-leitweg-id"][0])
    data = rejection_data(result, "16.11.2026", "rechnung@fulda.de", _city(), {"name": "Kämmerei",
                          "email": "kaemmerei@fulda.de"}, library.directory)
    assert data["kontakt"] == {"email": "kaemmerei@fulda.de", "telefon": ""}
    mail = render_rejection(ROOT / "processes/e-rechnung/templates", data)
    assert "unter kaemmerei@fulda.de." in mail.body and "[BR-DE-15]" in mail.body


# -- filing --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("states", "folder"), [
    ([], None),
    ([ItemState("done", ergebnis="erfasst")], "Erledigt"),
    ([ItemState("done", ergebnis="erfasst"), ItemState("done", ergebnis="vorhanden")], "Erledigt"),
    ([ItemState("done", ergebnis="erfasst"), ItemState("done", ergebnis="abgelehnt")], "Abgelehnt"),
    ([ItemState("failed", "BUSINESS"), ItemState("done", ergebnis="abgelehnt")], "Pruefung"),
    ([ItemState("done", ergebnis="erfasst"), ItemState("pending")], None),
    ([ItemState("done", ergebnis="erfasst"), ItemState("in_progress")], None),
    ([ItemState("failed", "APPLICATION"), ItemState("failed", "BUSINESS")], None),
])
def test_a_mail_moves_only_when_all_its_invoices_are_finished(states, folder):
    assert target_folder(states, FOLDERS) == folder


def _item(message_id, status="done", exception_type=None, released=None, **payload):
    return SimpleNamespace(status=SimpleNamespace(value=status), exception_type=exception_type,
                           payload={"message_id": message_id, **payload}, released_at=released)


def test_items_of_a_mail_are_found_by_message_id():
    items = [_item("<a@x>", ergebnis="erfasst"), _item("<b@x>"), _item("<a@x>", "failed", "BUSINESS")]
    mine = items_of_mail(items, "<a@x>")
    assert len(mine) == 2
    assert [ItemState.of(i) for i in mine] == [ItemState("done", None, "erfasst"), ItemState("failed", "BUSINESS")]
    assert ItemState.of({"status": "done", "ergebnis": "vorhanden"}).ergebnis == "vorhanden"


def test_the_queue_states_of_the_work_item_library_are_understood():
    from rathaus.workitems import ItemState as QueueState

    queued = [_item("<a@x>", QueueState.FAILED_BUSINESS.value, "BUSINESS"), _item("<a@x>", QueueState.DONE.value)]
    assert target_folder([ItemState.of(i) for i in queued], FOLDERS) == "Pruefung"
    for waiting in (QueueState.NEW, QueueState.IN_PROGRESS, QueueState.FAILED_APPLICATION):
        assert target_folder([ItemState.of(_item("<a@x>", waiting.value, "APPLICATION"))], FOLDERS) is None


def test_run_summary_sums_entries_per_buchungskreis_of_this_run_only():
    now = datetime.now(timezone.utc)
    items = [
        _item("<a@x>", released=now, ergebnis="erfasst", buchungskreis="1000", zahlbetrag="1000.50", waehrung="EUR"),
        _item("<b@x>", released=now, ergebnis="erfasst", buchungskreis="1000", zahlbetrag="234.00", waehrung="EUR"),
        _item("<c@x>", released=now, ergebnis="erfasst", buchungskreis="2000", zahlbetrag="99.99", waehrung="EUR"),
        _item("<d@x>", released=now, ergebnis="abgelehnt", rueckweisung="<r@fulda.de>"),
        _item("<e@x>", released=now - timedelta(days=1), ergebnis="erfasst", buchungskreis="1000", zahlbetrag="5"),
        _item("<f@x>", "pending"),
    ]
    assert run_summary_lines(items, now - timedelta(minutes=1)) == [
        "Erfasst je Buchungskreis: 1000: 2 Rechnungen, 1.234,50 EUR; 2000: 1 Rechnung, 99,99 EUR",
        "Rückweisungen an die Absender versandt: 1",
    ]
    assert run_summary_lines(items[5:], now) == []


# -- samples -------------------------------------------------------------------------------------------


def _sample_invoice():
    import random

    return generator._invoice(generator.load_city("fulda"), generator.SUPPLIERS["buero"], "zentral", "T-1", 2,
                              random.Random(1))


def test_sample_invoices_add_up_per_vat_rate():
    invoice = _sample_invoice()
    groups = invoice.vat_groups()
    assert [rate for rate, _base, _tax in groups] == [Decimal("19"), Decimal("7")]
    assert invoice.gross_total == invoice.net_total + sum(tax for _r, _b, tax in groups)


def test_the_sample_set_is_deterministic_and_says_what_to_expect(tmp_path):
    first = generator.generate(tmp_path / "a", "marburg")
    second = generator.generate(tmp_path / "b", "marburg")
    expected = json.loads((tmp_path / "a" / "erwartet.json").read_text(encoding="utf-8"))
    assert [p.name for p in first] == [p.name for p in second]
    for one, two in zip(first, second, strict=True):
        if "zugferd" not in one.name:  # factur-x stamps the PDF with the time of writing
            assert one.read_bytes() == two.read_bytes()
    outcomes = [entry["erwartet"] for entry in expected]
    assert outcomes.count("erfasst") == 4 and outcomes.count("abgelehnt") == 5
    assert outcomes.count("sachbearbeitung") == 2 and outcomes.count("vorhanden") == 1
    assert all(i["leitweg_id"] is None or i["leitweg_id"].startswith(("06534014", "06413000"))
               for entry in expected for i in entry["rechnungen"])


def test_the_sample_script_fills_a_maildir_and_devdata(tmp_path):
    assert generator.main(["--out", str(tmp_path / "eml"), "--maildir", str(tmp_path / "Maildir"), "--city",
                           "offenbach", "--devdata", str(tmp_path / "devdata")]) == 0
    assert len(list((tmp_path / "Maildir" / "new").iterdir())) == 12
    env = json.loads((tmp_path / "devdata" / "env.json").read_text(encoding="utf-8"))
    assert "OFFENBACH_FINANZSYSTEM_PASSWORT" in env
    two = json.loads((tmp_path / "devdata/work-items-in/04-zwei-rechnungen/work-items.json").read_text("utf-8"))
    assert [item["payload"]["datei"] for item in two] == ["GGD-OF-2026-1104.xml", "GGD-OF-2026-1105.xml"]
    assert all(item["payload"]["anlagen"] == ["Leistungsnachweis_Oktober_2026.pdf"] for item in two)
    none = json.loads((tmp_path / "devdata/work-items-in/11-ohne-anhang/work-items.json").read_text("utf-8"))
    assert none[0]["payload"]["art"] == "keine_rechnung" and none[0]["files"] == {}


# -- the city's Leitweg-ID rule and the official rules ---------------------------------------------------


def _without_leitweg_id(source: Path, target: Path, specification: str) -> Path:
    data = source.read_bytes()
    start, end = data.index(b"<cbc:BuyerReference>"), data.index(b"</cbc:BuyerReference>") + 21
    data = data[:start] + data[end:]
    old = data[data.index(b"<cbc:CustomizationID>") + 21:data.index(b"</cbc:CustomizationID>")]
    target.write_bytes(data.replace(old, specification.encode()))
    return target


def test_a_missing_leitweg_id_is_br_de_15_for_an_xrechnung_and_the_citys_own_rule_otherwise(sample_files, fulda,
                                                                                             tmp_path):
    source = sample_files["ubl-bueromaterial"][0]
    xrechnung = _without_leitweg_id(source, tmp_path / "x.xml", "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:"
                                    "kosit:xrechnung_3.0")
    assert check_invoice(xrechnung, fulda, ["EUR"], "Stadt Fulda").rules == ["BR-DE-15"]
    plain = _without_leitweg_id(source, tmp_path / "en.xml", "urn:cen.eu:en16931:2017")
    result = check_invoice(plain, fulda, ["EUR"], "Stadt Fulda")
    assert result.rules == ["LEITWEG-FEHLT"]
    assert result.findings[0].text.startswith("Die Leitweg-ID (BT-10, Käuferreferenz) fehlt; die Stadt Fulda braucht")


def test_with_the_official_rules_their_verdict_decides_and_the_reasons_are_explained(sample_files, fulda):
    from erechnung.checks import official_rules

    config = {"pruefung": {"amtliche_regeln": "../shared/corpora/kosit-xrechnung-config"},
              "prozess": {"folder": ROOT / "processes" / "e-rechnung"}}
    official = official_rules(config)
    assert official is not None and official.name == "Validator Configuration XRechnung 3.0.2"
    good = check_invoice(sample_files["ubl-bueromaterial"][0], fulda, ["EUR"], "Stadt Fulda", official)
    assert good.ok and good.verdict.accepted
    bad = check_invoice(sample_files["rechenfehler"][0], fulda, ["EUR"], "Stadt Fulda", official)
    assert bad.rules == ["BR-CO-15"] and not bad.verdict.accepted
    assert bad.findings[0].text.startswith("Invoice total amount with VAT (BT-112) = Invoice total amount without")
    assert " – Gesamtbetrag mit Steuer " in bad.findings[0].text
    assert official_rules({"pruefung": {}}) is None
