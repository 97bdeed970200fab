"""Reading the platforms' usage exports (processes/nutzungsstatistik/exporte.py, kennzahlen.py, samples)."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from nutzungsstatistik.exporte import ExportError, Plattform, lese_export, plattform_fuer
from nutzungsstatistik.kennzahlen import KENNZAHLEN, Schluessel, parse_anzahl, parse_monat
from nutzungsstatistik.samples.generate import erwartete_werte, generate, write_malformed
from rathaus.errors import BusinessError

CIVENTO = Plattform("civento", "civento", "civento*.csv")
PORTAL = Plattform("serviceportal", "serviceportal", "serviceportal*.csv")
CIVENTO_HEADER = "Monat;Onlinedienst;Aufrufe;Abgeschlossen;Abgebrochen;Zahlungsart;Authentifizierung"
PORTAL_HEADER = ("date,service,visits,completed,abandoned,payment_none,payment_creditcard,payment_paypal,"
                 "payment_directdebit,payment_invoice,auth_bundid,auth_elster,auth_none")


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _civento(tmp_path: Path, *rows: str, name: str = "civento_test.csv", encoding: str = "cp1252") -> Path:
    return _write(tmp_path, name, "\r\n".join([CIVENTO_HEADER, *rows]) + "\r\n", encoding)


def _portal(tmp_path: Path, *rows: str, name: str = "serviceportal_test.csv") -> Path:
    return _write(tmp_path, name, "\n".join([PORTAL_HEADER, *rows]) + "\n")


def _error(path: Path, plattform: Plattform = CIVENTO) -> ExportError:
    with pytest.raises(ExportError) as caught:
        lese_export(path, plattform)
    return caught.value


# --- cells --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "month"), [
    ("03.2025", "2025-03"), ("3.2025", "2025-03"), ("14.03.2025", "2025-03"), ("2025-03", "2025-03"),
    ("2025-03-14", "2025-03"), ("2025-03-14T08:15:00Z", "2025-03"), ("März 2025", "2025-03"),
    ("Mrz 2025", "2025-03"), ("Okt. 2025", "2025-10"), ("dezember 2025", "2025-12"), (" Juli  2025 ", "2025-07"),
])
def test_month_formats_of_both_platforms_are_understood(text, month):
    assert parse_monat(text) == month


@pytest.mark.parametrize("text", ["13.2025", "2025-02-30", "30.02.2025", "Q1 2025", "2025", "März", "Smarch 2025",
                                  "01.1999", "", "2025/03"])
def test_unknown_or_impossible_months_are_refused(text):
    assert parse_monat(text) is None


@pytest.mark.parametrize(("text", "german", "count"), [
    ("1.234", True, 1234), ("1.234.567", True, 1234567), ("12", True, 12), ("12,0", True, 12), ("1 234", True, 1234),
    ("1\u00a0234", True, 1234), ("0", True, 0), ("1234", False, 1234), ("1,234", False, 1234), ("12.0", False, 12),
])
def test_counts_in_german_and_plain_notation(text, german, count):
    assert parse_anzahl(text, german) == count


@pytest.mark.parametrize(("text", "german"), [
    ("12,5", True), ("-3", True), ("k. A.", True), ("", True), ("1.23", True), ("12.5", False), ("1.234", False),
    ("abc", False), ("+4", False),
])
def test_fractions_signs_and_text_are_no_counts(text, german):
    assert parse_anzahl(text, german) is None


# --- Civento ------------------------------------------------------------------------------------------


def test_civento_rows_are_summed_per_month_and_service_with_types_from_completed(tmp_path):
    path = _civento(
        tmp_path,
        "01.2025;Anwohnerparkausweis;1.210;300;40;Kreditkarte;BundID",
        "01.2025;Anwohnerparkausweis;90;20;5;PayPal;ohne",
        "01.2025;Hundesteuer-Anmeldung;50;10;2;;",
        "02.2025;Anwohnerparkausweis;100;30;4;SEPA-Lastschrift;Nutzerkonto Bund",
        "Summe;;1.450;360;51;;",
    )
    export = lese_export(path, CIVENTO)
    assert export.zeilen == 4
    park = export.werte[Schluessel("2025-01", "Anwohnerparkausweis", "civento")]
    assert (park["aufrufe"], park["abgeschlossen"], park["abgebrochen"]) == (1300, 320, 45)
    assert park["zahlung_kreditkarte"] == 300 and park["zahlung_paypal"] == 20
    assert park["authentifizierung_bundid"] == 300 and park["authentifizierung_ohne"] == 20
    hund = export.werte[Schluessel("2025-01", "Hundesteuer-Anmeldung", "civento")]
    assert hund["zahlung_keine"] == 10 and hund["authentifizierung_ohne"] == 10
    feb = export.werte[Schluessel("2025-02", "Anwohnerparkausweis", "civento")]
    assert feb["zahlung_lastschrift"] == 30 and feb["authentifizierung_bundid"] == 30
    assert list(park) == list(KENNZAHLEN)


def test_byte_order_marks_are_ignored_also_when_garbled_or_before_windows_1252_text(tmp_path):
    text = CIVENTO_HEADER + "\r\n" + "März 2025;Gewerbeanzeige;10;4;1;Rechnung;ELSTER\r\n"
    bom = _write(tmp_path, "civento_bom.csv", "\ufeff" + text)
    # a UTF-8 file with BOM opened as Windows-1252 and saved as UTF-8: the mark became three letters
    garbled = _write(tmp_path, "civento_garbled.csv", codecs.BOM_UTF8.decode("cp1252") + text)
    # a tool that writes a UTF-8 byte order mark before Windows-1252 text
    mixed = tmp_path / "civento_mixed.csv"
    mixed.write_bytes(codecs.BOM_UTF8 + text.encode("cp1252"))
    for path in (bom, garbled, mixed):
        export = lese_export(path, CIVENTO)
        assert export.werte[Schluessel("2025-03", "Gewerbeanzeige", "civento")]["authentifizierung_elster"] == 4


def test_windows_1252_umlauts_are_read_when_the_file_is_not_utf8(tmp_path):
    path = _civento(tmp_path, "März 2025;Müllabfuhr-Sperrmüll;10;4;1;keine;ohne", encoding="cp1252")
    export = lese_export(path, CIVENTO)
    assert export.dienste == ["Müllabfuhr-Sperrmüll"]


def test_extra_columns_are_ignored_and_service_names_can_be_renamed(tmp_path):
    path = _write(tmp_path, "civento_x.csv", "Abbruchquote;" + CIVENTO_HEADER + "\r\n"
                  "12,5;04.2025;Hundesteuer  Anmeldung;10;4;1;keine;BundID\r\n", "cp1252")
    export = lese_export(path, CIVENTO, {"Hundesteuer Anmeldung": "Hundesteuer-Anmeldung"})
    assert export.dienste == ["Hundesteuer-Anmeldung"]


def test_the_text_form_of_an_export_shows_counts_only(tmp_path):
    path = _civento(tmp_path, "01.2025;Anwohnerparkausweis;1.210;300;40;Kreditkarte;BundID")
    text = str(lese_export(path, CIVENTO))
    assert "civento_test.csv" in text and "1 Zeilen" in text and "1 Onlinedienste" in text
    assert "1210" not in text and "Anwohnerparkausweis" not in text


# --- service portal -----------------------------------------------------------------------------------


def test_portal_days_are_summed_into_months(tmp_path):
    path = _portal(
        tmp_path,
        "2025-01-30,Wohnsitzanmeldung,100,40,10,40,0,0,0,0,40,0,0",
        "2025-01-31,Wohnsitzanmeldung,50,20,5,20,0,0,0,0,20,0,0",
        "2025-02-01,Wohnsitzanmeldung,10,2,1,2,0,0,0,0,2,0,0",
        "2025-01-31,Gewerbeanzeige,7,3,1,0,1,2,0,0,0,3,0",
    )
    export = lese_export(path, PORTAL)
    jan = export.werte[Schluessel("2025-01", "Wohnsitzanmeldung", "serviceportal")]
    assert (jan["aufrufe"], jan["abgeschlossen"], jan["abgebrochen"], jan["zahlung_keine"]) == (150, 60, 15, 60)
    gewerbe = export.werte[Schluessel("2025-01", "Gewerbeanzeige", "serviceportal")]
    assert gewerbe["zahlung_paypal"] == 2 and gewerbe["authentifizierung_elster"] == 3
    assert export.monate == ["2025-01", "2025-02"]


def test_the_generated_exports_add_up_to_the_expected_figures(tmp_path):
    paths = generate(tmp_path, "giessen", 2025)
    assert [p.name for p in paths] == ["civento_export_2025-01_2025-06.csv", "civento_export_2025-07_2025-12.csv",
                                       "serviceportal_2025.csv"]
    assert paths[0].read_bytes().decode("cp1252")  # Windows-1252, no UTF-8 BOM
    assert paths[1].read_bytes().startswith(codecs.BOM_UTF8)
    found = {}
    for path in paths:
        found.update(lese_export(path, plattform_fuer(path, [CIVENTO, PORTAL])).werte)
    expected = erwartete_werte("giessen", 2025)
    assert {(k.monat, k.onlinedienst, k.plattform): v for k, v in found.items()} == expected
    assert len(expected) == 12 * 7


def test_samples_are_deterministic_and_differ_by_city(tmp_path):
    first = [p.read_bytes() for p in generate(tmp_path / "a", "marburg", 2025, bad=True)]
    again = [p.read_bytes() for p in generate(tmp_path / "b", "marburg", 2025, bad=True)]
    other = [p.read_bytes() for p in generate(tmp_path / "c", "offenbach", 2025)]
    assert first == again
    assert first[0] != other[0]
    assert len(first) == 4


# --- malformed exports: file, line, column and what to do ------------------------------------------------


def test_a_figure_that_is_no_count_names_file_line_and_column(tmp_path):
    error = _error(write_malformed(tmp_path))
    message = str(error)
    assert message.startswith("Export 'civento_export_2025-05_korrektur.csv' (Plattform civento), Zeile 4, "
                              "Spalte 'Aufrufe': 'k. A.' ist keine Anzahl")
    assert "Bitte" in message
    assert "Anwohnerparkausweis" not in message  # the cell, not the row
    assert error.code == "EXPORT_ZAHL"
    assert isinstance(error, BusinessError)


def test_a_missing_column_names_it_and_the_expected_header(tmp_path):
    path = _write(tmp_path, "civento_x.csv", "Monat;Onlinedienst;Seitenaufrufe;Abgeschlossen;Abgebrochen;"
                  "Zahlungsart;Authentifizierung\r\n01.2025;X;1;1;0;keine;ohne\r\n")
    error = _error(path)
    assert "Zeile 1" in str(error) and "'aufrufe'" in str(error)
    assert CIVENTO_HEADER in str(error)
    assert error.code == "EXPORT_KOPFZEILE"


def test_a_portal_file_under_a_civento_name_gets_a_hint_on_the_separator(tmp_path):
    path = _write(tmp_path, "civento_falsch.csv", PORTAL_HEADER + "\n2025-01-01,X,1,0,0,0,0,0,0,0,0,0,0\n")
    assert "mit ',' statt ';' getrennt" in str(_error(path))


def test_an_unknown_month_format_names_line_and_column(tmp_path):
    path = _civento(tmp_path, "01.2025;A;1;1;0;keine;ohne", "Q1/2025;A;1;1;0;PayPal;ohne")
    error = _error(path)
    assert "Zeile 3, Spalte 'Monat': 'Q1/2025' ist kein bekanntes Monats- oder Datumsformat" in str(error)
    assert error.code == "EXPORT_MONAT"


def test_an_impossible_portal_date_is_refused(tmp_path):
    path = _portal(tmp_path, "2025-02-30,Briefwahl,1,1,0,1,0,0,0,0,0,0,1")
    assert "Zeile 2, Spalte 'date': '2025-02-30'" in str(_error(path, PORTAL))


def test_an_unknown_payment_type_lists_the_known_ones(tmp_path):
    error = _error(_civento(tmp_path, "01.2025;A;1;1;0;Apple Pay;ohne"))
    assert "Spalte 'Zahlungsart': 'Apple Pay' ist keine bekannte Zahlungsart" in str(error)
    assert "kreditkarte" in str(error)
    assert error.code == "EXPORT_KATEGORIE"


def test_a_repeated_row_would_count_twice_and_is_refused(tmp_path):
    error = _error(_civento(tmp_path, "01.2025;A;5;1;0;keine;ohne", "01.2025;B;5;1;0;keine;ohne",
                            "01.2025;A;5;1;0;keine;ohne"))
    assert "Zeile 4: Die Zeile wiederholt Zeile 2" in str(error)
    assert error.code == "EXPORT_DOPPELT"


def test_a_repeated_portal_day_is_refused(tmp_path):
    row = "2025-01-01,Briefwahl,1,1,0,1,0,0,0,0,0,0,1"
    assert "Zeile 3: Die Zeile wiederholt Tag und Onlinedienst aus Zeile 2" in str(_error(_portal(tmp_path, row, row),
                                                                                           PORTAL))


def test_a_totals_row_that_does_not_add_up_reveals_a_truncated_export(tmp_path):
    error = _error(_civento(tmp_path, "01.2025;A;5;1;0;keine;ohne", "Summe;;5;2;0;;"))
    assert "Zeile 3, Spalte 'Abgeschlossen': Die Summenzeile nennt 2, die Zeilen ergeben 1" in str(error)
    assert error.code == "EXPORT_SUMME"


def test_portal_types_must_add_up_to_the_completed_applications(tmp_path):
    error = _error(_portal(tmp_path, "2025-01-01,Briefwahl,10,5,0,5,0,0,0,0,0,0,4"), PORTAL)
    assert "Zeile 2, Spalte 'completed': Die Summe der Authentifizierungen (4)" in str(error)


def test_a_row_with_too_few_cells_is_refused(tmp_path):
    assert "Zeile 2: Die Zeile hat 6 statt 7 Spalten" in str(_error(_civento(tmp_path, "01.2025;A;5;1;0;keine")))


def test_a_service_name_like_a_spreadsheet_formula_is_not_published(tmp_path):
    error = _error(_civento(tmp_path, '01.2025;=HYPERLINK("x");5;1;0;keine;ohne'))
    assert "Spalte 'Onlinedienst'" in str(error) and error.code == "EXPORT_DIENST"


@pytest.mark.parametrize(("name", "content", "code"), [
    ("civento_leer.csv", "", "EXPORT_LEER"),
    ("civento_nur_kopf.csv", CIVENTO_HEADER + "\r\n", "EXPORT_LEER"),
    ("civento_export.xlsx", "PK\x03\x04", "EXPORT_DATEITYP"),
])
def test_empty_files_and_spreadsheets_are_refused(tmp_path, name, content, code):
    assert _error(_write(tmp_path, name, content)).code == code


def test_a_file_that_matches_no_platform_names_the_patterns(tmp_path):
    pattern = r"passt zu keiner Plattform \(Muster: civento\*\.csv, serviceportal\*\.csv\)"
    with pytest.raises(ExportError, match=pattern):
        plattform_fuer(tmp_path / "statistik.csv", [CIVENTO, PORTAL])


def test_undecodable_bytes_with_a_fixed_encoding_name_the_line(tmp_path):
    path = tmp_path / "civento_x.csv"
    path.write_bytes((CIVENTO_HEADER + "\r\n").encode() + b"01.2025;Gr\xfc\xdfe;1;1;0;keine;ohne\r\n")
    error = _error(path, Plattform("civento", "civento", kodierung="utf-8"))
    assert "Zeile 2" in str(error) and error.code == "EXPORT_KODIERUNG"


def test_a_file_too_big_for_an_export_is_refused_without_reading_it_whole(tmp_path, monkeypatch):
    import nutzungsstatistik.exporte as exporte

    monkeypatch.setattr(exporte, "MAX_EXPORT_BYTES", 1024)
    path = _civento(tmp_path, *["03.2025;Anwohnerparkausweis;10;5;5;keine;ohne"] * 100)
    error = _error(path)
    assert error.code == "EXPORT_ZU_GROSS"
    assert str(error).startswith("Export 'civento_test.csv' (Plattform civento): Die Datei ist größer als")
    assert isinstance(error, BusinessError)
