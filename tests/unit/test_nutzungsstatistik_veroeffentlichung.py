"""Merging and publishing usage figures (processes/nutzungsstatistik: statistik, veroeffentlichung, diagramm,
keywords) and the city configurations of the process."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from pathlib import Path
from xml.etree import ElementTree

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from nutzungsstatistik.exporte import Export, Plattform, lese_export, plattform_fuer
from nutzungsstatistik.kennzahlen import KENNZAHLEN, SPALTEN, Schluessel, leer
from nutzungsstatistik.keywords import Nutzungsstatistik
from nutzungsstatistik.samples.generate import erwartete_werte, generate, write_correction, write_malformed
from nutzungsstatistik.statistik import summen_je_dienst, zusammenfuehren
from nutzungsstatistik.veroeffentlichung import (
    DATAPACKAGE,
    JSONSCHEMA,
    PNG_SIGNATURE,
    TABLESCHEMA,
    Angaben,
    PublicationError,
    jsonschema,
    lese_veroeffentlichung,
    pruefe_csv,
    pruefe_ordner,
    tableschema,
    veroeffentliche,
)
from PIL import Image
from rathaus import Process
from rathaus.core.config import load_robot_config
from rathaus.core.project import Project

ROOT = Path(__file__).resolve().parents[2]
PLATTFORMEN = [Plattform("civento", "civento", "civento*.csv"),
               Plattform("serviceportal", "serviceportal", "serviceportal*.csv")]
ANGABEN = Angaben("marburg", "Universitätsstadt Marburg", webseite="https://www.marburg.de",
                  kontakt="opendata@marburg.de")
STICHTAG = date(2026, 1, 15)
CITIES = ("marburg", "fulda", "giessen", "offenbach")


def _figures(**values: int) -> dict[str, int]:
    figures = leer()
    figures.update(values)
    return figures


def _export(name: str, *rows: tuple[str, str, str, dict[str, int]]) -> Export:
    return Export(Path(name), rows[0][2], len(rows), {Schluessel(m, d, p): w for m, d, p, w in rows})


def _sample_exports(folder: Path, city: str = "marburg", year: int = 2025) -> list[Export]:
    return [lese_export(p, plattform_fuer(p, PLATTFORMEN)) for p in generate(folder, city, year)]


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    """The sample exports of Marburg 2025, published once for the checks that only read."""
    base = tmp_path_factory.mktemp("veroeffentlicht")
    merged = zusammenfuehren({}, _sample_exports(base / "exporte"))
    veroeffentliche(base / "ziel", merged.werte, merged.jahre, ANGABEN, STICHTAG)
    return base / "ziel"


# --- merging ------------------------------------------------------------------------------------------


def test_a_new_export_for_a_published_month_replaces_its_figures_and_never_adds_up():
    key = Schluessel("2025-03", "Briefwahl", "serviceportal")
    other = Schluessel("2025-04", "Briefwahl", "serviceportal")
    published = {key: _figures(aufrufe=100, abgeschlossen=10, zahlung_keine=10, authentifizierung_ohne=10),
                 other: _figures(aufrufe=5)}
    corrected = _figures(aufrufe=120, abgeschlossen=12, zahlung_keine=12, authentifizierung_ohne=12)
    merged = zusammenfuehren(published, [_export("serviceportal_nachlieferung.csv",
                                                 ("2025-03", "Briefwahl", "serviceportal", corrected))])
    assert merged.werte[key] == corrected
    assert merged.werte[other] == published[other]
    assert (merged.neu, merged.ersetzt, merged.unveraendert) == (0, 1, 0)
    again = zusammenfuehren(merged.werte, [_export("x.csv", ("2025-03", "Briefwahl", "serviceportal", corrected))])
    assert again.werte == merged.werte and (again.neu, again.ersetzt, again.unveraendert) == (0, 0, 1)


def test_the_same_month_and_service_on_two_platforms_are_two_rows():
    merged = zusammenfuehren({}, [
        _export("civento.csv", ("2025-01", "Gewerbeanzeige", "civento", _figures(aufrufe=1))),
        _export("serviceportal.csv", ("2025-01", "Gewerbeanzeige", "serviceportal", _figures(aufrufe=2))),
    ])
    assert len(merged.werte) == 2 and merged.neu == 2 and merged.jahre == [2025]


def test_within_one_run_the_later_named_export_wins_whatever_the_order_given():
    early = _export("civento_2025-03_a.csv", ("2025-03", "Hundesteuer", "civento", _figures(aufrufe=1)))
    late = _export("civento_2025-03_b.csv", ("2025-03", "Hundesteuer", "civento", _figures(aufrufe=2)))
    merged = zusammenfuehren({}, [late, early])
    assert merged.werte[Schluessel("2025-03", "Hundesteuer", "civento")]["aufrufe"] == 2
    assert merged.mehrfach == [Schluessel("2025-03", "Hundesteuer", "civento")]
    assert merged.neu == 1


def test_chart_series_sum_platforms_and_leave_months_without_data_empty():
    rows = [(Schluessel("2025-01", "Gewerbeanzeige", "civento"), _figures(aufrufe=3)),
            (Schluessel("2025-01", "Gewerbeanzeige", "serviceportal"), _figures(aufrufe=4)),
            (Schluessel("2025-03", "Gewerbeanzeige", "civento"), _figures(aufrufe=0))]
    series = summen_je_dienst(rows, "aufrufe")["Gewerbeanzeige"]
    assert series[:4] == [7, None, 0, None] and len(series) == 12


# --- the published files ------------------------------------------------------------------------------


def test_the_publication_holds_every_file_of_the_contract(published):
    names = sorted(p.name for p in published.iterdir())
    assert names == [DATAPACKAGE, "nutzungsstatistik-marburg-2025.csv", "nutzungsstatistik-marburg-2025.json",
                     "nutzungsstatistik-marburg-2025.metadaten.json", "nutzungsstatistik-marburg-2025.png",
                     "nutzungsstatistik-marburg-2025.svg", JSONSCHEMA, TABLESCHEMA]
    assert len(pruefe_ordner(published, "marburg")) == 6


def test_the_csv_matches_its_table_schema_and_the_exports(published):
    content = (published / "nutzungsstatistik-marburg-2025.csv").read_bytes()
    assert pruefe_csv(content, tableschema()) == []
    assert b"\r\n" in content and not content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8"), newline="")))
    assert tuple(rows[0]) == SPALTEN
    found = {(r["monat"], r["onlinedienst"], r["plattform"]): {k: int(r[k]) for k in KENNZAHLEN} for r in rows}
    assert found == erwartete_werte("marburg", 2025)
    assert [(r["monat"], r["onlinedienst"], r["plattform"]) for r in rows] == sorted(found)


def test_the_json_matches_its_json_schema_and_the_csv(published):
    document = json.loads((published / "nutzungsstatistik-marburg-2025.json").read_text(encoding="utf-8"))
    Draft202012Validator(jsonschema(), format_checker=FormatChecker()).validate(document)
    assert document["herausgeber"] == "Universitätsstadt Marburg"
    assert document["lizenz"]["id"] == "dl-de/by-2-0" and document["lizenz"]["namensnennung"]
    expected = erwartete_werte("marburg", 2025)
    for row in document["daten"]:
        figures = expected[(row["monat"], row["onlinedienst"], row["plattform"])]
        assert row["aufrufe"] == figures["aufrufe"]
        assert row["zahlungsarten"]["paypal"] == figures["zahlung_paypal"]
        assert row["authentifizierung"]["bundid"] == figures["authentifizierung_bundid"]
    assert len(document["daten"]) == len(expected)


def test_the_schema_files_describe_exactly_the_published_columns():
    fields = tableschema()["fields"]
    assert [f["name"] for f in fields] == list(SPALTEN)
    assert tableschema()["primaryKey"] == ["monat", "onlinedienst", "plattform"]
    row = jsonschema()["$defs"]["zeile"]["properties"]
    assert set(row["zahlungsarten"]["properties"]) == {n.removeprefix("zahlung_") for n in KENNZAHLEN
                                                       if n.startswith("zahlung_")}
    assert set(row["authentifizierung"]["properties"]) == {n.removeprefix("authentifizierung_") for n in KENNZAHLEN
                                                           if n.startswith("authentifizierung_")}
    Draft202012Validator.check_schema(jsonschema())


def test_the_metadata_carry_the_dcat_ap_de_fields(published):
    meta = json.loads((published / "nutzungsstatistik-marburg-2025.metadaten.json").read_text(encoding="utf-8"))
    assert meta["@type"] == "dcat:Dataset"
    assert meta["dct:publisher"]["foaf:name"] == "Universitätsstadt Marburg"
    assert meta["dct:license"] == {"@id": "http://dcat-ap.de/def/licenses/dl-by-de/2.0"}
    assert meta["dct:temporal"]["dcat:startDate"] == "2025-01-01"
    assert meta["dct:temporal"]["dcat:endDate"] == "2025-12-31"
    assert meta["dct:modified"] == "2026-01-15"
    assert meta["dcat:contactPoint"]["vcard:hasEmail"] == {"@id": "mailto:opendata@marburg.de"}
    formats = [d["dcat:mediaType"] for d in meta["dcat:distribution"]]
    assert formats == ["text/csv", "application/json", "image/png", "image/svg+xml"]
    csv_distribution = meta["dcat:distribution"][0]
    assert csv_distribution["dct:conformsTo"] == {"@id": TABLESCHEMA}
    assert csv_distribution["dcatde:licenseAttributionByText"] == "Universitätsstadt Marburg"
    assert csv_distribution["dcat:byteSize"] == (published / "nutzungsstatistik-marburg-2025.csv").stat().st_size


def test_the_data_package_lists_the_data_files_with_their_schema_and_checksums(published):
    package = json.loads((published / DATAPACKAGE).read_text(encoding="utf-8"))
    assert package["licenses"][0]["path"] == "https://www.govdata.de/dl-de/by-2-0"
    assert package["contributors"] == [{"title": "Universitätsstadt Marburg", "role": "publisher",
                                        "path": "https://www.marburg.de"}]
    tabular = [r for r in package["resources"] if r["profile"] == "tabular-data-resource"]
    assert [r["path"] for r in tabular] == ["nutzungsstatistik-marburg-2025.csv"]
    assert tabular[0]["schema"] == TABLESCHEMA and tabular[0]["hash"].startswith("sha256:")


def test_the_charts_are_a_png_and_a_well_formed_svg_with_a_text_alternative(published):
    png = published / "nutzungsstatistik-marburg-2025.png"
    assert png.read_bytes().startswith(PNG_SIGNATURE)
    with Image.open(png) as image:
        assert image.size == (1100, 750)
        assert "Universitätsstadt Marburg" in image.info["Title"]
    svg = (published / "nutzungsstatistik-marburg-2025.svg").read_bytes()
    root = ElementTree.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert b"Liniendiagramm" in svg and b"<dc:date>" not in svg


# --- idempotence and replacement ----------------------------------------------------------------------


def test_publishing_the_same_exports_again_changes_no_byte(published, tmp_path):
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in published.iterdir()}
    merged = zusammenfuehren(lese_veroeffentlichung(published, "marburg"), _sample_exports(tmp_path))
    result = veroeffentliche(published, merged.werte, merged.jahre, ANGABEN, date(2026, 6, 1))
    assert result.geschrieben == []
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in published.iterdir()} == before


def test_two_fresh_publications_of_the_same_exports_are_byte_identical(tmp_path):
    contents = []
    for name in ("a", "b"):
        merged = zusammenfuehren({}, _sample_exports(tmp_path / f"exporte-{name}", "fulda"))
        veroeffentliche(tmp_path / name, merged.werte, merged.jahre, Angaben("fulda", "Stadt Fulda"), STICHTAG)
        contents.append({p.name: p.read_bytes() for p in (tmp_path / name).iterdir()})
    assert contents[0] == contents[1]
    assert len(contents[0]) == 8


def test_a_corrected_month_replaces_the_published_one_and_updates_modified(published, tmp_path):
    folder = tmp_path / "ziel"
    folder.mkdir()
    for path in published.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    correction, figures = write_correction(tmp_path, "marburg", 2025, month=3)
    merged = zusammenfuehren(lese_veroeffentlichung(folder, "marburg"), [lese_export(correction, PLATTFORMEN[0])])
    assert (merged.neu, merged.ersetzt) == (0, len(figures))
    veroeffentliche(folder, merged.werte, merged.jahre, ANGABEN, date(2026, 2, 1))
    now = lese_veroeffentlichung(folder, "marburg")
    expected = erwartete_werte("marburg", 2025)
    expected.update(figures)
    assert {(k.monat, k.onlinedienst, k.plattform): v for k, v in now.items()} == expected
    meta = json.loads((folder / "nutzungsstatistik-marburg-2025.metadaten.json").read_text(encoding="utf-8"))
    assert meta["dct:modified"] == "2026-02-01"


def test_exports_across_new_year_publish_one_file_set_per_year(tmp_path):
    merged = zusammenfuehren({}, [_export("serviceportal.csv",
                                          ("2024-12", "Briefwahl", "serviceportal", _figures(aufrufe=3)),
                                          ("2025-01", "Briefwahl", "serviceportal", _figures(aufrufe=4)))])
    result = veroeffentliche(tmp_path, merged.werte, merged.jahre, ANGABEN, STICHTAG)
    assert result.jahre == [2024, 2025]
    assert {p.name for p in tmp_path.glob("*.csv")} == {"nutzungsstatistik-marburg-2024.csv",
                                                        "nutzungsstatistik-marburg-2025.csv"}
    package = json.loads((tmp_path / DATAPACKAGE).read_text(encoding="utf-8"))
    assert len(package["resources"]) == 4


def test_without_chart_no_images_are_written(tmp_path):
    merged = zusammenfuehren({}, [_export("c.csv", ("2025-01", "Briefwahl", "civento", _figures(aufrufe=1)))])
    veroeffentliche(tmp_path, merged.werte, merged.jahre, Angaben("giessen", "Gießen", diagramm=False), STICHTAG)
    assert not list(tmp_path.glob("*.png")) and not list(tmp_path.glob("*.svg"))
    assert pruefe_ordner(tmp_path, "giessen")


# --- checks before publishing -------------------------------------------------------------------------


def test_figures_that_break_the_schema_are_not_published_at_all(tmp_path):
    broken = {Schluessel("2025-01", "Briefwahl", "civento"): _figures(aufrufe=-1)}
    with pytest.raises(PublicationError, match=r"nutzungsstatistik-marburg-2025\.csv: Zeile 2, Spalte 'aufrufe'"):
        veroeffentliche(tmp_path, broken, [2025], ANGABEN, STICHTAG)
    assert list(tmp_path.iterdir()) == []


def test_completed_applications_must_equal_their_payment_types(tmp_path):
    broken = {Schluessel("2025-01", "Briefwahl", "civento"): _figures(abgeschlossen=2, zahlung_keine=1,
                                                                      authentifizierung_ohne=2)}
    with pytest.raises(PublicationError, match="Summe von 'zahlungsarten'"):
        veroeffentliche(tmp_path, broken, [2025], ANGABEN, STICHTAG)


def test_the_csv_check_finds_header_type_and_key_problems():
    schema = tableschema()
    header = ",".join(SPALTEN)
    good = "2025-01,Briefwahl,civento," + ",".join(["0"] * len(KENNZAHLEN))
    assert pruefe_csv(f"{header}\r\n{good}\r\n".encode(), schema) == []
    assert "Kopfzeile" in pruefe_csv(b"monat,dienst\r\n", schema)[0]
    problems = pruefe_csv(f"{header}\r\n{good}\r\n{good}\r\n2025-13,,Civento,{','.join(['x'] * len(KENNZAHLEN))}"
                          "\r\n".encode(), schema)
    text = " ".join(problems)
    assert "Primärschlüssel" in text and "kein Monat" in text and "Pflichtwert fehlt" in text
    assert "passt nicht zum Muster" in text and "keine ganze Zahl" in text


def test_a_damaged_publication_is_reported_instead_of_overwritten(published, tmp_path):
    (tmp_path / "nutzungsstatistik-marburg-2025.json").write_text('{"jahr": 2025}', encoding="utf-8")
    with pytest.raises(PublicationError, match=r"passt nicht zum Schema.*Sicherung"):
        lese_veroeffentlichung(tmp_path, "marburg")


def test_a_changed_file_fails_the_folder_check(published, tmp_path):
    for path in published.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    target = tmp_path / "nutzungsstatistik-marburg-2025.csv"
    target.write_bytes(target.read_bytes().replace(b"2025-01,", b"2025-1,", 1))
    with pytest.raises(PublicationError, match=r"kein Monat JJJJ-MM|Prüfsumme"):
        pruefe_ordner(tmp_path)


# --- keywords -----------------------------------------------------------------------------------------


def _config(city: str = "marburg") -> dict:
    return load_robot_config(ROOT / "robots" / city / "nutzungsstatistik" / "config.yaml", project=Project(ROOT))


@pytest.mark.parametrize("city", CITIES)
def test_each_adopting_city_has_a_valid_configuration_and_thin_robot(city):
    config = _config(city)
    assert config["prozess"]["owner"] == "marburg"
    assert config["verarbeitet"] == "verarbeitet" and config["dienstnamen"] == {}
    assert Angaben.aus_konfiguration(config).herausgeber == config["stadt_daten"]["name"]
    tasks = (ROOT / "robots" / city / "nutzungsstatistik" / "tasks.robot").read_text(encoding="utf-8")
    assert "Nutzungszahlen veröffentlichen\n    Publish Usage Figures" in tasks
    assert "*** Keywords ***" not in tasks


def test_the_publication_settings_come_from_the_configuration_and_master_data():
    angaben = Angaben.aus_konfiguration(_config("giessen"))
    assert angaben.herausgeber == "Universitätsstadt Gießen"
    assert angaben.lizenz == "dl-de/by-2-0" and angaben.namensnennung == "Universitätsstadt Gießen"
    assert angaben.webseite.startswith("https://")


def test_the_keywords_publish_file_and_set_aside_as_a_robot_does(tmp_path, monkeypatch):
    monkeypatch.setenv("RATHAUS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RATHAUS_RUN_DIR", str(tmp_path / "lauf"))
    library = Nutzungsstatistik(today="2026-01-15")
    config = _config()
    source = library.resolve_local_folder(config["quelle"])
    target = library.resolve_local_folder(config["ziel"])
    assert source == tmp_path / "home" / "marburg" / "nutzungsstatistik" / "exporte"
    generate(source, "marburg", 2025, bad=True)
    (source / "halb.csv.part").write_text("", encoding="utf-8")
    (source / "verarbeitet").mkdir()
    files = library.find_usage_exports(source)
    assert [f.name for f in files] == ["civento_export_2025-01_2025-06.csv", "civento_export_2025-05_korrektur.csv",
                                       "civento_export_2025-07_2025-12.csv", "serviceportal_2025.csv"]
    exports, malformed = [], {}
    for file in files:
        try:
            exports.append(library.read_usage_export(file, config["plattformen"], config["dienstnamen"]))
        except Exception as error:  # the robot's TRY/EXCEPT
            note = library.set_export_aside(file, str(error), source / "fehlerhaft")
            malformed[file.name] = str(error)
    assert "Zeile 4, Spalte 'Aufrufe'" in note.read_text(encoding="utf-8")
    assert (source / "fehlerhaft" / "civento_export_2025-05_korrektur.csv").is_file()
    result = library.publish_usage_statistics(exports, target, config)
    assert (result.neu, result.ersetzt) == (84, 0)
    for export in exports:
        library.move_export_to_folder(export.datei, source / "verarbeitet")
    assert sorted(p.name for p in source.iterdir() if p.is_file()) == ["halb.csv.part"]
    assert library.validate_published_statistics(target, "marburg") == 6
    lines = library.run_summary_lines(exports, malformed, result, source)
    summary = Process().append_to_run_summary(lines)
    text = summary.read_text(encoding="utf-8")
    assert "Exporte gelesen: 3\n" in text
    assert "Monatswerte: 84 neu, 0 ersetzt, 0 unverändert" in text
    assert re.search(r"Veröffentlicht: nutzungsstatistik-marburg-2025\.csv, nutzungsstatistik-marburg-2025\.json, "
                     r"nutzungsstatistik-marburg-2025\.png, nutzungsstatistik-marburg-2025\.svg", text)
    assert "Fehlerhafte Exporte: 1 (civento_export_2025-05_korrektur.csv)" in text
    assert str(result) == (f"Veröffentlichung in '{target}': 8 Dateien geschrieben, 0 unverändert; "
                           "Monatswerte 84 neu, 0 ersetzt, 0 unverändert")


def test_a_run_without_exports_says_so():
    lines = Nutzungsstatistik().run_summary_lines([], {}, None, "/daten/exporte")
    assert lines == ["Exporte gelesen: 0", "Keine neuen Exporte im Ordner '/daten/exporte'; nichts veröffentlicht."]


def test_moving_an_export_keeps_a_different_file_of_the_same_name(tmp_path):
    library = Nutzungsstatistik()
    folder = tmp_path / "verarbeitet"
    first = write_malformed(tmp_path)
    kept = library.move_export_to_folder(first, folder)
    second = write_malformed(tmp_path, seed=1)
    assert library.move_export_to_folder(second, folder).name == "civento_export_2025-05_korrektur-2.csv"
    same = tmp_path / kept.name
    same.write_bytes(kept.read_bytes())
    assert library.move_export_to_folder(same, folder) == kept and not same.exists()
    assert len(list(folder.iterdir())) == 2

